import path from "node:path";
import type { Table } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";

/**
 * Writes the summary as one Parquet file per logical date, `<output_dir>/fares_by_borough/date=YYYY-MM-DD/part.parquet`
 * (the UTC day of the run's logical date; a run started by hand stands for today). A run replaces only its own
 * date's file, atomically (written beside it, then renamed over it), so backfills and concurrent runs never
 * collide and a re-run of one date leaves every other date as it was.
 */
export default async function save(input: Table, ctx: BlockContext): Promise<void> {
  const day = ctx.logicalDate.toISOString().slice(0, 10);
  const file = path.join(String(ctx.variables.output_dir), "fares_by_borough", `date=${day}`, "part.parquet");
  const result = await ctx.io.files.write(input, file, { mode: "replace" });
  ctx.log.info(`wrote ${result.rows} rows to ${result.location}`);
}
