/**
 * The types of `ctx.io`: the connectors configured in `sluice.yaml`, as block code sees them.
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
  /** Stops the call when aborted; by default the block's own signal (cancel, timeout). */
  signal?: AbortSignal;
  /** Rows and bytes so far; by default shown as the block's progress in the editor and the CLI. */
  onProgress?: (progress: IoProgress) => void;
  /** Warnings of a read (rows `on_bad_rows` skipped or padded, an empty result); by default a warn line in the block log. */
  onWarning?: (message: string) => void;
}

/**
 * Rows that do not fit (the wrong number of fields, a value that does not parse as its column's type):
 * `fail` (the default) fails the read naming the file and line; `skip` drops them; `null_pad` fills missing
 * trailing fields with NULL. A tolerant read logs how many rows it rejected, with the first few.
 */
export type OnBadRows = "fail" | "skip" | "null_pad";

export interface IoWriteOptions extends IoCallOptions {
  /** When the destination exists: `replace` it (the default), `append` to it, or `fail`. */
  mode?: IoWriteMode;
  /** Hive-style partitioning (`col=value/`) for file and bucket sinks. */
  partitionBy?: string[];
  /**
   * With `partitionBy` and mode `replace`: `dataset` (the default) replaces the whole dataset; `partitions`
   * replaces only the partitions the data has rows for and keeps every other one, so runs that each write
   * their own dates (a backfill) never touch each other's files.
   */
  partitionOverwrite?: "dataset" | "partitions";
}

export interface IoWriteResult {
  /** Rows written. */
  rows: number;
  /** Where the data went (never containing credentials). */
  location: string;
}

/** A value bound to `$1…$n` of a connector query. */
export type IoParam = string | number | boolean | bigint | Date | null;

/**
 * An upstream's output by reference (`ctx.upstream("clean_trips")`): the file the run persisted it to, which
 * `ctx.io.files`, `ctx.io.postgres(…)` and `ctx.io.duckdb(…)` write from with DuckDB, chunk by chunk, without
 * turning it into an Arrow table in the block (a partitioned lake through DuckDB's own partitioned writer,
 * Postgres through binary COPY streams encoded from DuckDB's chunks).
 */
export interface UpstreamRef {
  readonly kind: "upstream";
  /** The upstream block's name. */
  readonly name: string;
  /** The persisted output: Parquet (SQL blocks) or an Arrow IPC file (TypeScript blocks). */
  readonly path: string;
  readonly format: "parquet" | "arrow";
}

/** What a connector writes: an Arrow table, a stream of record batches, or an upstream by reference (files, postgres, duckdb). */
export type WriteData = Table | AsyncIterable<RecordBatch> | UpstreamRef;

/** One connector: read into Arrow, write from Arrow (a Table or a stream of record batches). */
export interface IoConnector<ReadTarget, WriteTarget = ReadTarget> {
  /** The connector and connection name as messages show them (`postgres "default"`), never a credential. */
  readonly description: string;
  /** Reads the whole target into one Arrow table. */
  read(target: ReadTarget, options?: IoCallOptions): Promise<Table>;
  /** Reads the target as record batches, for data larger than memory (not every connector offers it). */
  stream?(target: ReadTarget, options?: IoCallOptions): AsyncIterable<RecordBatch>;
  /** Writes a table, or a stream of record batches as it arrives. */
  write(data: Table | AsyncIterable<RecordBatch>, target: WriteTarget, options?: IoWriteOptions): Promise<IoWriteResult>;
}

/** A table by name (`schema` defaults to the connection's). */
export interface TableRef {
  table: string;
  /** Default: the connection's `schema` (Postgres), `main` (DuckDB). */
  schema?: string;
}

/** A query with parameters. */
export interface QueryRef {
  sql: string;
  /** Bound to `$1…$n` of `sql`, never pasted into it. */
  params?: readonly IoParam[];
}

export interface PostgresWriteOptions extends IoWriteOptions {
  /**
   * With mode `replace`: replace only the rows matching this condition (a SQL boolean expression over the
   * table's columns, `$1…$n` bound to `params`) instead of the whole table. The matching rows are deleted and
   * the data inserted in one transaction, and every row of the data must match the condition, so one run
   * rewrites exactly its own slice (a day, a month) and a re-run of it changes nothing else.
   */
  replaceWhere?: QueryRef;
}

/** `ctx.io.postgres(name?)`: read a query or table, write a table (`schema.table`), run statements. */
export interface PostgresIo extends IoConnector<string | QueryRef | TableRef, string | TableRef> {
  /** Writes a table, a stream of batches, or an upstream by reference (`ctx.upstream(name)`: parallel binary COPY streams). */
  write(data: WriteData, target: string | TableRef, options?: PostgresWriteOptions): Promise<IoWriteResult>;
  /** Runs a statement (DDL, ELT); returns the affected row count. */
  execute(sql: string, params?: readonly IoParam[]): Promise<number>;
}

/** `ctx.io.duckdb(name?)`: the embedded warehouse file (default `<dataDir>/warehouse.duckdb`). */
export interface DuckDBIo extends IoConnector<string | QueryRef | TableRef, string | TableRef> {
  /** Writes a table, a stream of batches, or an upstream by reference (`ctx.upstream(name)`, read by DuckDB as it is). */
  write(data: WriteData, target: string | TableRef, options?: IoWriteOptions): Promise<IoWriteResult>;
  /** Runs statements (DDL, ELT) in the warehouse. */
  execute(sql: string): Promise<void>;
}

/** How to parse CSV: explicit DuckDB column types (no guessing), or detected when left out. */
export interface CsvParseOptions {
  /** Column name → DuckDB type (`INTEGER`, `DOUBLE`, `TIMESTAMP`, `VARCHAR`, …), in file order; detected when left out. */
  columns?: Readonly<Record<string, string>>;
  /** strftime format of TIMESTAMP columns (default ISO 8601, which also reads `2020-10-01 00:09:08`). */
  timestampFormat?: string;
  /** The field separator (default: detected from the header line). */
  delimiter?: string;
  /** Whether the first line names the columns (default true). */
  header?: boolean;
  /** Rows with the wrong number of fields or an unparsable value: fail the read (default), skip them, or pad short rows with NULLs. */
  on_bad_rows?: OnBadRows;
}

/** A file (`.csv`, `.csv.gz`, `.parquet`, `.arrow`) or a Parquet dataset directory; relative to the profile's root. */
export interface FileRef extends CsvParseOptions {
  path: string;
  /** Default: from the extension (`.csv`, `.csv.gz`, `.parquet`, `.arrow`); a directory is a Parquet dataset. */
  format?: "csv" | "parquet" | "arrow";
  /** Parquet compression when writing (default zstd). */
  compression?: "zstd" | "snappy" | "gzip" | "uncompressed";
}

/** `ctx.io.files`: local files and the Parquet lake. */
export interface FilesIo extends IoConnector<string | FileRef> {
  /** Writes a table, a stream of batches, or an upstream by reference (`ctx.upstream(name)`: DuckDB's COPY, `PARTITION_BY` for a lake). */
  write(data: WriteData, target: string | FileRef, options?: IoWriteOptions): Promise<IoWriteResult>;
}

/** A URL to download and how to parse it. */
export interface UrlRef extends CsvParseOptions {
  /** Absolute, or relative to the `http` connection's `base_url`. */
  url: string;
  /** Default: from the URL's extension (`.csv`, `.csv.gz`, `.parquet`, `.arrow`). */
  format?: "csv" | "parquet" | "arrow";
}

/** `ctx.io.http`: downloads (streamed to disk, retried) parsed into Arrow. */
export interface HttpIo {
  readonly description: string;
  /** Downloads the URL (streamed to a temp file, retried on network errors and 5xx/429) and parses it into one table. */
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
  /** CSV rows with the wrong number of fields or an unparsable value: fail the read (default), skip them, or pad short rows with NULLs. */
  on_bad_rows?: OnBadRows;
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
  /** Deletes one object. */
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
  /** The files' format (default parquet). */
  format?: "parquet" | "csv";
}

export interface BigQueryLoadResult {
  /** The load job's id, to find it in the BigQuery console. */
  jobId: string;
  /** Rows the job loaded. */
  rows: number;
  /** `dataset.table`. */
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
  /** Creates the dataset (default: the profile's `dataset`) when it is missing. */
  ensureDataset(dataset?: string): Promise<void>;
  /** Drops a table (`dataset.table`, or a bare name in the profile's dataset). */
  deleteTable(table: string): Promise<void>;
}

/** Everything `ctx.io` offers; each connection is created on first use from `sluice.yaml`. */
/** `ctx.io.transfer()`: copy every object under a bucket prefix to another bucket (S3 ↔ GCS, or within one). */
export interface TransferRequest extends IoCallOptions {
  /** The source prefix: `s3://bucket/path/` or `gs://bucket/path/`. */
  from: string;
  /** The destination prefix; each object keeps its key below `from`. */
  to: string;
  /** Only keys under `from` + this, copied to `to` + this (e.g. `green/2020-`). */
  prefix?: string;
  /** An object that exists at the destination but differs: replaced (default true) or kept. Identical ones are always skipped. */
  overwrite?: boolean;
  /** The `sluice.yaml` connections of each side (default: the default s3 / gcs connection). */
  fromConnection?: string;
  toConnection?: string;
  /** Objects copied at once (default 16). */
  concurrency?: number;
  /** Retries of one object after a network or service error (default 3). */
  retries?: number;
}

/** What a transfer did. */
export interface TransferSummary {
  /** Objects and bytes copied. */
  objects: number;
  bytes: number;
  /** Objects already at the destination with the same size and MD5, not copied again. */
  skipped: number;
  skippedBytes: number;
  /** Of `skipped`: compared by size only, because a side knew no MD5 (an S3 multipart upload's ETag). */
  unverified: number;
  /** Differing objects left as they were (`overwrite: false`). */
  kept: number;
  /** Objects whose copy failed at first and succeeded on a retry. */
  retried: number;
  durationMs: number;
}

/**
 * `ctx.io.transfer({ from, to, prefix?, overwrite? })`: copies every object under a bucket prefix to another
 * (S3 ↔ GCS or within one), object by object (download streamed into upload, 16 at once), retrying network and
 * service errors, skipping objects already there with the same size and MD5; see `TransferRequest` and
 * `TransferSummary`. The connections are the default s3 / gcs ones, or `fromConnection` / `toConnection`.
 */
export interface BucketTransfer {
  (request: TransferRequest): Promise<TransferSummary>;
}

export interface SluiceIo {
  /** Copies a bucket prefix to another, object by object (streamed), skipping what is already there. */
  readonly transfer: BucketTransfer;
  postgres(name?: string): PostgresIo;
  duckdb(name?: string): DuckDBIo;
  readonly files: FilesIo;
  readonly http: HttpIo;
  gcs(name?: string): ObjectStoreIo;
  s3(name?: string): ObjectStoreIo;
  bigquery(name?: string): BigQueryIo;
}
