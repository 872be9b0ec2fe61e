/**
 * Loader: a Parquet file, a CSV(.gz), an Arrow file, or a whole (hive-partitioned) Parquet dataset
 * directory. Relative paths resolve against the `files` profile's `root` (default: the project).
 * Variables: `path`.
 * @sluice expects: nothing — a loader has no upstream.
 */
import type { Table } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";

export default async function load(ctx: BlockContext): Promise<Table> {
  const path = String(ctx.variables.path ?? "lake/green_trips");
  const table = await ctx.io.files.read(path);
  ctx.log.info(`read ${table.numRows} rows from ${path}`);
  return table;
}
