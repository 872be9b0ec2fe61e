import { readdir, rm } from "node:fs/promises";
import path from "node:path";
import type { Table } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";
import { tripSlice } from "./trip_slice";

/**
 * Writes the cleaned trips as a hive-style Parquet lake,
 * `<lake_dir>/lpep_pickup_date=YYYY-MM-DD/source_month=YYYY-MM/data_0.parquet`, replacing only the run's
 * slice (trip_slice.ts; the first input, green_files, lists it): each partition the data has rows for is
 * swapped atomically (renamed over the old file), and the slice's partitions that no longer have rows are
 * removed. Every other partition — other dates of a backfill, other runs writing at the same time — stays.
 *
 * `clean_trips` is written by reference (`ctx.upstream`): DuckDB's partitioned writer reads the run's
 * persisted Parquet output directly, so the trips never become an Arrow table in this block.
 */
export default async function save(_files: Table, ctx: BlockContext): Promise<void> {
  const dir = path.resolve(String(ctx.variables.lake_dir));
  const trips = ctx.upstream("clean_trips");
  const result = await ctx.io.files.write(trips, dir, { mode: "replace", partitionBy: ["lpep_pickup_date", "source_month"], partitionOverwrite: "partitions" });
  const written = await ctx.sql("SELECT DISTINCT CAST(lpep_pickup_date AS VARCHAR) AS day, source_month FROM clean_trips");
  const kept = new Set<string>();
  for (let i = 0; i < written.numRows; i++) kept.add(`lpep_pickup_date=${written.getChild("day")?.get(i)}/source_month=${written.getChild("source_month")?.get(i)}`);
  const removed = await removeEmptiedPartitions(dir, tripSlice(ctx), kept);
  ctx.log.info(`wrote ${result.rows} rows to ${kept.size} partitions of ${dir}${removed > 0 ? `, removed ${removed} emptied partitions` : ""}`);
}

/** The slice's partitions on disk that this run has no rows for (a re-run after the source lost rows). */
async function removeEmptiedPartitions(dir: string, slice: ReturnType<typeof tripSlice>, kept: Set<string>): Promise<number> {
  let removed = 0;
  const days = await readdir(dir).catch(() => []);
  for (const day of days) {
    const date = day.startsWith("lpep_pickup_date=") ? day.slice("lpep_pickup_date=".length) : null;
    if (date === null || (slice.days !== null && (date < slice.days.from || date >= slice.days.to))) continue;
    for (const month of slice.months) {
      const partition = `${day}/source_month=${month}`;
      if (kept.has(partition)) continue;
      const existed = (await readdir(path.join(dir, day))).includes(`source_month=${month}`);
      if (!existed) continue;
      await rm(path.join(dir, partition), { recursive: true, force: true });
      removed++;
    }
  }
  return removed;
}
