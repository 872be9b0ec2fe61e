/**
 * Exporter: the input as a Parquet lake, written per run so that schedules and backfills never collide.
 * With `partition_by` (a column, e.g. the pickup day): hive-style `col=value/` partitions, and `replace`
 * swaps only the partitions the data has rows for — other dates stay as they are. Without it: one file per
 * logical date, `<path>/date=YYYY-MM-DD/part.parquet` (the UTC day of the run's logical date), replaced by a
 * re-run of that date only. Every file is written beside its target and renamed into place (atomic).
 * `append` adds files instead, `fail` refuses an existing target.
 * Variables: `path`, `partition_by`, `mode`.
 * @sluice expects: table — its upstream's output arrives as `input`.
 */
import type { Table } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";

export default async function save(input: Table, ctx: BlockContext): Promise<void> {
  const path = String(ctx.variables.path ?? "lake/green_trips");
  const partition = String(ctx.variables.partition_by ?? "");
  const mode = ctx.variables.mode === "append" || ctx.variables.mode === "fail" ? ctx.variables.mode : "replace";
  const result =
    partition === ""
      ? await ctx.io.files.write(input, `${path}/date=${ctx.logicalDate.toISOString().slice(0, 10)}/${mode === "append" ? "" : "part.parquet"}`, { mode })
      : await ctx.io.files.write(input, path, { mode, partitionBy: [partition], partitionOverwrite: mode === "replace" ? "partitions" : undefined });
  ctx.log.info(`wrote ${result.rows} rows to ${result.location}`);
}
