import type { RecordBatch, Table } from "apache-arrow";
import type { UpstreamRef } from "../sdk/io-types";

export type { UpstreamRef };

/**
 * Connectors: every source and sink reads into Arrow and writes from Arrow
 * behind this one shape, so one contract suite checks them all and blocks reach them as `ctx.io.*`.
 */

/** What to do when the destination already exists. */
export type WriteMode = "replace" | "append" | "fail";

export interface IoOptions {
  signal?: AbortSignal;
  /** Progress while reading or writing: rows so far, bytes of total. */
  onProgress?: (progress: { rows?: number; bytes?: number; totalBytes?: number; message?: string }) => void;
}

export interface WriteOptions extends IoOptions {
  mode?: WriteMode;
  /** Hive-style partitioning (`col=value/`) for file and bucket sinks. */
  partitionBy?: string[];
  /** With `partitionBy` and `replace`: the whole dataset (default), or only the partitions the data has rows for. */
  partitionOverwrite?: "dataset" | "partitions";
}

export interface WriteResult {
  rows: number;
  /** Where the data went, for logs (never containing credentials). */
  location: string;
}

/**
 * The read half of a connector, for sources that cannot be written (HTTP). `ArrowConnector` extends it.
 */
export interface ArrowSource<ReadTarget> {
  /** The connector kind and profile name, for error messages: `http "default"`. */
  readonly description: string;
  read(target: ReadTarget, options?: IoOptions): Promise<Table>;
  stream?(target: ReadTarget, options?: IoOptions): AsyncIterable<RecordBatch>;
  close?(): Promise<void>;
}

/**
 * A connector for one kind of target. `Target` names what to read or write: a table name, a query,
 * an object URI or path. Large sources also offer `stream` so blocks need not hold everything at once.
 */
export interface ArrowConnector<ReadTarget, WriteTarget = ReadTarget> extends ArrowSource<ReadTarget> {
  /** The connector kind and profile name, for error messages: `postgres "warehouse"`. */
  readonly description: string;
  read(target: ReadTarget, options?: IoOptions): Promise<Table>;
  stream?(target: ReadTarget, options?: IoOptions): AsyncIterable<RecordBatch>;
  write(data: Table | AsyncIterable<RecordBatch>, target: WriteTarget, options?: WriteOptions): Promise<WriteResult>;
  close?(): Promise<void>;
}

/** What `files`, `postgres` and the DuckDB warehouse write: Arrow, or an upstream's persisted output by reference. */
export type WriteData = Table | AsyncIterable<RecordBatch> | UpstreamRef;

/** Whether `data` is an upstream by reference (`ctx.upstream(name)`), checked structurally: it crossed no process boundary as a class. */
export function isUpstreamRef(data: unknown): data is UpstreamRef {
  if (typeof data !== "object" || data === null) return false;
  const record = data as Record<string, unknown>;
  return record.kind === "upstream" && typeof record.name === "string" && typeof record.path === "string" && (record.format === "parquet" || record.format === "arrow");
}
