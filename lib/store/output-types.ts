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
