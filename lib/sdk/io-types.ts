/**
 * The types of `ctx.io` (DESIGN §3): the connectors configured in `sluice.yaml`, as block code sees them.
 * Kept here, beside the rest of the SDK, and free of Node-only imports, so that Monaco can show them and
 * blocks bundle nothing for them; the implementations live in lib/io and are built by `createBlockIo`.
 */
import type { RecordBatch, Table } from "apache-arrow";
import type { BlockContext } from "./index";

/** What to do when the destination already exists. */
export type IoWriteMode = "replace" | "append" | "fail";

/** Progress of a read or write: rows so far, bytes of total. */
export interface IoProgress {
  rows?: number;
  bytes?: number;
  totalBytes?: number;
  message?: string;
}

/** Per-call options; `ctx.io` fills in the block's signal and progress reporting when left out. */
export interface IoCallOptions {
  signal?: AbortSignal;
  onProgress?: (progress: IoProgress) => void;
}

export interface IoWriteOptions extends IoCallOptions {
  mode?: IoWriteMode;
  /** Hive-style partitioning (`col=value/`) for file and bucket sinks. */
  partitionBy?: string[];
}

export interface IoWriteResult {
  rows: number;
  /** Where the data went (never containing credentials). */
  location: string;
}

/** A value bound to `$1…$n` of a connector query. */
export type IoParam = string | number | boolean | bigint | Date | null;

/** One connector: read into Arrow, write from Arrow (a Table or a stream of record batches). */
export interface IoConnector<ReadTarget, WriteTarget = ReadTarget> {
  readonly description: string;
  read(target: ReadTarget, options?: IoCallOptions): Promise<Table>;
  stream?(target: ReadTarget, options?: IoCallOptions): AsyncIterable<RecordBatch>;
  write(data: Table | AsyncIterable<RecordBatch>, target: WriteTarget, options?: IoWriteOptions): Promise<IoWriteResult>;
}

/** A table by name (`schema` defaults to the connection's). */
export interface TableRef {
  table: string;
  schema?: string;
}

/** A query with parameters. */
export interface QueryRef {
  sql: string;
  params?: readonly IoParam[];
}

/** `ctx.io.postgres(name?)`: read a query or table, write a table (`schema.table`), run statements. */
export interface PostgresIo extends IoConnector<string | QueryRef | TableRef, string | TableRef> {
  /** Runs a statement (DDL, ELT); returns the affected row count. */
  execute(sql: string, params?: readonly IoParam[]): Promise<number>;
}

/** `ctx.io.duckdb(name?)`: the embedded warehouse file (default `<dataDir>/warehouse.duckdb`). */
export interface DuckDBIo extends IoConnector<string | QueryRef | TableRef, string | TableRef> {
  execute(sql: string): Promise<void>;
}

/** How to parse CSV: explicit DuckDB column types (no guessing), or detected when left out. */
export interface CsvParseOptions {
  columns?: Readonly<Record<string, string>>;
  timestampFormat?: string;
  delimiter?: string;
  header?: boolean;
}

/** A file (`.csv`, `.csv.gz`, `.parquet`, `.arrow`) or a Parquet dataset directory; relative to the profile's root. */
export interface FileRef extends CsvParseOptions {
  path: string;
  format?: "csv" | "parquet" | "arrow";
  compression?: "zstd" | "snappy" | "gzip" | "uncompressed";
}

/** `ctx.io.files`: local files and the Parquet lake. */
export type FilesIo = IoConnector<string | FileRef>;

/** A URL to download and how to parse it. */
export interface UrlRef extends CsvParseOptions {
  url: string;
  format?: "csv" | "parquet" | "arrow";
}

/** `ctx.io.http`: downloads (streamed to disk, retried) parsed into Arrow. */
export interface HttpIo {
  readonly description: string;
  read(target: string | UrlRef, options?: IoCallOptions): Promise<Table>;
  /** Just the download: a local file path, removed by `cleanup()`. */
  download(url: string, options?: IoCallOptions & { gunzip?: boolean }): Promise<{ path: string; bytes: number; cleanup(): Promise<void> }>;
}

/** Object stores and BigQuery (lib/io/cloud): objects and tables named by URI strings (`gs://bucket/key`). */
export type CloudIo = IoConnector<string>;

/** Everything `ctx.io` offers. `gcs`/`s3`/`bigquery` are present when the cloud connectors are installed. */
export interface SluiceIo {
  postgres(name?: string): PostgresIo;
  duckdb(name?: string): DuckDBIo;
  readonly files: FilesIo;
  readonly http: HttpIo;
  gcs?(name?: string): CloudIo;
  s3?(name?: string): CloudIo;
  bigquery?(name?: string): CloudIo;
}

/**
 * `BlockContext` with `ctx.io` typed, for block templates until `BlockIO` itself extends `SluiceIo`
 * (then the two are the same type and templates can take a plain `BlockContext`).
 */
export interface IoBlockContext extends BlockContext {
  readonly io: SluiceIo;
}
