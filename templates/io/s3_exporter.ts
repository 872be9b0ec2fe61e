/**
 * Exporter: the input to Amazon S3 (or an S3-compatible store: MinIO, R2) as a Parquet dataset, written per
 * run so that schedules and backfills never collide. With `partition_by` (a column, e.g. the pickup day):
 * hive-style partitions (`s3://bucket/prefix/col=value/part-….parquet`), and `replace` swaps only the
 * partitions the data has rows for. Without it: one prefix per logical date, `prefix/date=YYYY-MM-DD/` (UTC),
 * replaced by a re-run of that date only. `replace` uploads the new files, then deletes the older objects it
 * replaces; `append` adds files; `fail` refuses a prefix that holds anything.
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
 * @sluice expects: table — its upstream's output arrives as `input`.
 */
import type { Table } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";

export default async function save(input: Table, ctx: BlockContext): Promise<void> {
  const uri = String(ctx.variables.s3_uri ?? "green_taxi/").replace(/\/*$/, "/");
  const partition = String(ctx.variables.partition_by ?? "");
  const mode = ctx.variables.mode === "append" || ctx.variables.mode === "fail" ? ctx.variables.mode : "replace";
  const result =
    partition === ""
      ? await ctx.io.s3().write(input, `${uri}date=${ctx.logicalDate.toISOString().slice(0, 10)}/`, { mode })
      : await ctx.io.s3().write(input, uri, { mode, partitionBy: [partition], partitionOverwrite: mode === "replace" ? "partitions" : undefined });
  ctx.log.info(`wrote ${result.rows} rows to ${result.location}`);
}
