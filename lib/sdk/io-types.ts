/**
 * The types of `ctx.io` (DESIGN §3): the connectors configured in `sluice.yaml`, as block code sees them.
 * Kept here, beside the rest of the SDK, and free of Node-only imports, so that Monaco can show them and
 * blocks bundle nothing for them; the implementations live in lib/io and are built by `createBlockIo`.
 */
import type { RecordBatch, Table } from "apache-arrow";

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

/**
 * What to read from a bucket: an object (`.parquet`, `.csv`, `.csv.gz`) or a Parquet dataset (a prefix ending
 * in `/`). `uri` is `gs://bucket/key` / `s3://bucket/key`, or a bare key in the profile's `bucket`.
 */
export interface ObjectRef {
  uri: string;
  format?: "parquet" | "csv" | "dataset";
  /** CSV: DuckDB column types by name (others detected), delimiter, header. */
  columns?: Readonly<Record<string, string>>;
  delimiter?: string;
  header?: boolean;
  /** Datasets written by other tools whose files omit the partition columns: take them from `col=value/` paths. */
  hivePartitioning?: boolean;
}

/** One listed object. */
export interface ObjectEntry {
  /** `gs://bucket/key` (or `s3://…`). */
  uri: string;
  key: string;
  size: number;
}

/**
 * `ctx.io.gcs(name?)` / `ctx.io.s3(name?)`: a bucket. `read` an object or a dataset into Arrow; `write` Arrow as a
 * (hive-partitioned, with `partitionBy`) Parquet dataset under a prefix (`replace` deletes the prefix's older
 * objects after the upload, `append` adds files, `fail` refuses a non-empty prefix). Object URIs may be bare
 * keys when the profile names a `bucket`.
 */
export interface ObjectStoreIo extends IoConnector<string | ObjectRef, string> {
  /** `gs://<bucket>/<key>` for a key in the profile's bucket (or the URI itself when it already has a scheme). */
  uri(key?: string): string;
  /** Uploads a local file, streamed. */
  upload(localPath: string, uri: string, options?: IoCallOptions): Promise<{ bytes: number }>;
  /** Downloads an object to a local file, streamed. */
  download(uri: string, localPath: string, options?: IoCallOptions): Promise<{ bytes: number }>;
  /** Objects under a prefix (every page); with `delimiter`, the common prefixes too. */
  list(prefix: string, options?: { delimiter?: string }): Promise<{ objects: ObjectEntry[]; prefixes: string[] }>;
  delete(uri: string): Promise<void>;
}

/** A BigQuery query, optionally with a default dataset for unqualified table names (default: the profile's `dataset`). */
export interface BigQueryQueryRef {
  query: string;
  defaultDataset?: string;
}

export interface BigQueryLoadOptions extends IoCallOptions {
  /** `replace` = WRITE_TRUNCATE (re-runs replace the table), `append` = WRITE_APPEND, `fail` = WRITE_EMPTY. */
  mode?: IoWriteMode;
  format?: "parquet" | "csv";
}

export interface BigQueryLoadResult {
  jobId: string;
  rows: number;
  table: string;
}

/**
 * `ctx.io.bigquery(name?)`: `read` runs a query into Arrow; `write` loads Arrow into a table; `loadFromGcs`
 * loads Parquet (or CSV) objects already in GCS. Tables are `dataset.table`, or a bare `table` in the
 * profile's `dataset`; the dataset is created when missing.
 */
export interface BigQueryIo extends IoConnector<string | BigQueryQueryRef, string> {
  /** `uris`: objects, `*` wildcards, or a dataset prefix ending in `/` (all Parquet objects under it). */
  loadFromGcs(uris: string | readonly string[], table: string, options?: BigQueryLoadOptions): Promise<BigQueryLoadResult>;
  /** Loads a local Parquet or CSV file. */
  loadFromFile(path: string, table: string, options?: BigQueryLoadOptions): Promise<BigQueryLoadResult>;
  ensureDataset(dataset?: string): Promise<void>;
  deleteTable(table: string): Promise<void>;
}

/** Everything `ctx.io` offers; each connection is created on first use from `sluice.yaml`. */
export interface SluiceIo {
  postgres(name?: string): PostgresIo;
  duckdb(name?: string): DuckDBIo;
  readonly files: FilesIo;
  readonly http: HttpIo;
  gcs(name?: string): ObjectStoreIo;
  s3(name?: string): ObjectStoreIo;
  bigquery(name?: string): BigQueryIo;
}
