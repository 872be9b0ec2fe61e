/**
 * Exporter: the input as a Parquet lake, partitioned hive-style (`col=value/`), written atomically (temp
 * dir + rename): `replace` swaps the whole dataset, `append` adds files, `fail` refuses an existing one.
 * Variables: `path`, `partition_by` (a column name; empty for one file per write), `mode`.
 */
import type { Table } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";

export default async function save(input: Table, ctx: BlockContext): Promise<void> {
  const path = String(ctx.variables.path ?? "lake/green_trips");
  const partition = String(ctx.variables.partition_by ?? "");
  const mode = ctx.variables.mode === "append" || ctx.variables.mode === "fail" ? ctx.variables.mode : "replace";
  const result = await ctx.io.files.write(input, path, { mode, partitionBy: partition === "" ? [] : [partition] });
  ctx.log.info(`wrote ${result.rows} rows to ${result.location}`);
}
