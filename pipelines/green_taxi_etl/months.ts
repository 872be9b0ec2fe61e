import { Table, Utf8, vectorFromArray } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";
import { tripSlice } from "./trip_slice";

/**
 * The monthly green taxi files of the run's slice (trip_slice.ts: the data interval's days, or `year`/`months`
 * for a run without one), one row per month: `month` (YYYY-MM, the instance key), `url`, and the pickup days the
 * slice keeps, `pickup_from`/`pickup_to` (`[from, to)`, empty for every trip of the files).
 *
 * A dynamic block: each row becomes one instance of green_files (`green_files[2020-10]`…), which fetches that
 * month's file — the months download in parallel, and a failed download retries alone. No months (`months: []`)
 * means no instances: green_files and everything after it end `skipped`.
 */
export default async function months(ctx: BlockContext): Promise<Table> {
  const base = String(ctx.variables.base_url).replace(/\/+$/, "");
  const slice = tripSlice(ctx);
  const days = slice.days ? ` (pickups in [${slice.days.from}, ${slice.days.to}))` : "";
  ctx.log.info(slice.months.length === 0 ? "no months in the slice: nothing to load" : `${slice.months.length} monthly files: ${slice.months.join(", ")}${days}`);
  const each = <T>(value: T) => slice.months.map(() => value);
  return new Table({
    month: vectorFromArray(slice.months, new Utf8()),
    url: vectorFromArray(
      slice.months.map((month) => `${base}/green_tripdata_${month}.csv.gz`),
      new Utf8(),
    ),
    pickup_from: vectorFromArray(each(slice.days?.from ?? ""), new Utf8()),
    pickup_to: vectorFromArray(each(slice.days?.to ?? ""), new Utf8()),
  });
}
