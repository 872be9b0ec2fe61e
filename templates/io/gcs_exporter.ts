/**
 * Exporter: the input to Google Cloud Storage as a Parquet dataset, written per run so that schedules and
 * backfills never collide. With `partition_by` (a column, e.g. the pickup day): hive-style partitions
 * (`gs://bucket/prefix/col=value/part-….parquet`), and `replace` swaps only the partitions the data has rows
 * for. Without it: one prefix per logical date, `prefix/date=YYYY-MM-DD/` (UTC), replaced by a re-run of that
 * date only. `replace` uploads the new files first, then deletes the older objects it replaces (a failed upload
 * leaves the old data readable); `append` adds files; `fail` refuses a prefix that holds anything.
 * Profile (sluice.yaml):
 *   connections:
 *     lake: { kind: gcs, bucket: my-bucket, project_id: my-project, credentials_json: "{{ env_var('GCP_KEY_JSON') }}" }
 * (without credentials_json / credentials_file, Application Default Credentials apply).
 * Variables: `gcs_uri` (gs://bucket/prefix/, or a prefix in the profile's bucket), `partition_by`, `mode`.
 * @sluice expects: table — its upstream's output arrives as `input`.
 */
import type { Table } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";

export default async function save(input: Table, ctx: BlockContext): Promise<void> {
  const uri = String(ctx.variables.gcs_uri ?? "green_taxi/").replace(/\/*$/, "/");
  const partition = String(ctx.variables.partition_by ?? "");
  const mode = ctx.variables.mode === "append" || ctx.variables.mode === "fail" ? ctx.variables.mode : "replace";
  const result =
    partition === ""
      ? await ctx.io.gcs().write(input, `${uri}date=${ctx.logicalDate.toISOString().slice(0, 10)}/`, { mode })
      : await ctx.io.gcs().write(input, uri, { mode, partitionBy: [partition], partitionOverwrite: mode === "replace" ? "partitions" : undefined });
  ctx.log.info(`wrote ${result.rows} rows to ${result.location}`);
}
