import type { BlockContext } from "@sluice/sdk";

/**
 * What one run of green_taxi_etl covers — its slice — shared by the loader and the exporters, so each
 * exporter replaces exactly what the loader read and nothing else.
 *
 * - A run with a data interval (a schedule or a backfill): the trips picked up on the UTC days the interval
 *   touches, read from the monthly files of those days. A monthly schedule loads its month's file; a daily
 *   one the day's trips from that month's file.
 * - A run without one (started by hand, by the CLI or an API trigger): every trip of the files `year` and
 *   `months` name (by default the three Q4-2020 months; none for `months: []`).
 *
 * Rows are owned by (pickup day, source month): a file also holds a few trips picked up in a neighbouring
 * month, and those stay with the file they came from, so no two slices ever claim the same row.
 */
export interface TripSlice {
  /** The monthly files to read, as `YYYY-MM`. */
  months: string[];
  /** The pickup days kept, `[from, to)` as `YYYY-MM-DD`; null keeps every trip of the files. */
  days: { from: string; to: string } | null;
}

const DAY_MS = 86_400_000;

export function tripSlice(ctx: Pick<BlockContext, "dataInterval" | "variables">): TripSlice {
  const start = ctx.dataInterval.start.getTime();
  const end = ctx.dataInterval.end.getTime();
  if (end > start) {
    const fromMs = Math.floor(start / DAY_MS) * DAY_MS;
    const toMs = Math.ceil(end / DAY_MS) * DAY_MS;
    const months = new Set<string>();
    for (let day = fromMs; day < toMs; day += DAY_MS) months.add(new Date(day).toISOString().slice(0, 7));
    return { months: [...months], days: { from: isoDay(fromMs), to: isoDay(toMs) } };
  }
  const year = Number(ctx.variables.year);
  const listed = ctx.variables.months;
  // An empty list is allowed on purpose: a run with no months loads nothing (its download blocks are skipped).
  if (!Number.isInteger(year) || !Array.isArray(listed)) {
    throw new Error("variables year (e.g. 2020) and months (e.g. [10, 11, 12]) name the files a run without a data interval loads");
  }
  return { months: listed.map((m) => `${year}-${String(Number(m)).padStart(2, "0")}`), days: null };
}

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
