/**
 * Exporter: the input to Google Cloud Storage as a Parquet dataset, partitioned hive-style
 * (`gs://bucket/prefix/col=value/part-….parquet`) when `partition_by` names a column. `replace` uploads the new
 * files, then deletes the prefix's older objects (a failed upload leaves the old dataset readable); `append`
 * adds files; `fail` refuses a prefix that holds anything.
 * Profile (sluice.yaml):
 *   connections:
 *     lake: { kind: gcs, bucket: my-bucket, project_id: my-project, credentials_json: "{{ env_var('GCP_KEY_JSON') }}" }
 * (without credentials_json / credentials_file, Application Default Credentials apply).
 * Variables: `gcs_uri` (gs://bucket/prefix/, or a prefix in the profile's bucket), `partition_by`, `mode`.
 */
import type { Table } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";

export default async function save(input: Table, ctx: BlockContext): Promise<void> {
  const uri = String(ctx.variables.gcs_uri ?? "green_taxi/");
  const partition = String(ctx.variables.partition_by ?? "");
  const mode = ctx.variables.mode === "append" || ctx.variables.mode === "fail" ? ctx.variables.mode : "replace";
  const result = await ctx.io.gcs().write(input, uri, { mode, partitionBy: partition === "" ? [] : [partition] });
  ctx.log.info(`wrote ${result.rows} rows to ${result.location}`);
}
