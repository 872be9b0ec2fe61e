/**
 * What the output store keeps for every block run: the data (Arrow IPC file for TypeScript blocks,
 * Parquet for SQL blocks, written by DuckDB) and a summary computed once when it is written.
 */

export type OutputFormat = "arrow" | "parquet";

export interface ColumnSummary {
  name: string;
  /** Arrow type as text, e.g. `Timestamp<MICROSECOND>`, `Utf8`, `Float64`. */
  type: string;
  nulls: number;
  /** JSON-safe rendering: numbers stay numbers (bigints beyond 2^53 become strings), timestamps ISO strings. */
  min: string | number | boolean | null;
  max: string | number | boolean | null;
  /** Approximate count of distinct non-null values. */
  distinct: number;
  /** Distribution of the non-null values of numeric, date and timestamp columns with a finite min and max; absent otherwise. */
  histogram?: ColumnHistogram;
}

/**
 * Equal-width bins between a column's min and max (see `planHistogram`). Bin `i` holds the values in
 * `[edges[i], edges[i + 1])`; the last bin also holds its upper edge. NaN and nulls are left out, so the
 * counts add up to the non-null, non-NaN values.
 *
 * Edges are JSON numbers: the values themselves for `kind: "number"`, epoch milliseconds (UTC) for
 * `kind: "time"` (dates and timestamps, whatever their unit; a client renders them as it likes, and
 * numbers are smaller and cheaper to compute than ISO strings).
 */
export interface ColumnHistogram {
  kind: "number" | "time";
  /** `counts.length + 1` ascending edges. */
  edges: number[];
  counts: number[];
}

/** How many bins a histogram has at most. */
export const HISTOGRAM_BINS = 20;

/**
 * The bins of a column, in the column's own unit (days for dates, the timestamp unit for timestamps).
 * `bins` equal bins of `width` starting at `low`.
 */
export interface HistogramPlan {
  low: number;
  high: number;
  width: number;
  bins: number;
  integral: boolean;
}

/**
 * The bins for values in `[low, high]`, the one definition both summaries (Arrow and SQL) follow so that
 * they agree exactly. Integral columns (integers, dates, timestamps) get an integral width, so that every
 * bin holds the same number of possible values: `[1, 5]` gives five bins of width 1 (edges 1…6), a single
 * value `v` one bin `[v, v + 1)`; the last edge may then pass `high` by less than one width. Other columns
 * get `HISTOGRAM_BINS` bins from `low` to `high` exactly, or one empty-width bin when `low === high`.
 * Null when there is nothing to bin (no values, or an infinite bound).
 */
export function planHistogram(low: number, high: number, integral: boolean): HistogramPlan | null {
  if (!Number.isFinite(low) || !Number.isFinite(high) || low > high) return null;
  if (integral) {
    const span = high - low + 1;
    const width = Math.ceil(span / HISTOGRAM_BINS);
    return { low, high, width, bins: Math.ceil(span / width), integral };
  }
  if (low === high) return { low, high, width: 0, bins: 1, integral };
  return { low, high, width: (high - low) / HISTOGRAM_BINS, bins: HISTOGRAM_BINS, integral };
}

/**
 * The bin of `value` (which must lie in the plan's range). The arithmetic is spelled out so that DuckDB
 * can do the same in double precision: `least(floor((value - low) / width), bins - 1)`.
 */
export function binOf(plan: HistogramPlan, value: number): number {
  if (plan.bins === 1) return 0;
  const bin = Math.floor((value - plan.low) / plan.width);
  return bin < plan.bins ? bin : plan.bins - 1;
}

/** A column unit → histogram edge unit conversion (days → epoch ms, for example). */
export type EdgeUnit = (value: number) => number;

/** Epoch values in an Arrow time unit (0 = s, 1 = ms, 2 = µs, 3 = ns) → epoch milliseconds. */
export function epochToMs(unit: 0 | 1 | 2 | 3): EdgeUnit {
  switch (unit) {
    case 0:
      return (value) => value * 1000;
    case 1:
      return (value) => value;
    case 2:
      return (value) => value / 1000;
    case 3:
      return (value) => value / 1_000_000;
  }
}

export const DAY_MS = 86_400_000;

/** The histogram of a plan and its counts, edges converted by `toEdge`. The last edge of a non-integral plan is `high` itself. */
export function makeHistogram(plan: HistogramPlan, counts: number[], kind: ColumnHistogram["kind"], toEdge: EdgeUnit): ColumnHistogram {
  const edges: number[] = [];
  for (let i = 0; i < plan.bins; i++) edges.push(toEdge(plan.low + i * plan.width));
  edges.push(toEdge(plan.integral ? plan.low + plan.bins * plan.width : plan.high));
  return { kind, edges, counts };
}

export interface OutputSummary {
  rows: number;
  /** Size of the persisted file. */
  bytes: number;
  columns: ColumnSummary[];
}

/** A persisted block output. Paths are absolute. */
export interface OutputRef {
  runId: string;
  block: string;
  format: OutputFormat;
  path: string;
}

export interface OutputRecord {
  ref: OutputRef;
  summary: OutputSummary;
}

export interface OutputPage {
  columns: { name: string; type: string }[];
  totalRows: number;
  offset: number;
  /** Rows as JSON-safe records: timestamps as ISO strings, bigints as numbers when safe else strings, nulls as null. */
  rows: Record<string, unknown>[];
}

/**
 * The part of the output store the block runtime writes through. Implemented by `OutputStore`
 * (lib/store/output-store.ts); the runtime never picks paths itself.
 */
export interface OutputWriter {
  /** Persists a TypeScript block's output, given as Arrow IPC (stream or file format) bytes; computes the summary. Atomic. */
  writeArrow(runId: string, block: string, ipc: Uint8Array): Promise<OutputRecord>;
  /** A fresh temporary path, on the same filesystem as the final one, where DuckDB may `COPY … TO` a Parquet file. */
  tempParquetPath(runId: string, block: string): string;
  /** Moves a finished Parquet file into place (atomic rename) and records its summary (`bytes` is filled in here). */
  commitParquet(runId: string, block: string, tempPath: string, summary: Omit<OutputSummary, "bytes">): Promise<OutputRecord>;
}
