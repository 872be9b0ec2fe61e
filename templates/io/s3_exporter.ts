/**
 * Exporter: the input to Amazon S3 (or an S3-compatible store: MinIO, R2) as a Parquet dataset, partitioned
 * hive-style (`s3://bucket/prefix/col=value/part-….parquet`) when `partition_by` names a column. `replace`
 * uploads the new files, then deletes the prefix's older objects; `append` adds files; `fail` refuses a
 * prefix that holds anything.
 * Profile (sluice.yaml):
 *   connections:
 *     raw:
 *       kind: s3
 *       bucket: my-bucket
 *       region: eu-west-1
 *       access_key_id: "{{ env_var('AWS_ACCESS_KEY_ID') }}"
 *       secret_access_key: "{{ env_var('AWS_SECRET_ACCESS_KEY') }}"
 *       # endpoint: http://localhost:9000   (S3-compatible stores; path-style URLs are then used)
 * (without keys, the AWS SDK's default credential chain applies).
 * Variables: `s3_uri` (s3://bucket/prefix/, or a prefix in the profile's bucket), `partition_by`, `mode`.
 */
import type { Table } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";

export default async function save(input: Table, ctx: BlockContext): Promise<void> {
  const uri = String(ctx.variables.s3_uri ?? "green_taxi/");
  const partition = String(ctx.variables.partition_by ?? "");
  const mode = ctx.variables.mode === "append" || ctx.variables.mode === "fail" ? ctx.variables.mode : "replace";
  const result = await ctx.io.s3().write(input, uri, { mode, partitionBy: partition === "" ? [] : [partition] });
  ctx.log.info(`wrote ${result.rows} rows to ${result.location}`);
}
