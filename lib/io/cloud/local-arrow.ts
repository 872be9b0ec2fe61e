import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { Table, type RecordBatch } from "apache-arrow";
import { arrowToDuckDB } from "../../arrow/arrow-to-duckdb";
import { copyQueryToParquet } from "../../arrow/duckdb-to-arrow";
import { readParquetFile } from "../../arrow/parquet-arrow";
import { quoteIdentifier, quoteLiteral } from "../../arrow/sql-text";
import { csvError } from "../csv-read";
import { checkCsvFile, checkParquetFile, defaultWarning, emptyFileWarning, enforceShape, rejectedRowsWarning, type OnBadRows, type RejectedRows } from "../csv-verify";

/**
 * Local-disk Arrow ↔ file conversions that every bucket connector shares: objects are moved as files
 * (streamed to and from a temp directory), and these helpers turn those files into Arrow tables and back.
 *
 * Why DuckDB + parquet-wasm: DuckDB reads CSV(.gz) with type detection and writes hive-partitioned Parquet
 * (`COPY … PARTITION_BY`) offline and fast; parquet-wasm decodes Parquet into Arrow preserving the file's
 * types. parquet-wasm runs on the calling thread here; its memory never shrinks, so callers
 * that read very large objects should do so in a worker (the block runtime already runs blocks in workers).
 */

/** Options for reading CSV objects; by default DuckDB detects types from the whole file. */
export interface CsvReadOptions {
  /** Column name → DuckDB type (`BIGINT`, `TIMESTAMP`, `VARCHAR`…); columns not named are detected. */
  columnTypes?: Record<string, string>;
  /** Field delimiter, default detected. */
  delimiter?: string;
  /** Whether the first line is a header, default detected. */
  header?: boolean;
  /** Rows sampled for type detection; -1 (default) reads the whole file so a late odd value cannot break the load. */
  sampleSize?: number;
  /** Rows with the wrong number of fields or an unparsable value: fail (default), skip, or pad short rows with NULLs. */
  on_bad_rows?: OnBadRows;
  /** Receives rejected-row and empty-result warnings. */
  onWarning?: (message: string) => void;
}

/** Options for reading a Parquet dataset written by another tool whose partition columns exist only in paths. */
export interface DatasetReadOptions {
  /** Derive columns from `col=value/` directories (for datasets whose files omit them). Default false: Sluice writes partition columns into the files too. */
  hivePartitioning?: boolean;
}

/** A scratch DuckDB database plus a temp directory, opened lazily and closed with the connector. */
export class LocalArrowWorkspace {
  private instance: Promise<DuckDBInstance> | null = null;
  private connection: Promise<DuckDBConnection> | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  /** Makes a temp directory for one operation; remove it with `removeTempDir`. */
  async makeTempDir(label: string): Promise<string> {
    return mkdtemp(join(tmpdir(), `sluice-${label}-`));
  }

  async removeTempDir(dir: string): Promise<void> {
    await rm(dir, { recursive: true, force: true });
  }

  /** Reads a local Parquet file into Arrow with the file's own types; a file cut short fails naming `source`. */
  async readParquet(path: string, source = path): Promise<Table> {
    await checkParquetFile(path, source);
    return readParquetFile(path);
  }

  /**
   * Reads a local CSV, CSV.gz or CSV.zst into Arrow, strictly unless `on_bad_rows` says otherwise: the
   * compressed stream is verified and every row's field count checked first (csv-verify.ts), then DuckDB parses
   * with the counted delimiter and strict settings. Empty fields are nulls; "NA" and "N/A" stay strings.
   * `source` names the file in errors and warnings.
   */
  async readCsv(path: string, options: CsvReadOptions = {}, source = path): Promise<Table> {
    const mode = options.on_bad_rows ?? "fail";
    const check = await checkCsvFile(path, source, { delimiter: options.delimiter, header: options.header });
    const padded = check === null ? null : enforceShape(source, check.shape, mode);
    const delimiter = check?.delimiter ?? options.delimiter;
    const args = [quoteLiteral(path), `sample_size = ${options.sampleSize ?? -1}`, `quote = '"'`, `escape = '"'`];
    if (delimiter !== undefined) args.push(`delim = ${quoteLiteral(delimiter)}`);
    if (options.header !== undefined) args.push(`header = ${options.header ? "true" : "false"}`);
    if (options.columnTypes && Object.keys(options.columnTypes).length > 0) {
      const entries = Object.entries(options.columnTypes).map(([name, type]) => `${quoteLiteral(name)}: ${quoteLiteral(type)}`);
      args.push(`types = {${entries.join(", ")}}`);
    }
    const rejects = `sluice_rejects_${randomUUID().replace(/-/g, "")}`;
    if (mode === "fail") args.push("strict_mode = true", "null_padding = false", "ignore_errors = false");
    else if (mode === "null_pad") args.push("null_padding = true", "ignore_errors = false");
    else args.push("ignore_errors = true", "store_rejects = true", `rejects_table = ${quoteLiteral(rejects)}`, `rejects_scan = ${quoteLiteral(`${rejects}_scan`)}`);
    let rejected: RejectedRows | null = padded;
    const table = await this.queryToArrow(`SELECT * FROM read_csv(${args.join(", ")})`, async (connection) => {
      if (mode !== "skip") return;
      const found = await connection.runAndReadAll(`SELECT line, min(error_message) FROM ${quoteIdentifier(rejects)} GROUP BY line ORDER BY line`);
      const rows = found.getRows();
      rejected = { mode: "skip", count: rows.length, examples: rows.slice(0, 3).map(([line, reason]) => ({ line: Number(line), reason: String(reason) })) };
      await connection.run(`DROP TABLE IF EXISTS ${quoteIdentifier(rejects)}; DROP TABLE IF EXISTS ${quoteIdentifier(`${rejects}_scan`)}`);
    }).catch((error: unknown) => {
      throw csvError(error, source);
    });
    const final: RejectedRows | null = rejected;
    const warn = options.onWarning ?? defaultWarning;
    if (final !== null && final.count > 0) warn(rejectedRowsWarning(source, final));
    if (table.numRows === 0 && options.header !== false) warn(emptyFileWarning(source, check?.shape.columns ?? table.numCols));
    return table;
  }

  /** Reads every Parquet file under `dir` (recursively) as one table. */
  async readParquetDataset(dir: string, options: DatasetReadOptions = {}): Promise<Table> {
    const files = (await listFiles(dir)).filter((f) => f.endsWith(".parquet"));
    if (files.length === 0) return new Table();
    if (!options.hivePartitioning) {
      // parquet-wasm per file keeps each file's exact Arrow types; the batches are joined without a copy.
      const tables: Table[] = [];
      for (const file of files) tables.push(await readParquetFile(join(dir, file)));
      return concatTables(tables);
    }
    const list = files.map((f) => quoteLiteral(join(dir, f))).join(", ");
    return this.queryToArrow(`SELECT * FROM read_parquet([${list}], hive_partitioning = true, union_by_name = true)`);
  }

  /**
   * Writes `data` as Parquet files under `dir`: one file, or a hive-partitioned tree (`col=value/part-….parquet`)
   * when `partitionBy` names columns. Partition columns are also kept inside the files
   * (`WRITE_PARTITION_COLUMNS`), so reading the files back gives the exact column types, nulls included
   * (nulls go to `col=__HIVE_DEFAULT_PARTITION__/`, as Hive and Spark name them). Returns the written files relative to `dir`, with `/` separators.
   */
  async writeParquetDataset(data: Table | AsyncIterable<RecordBatch>, dir: string, partitionBy: readonly string[] = []): Promise<{ rows: number; files: string[] }> {
    const table = data instanceof Table ? data : await collectBatches(data);
    return this.exclusive(async (connection) => {
      const name = `upload_${randomUUID().replace(/-/g, "")}`;
      const { rows } = await arrowToDuckDB(connection, name, table, { temporary: true });
      try {
        await mkdir(dir, { recursive: true });
        const id = randomUUID();
        if (partitionBy.length === 0) {
          await connection.run(`COPY ${quoteIdentifier(name)} TO ${quoteLiteral(join(dir, `part-${id}.parquet`))} (FORMAT parquet, COMPRESSION zstd)`);
        } else {
          const columns = partitionBy.map(quoteIdentifier).join(", ");
          await connection.run(
            `COPY ${quoteIdentifier(name)} TO ${quoteLiteral(dir)} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (${columns}), WRITE_PARTITION_COLUMNS true, FILENAME_PATTERN ${quoteLiteral(`part-${id}-{i}`)})`,
          );
        }
      } finally {
        await connection.run(`DROP TABLE IF EXISTS ${quoteIdentifier(name)}`);
      }
      return { rows, files: await listFiles(dir) };
    });
  }

  /** Runs a DuckDB query and returns its result as Arrow (COPY to Parquet, then parquet-wasm, whose memory never shrinks); `after` runs next on the same connection. */
  async queryToArrow(sql: string, after?: (connection: DuckDBConnection) => Promise<void>): Promise<Table> {
    const dir = await this.makeTempDir("query");
    try {
      const path = join(dir, "result.parquet");
      await this.exclusive(async (connection) => {
        await copyQueryToParquet(connection, sql, [], path);
        await after?.(connection);
      });
      return await readParquetFile(path);
    } finally {
      await this.removeTempDir(dir);
    }
  }

  /** Closes the scratch database. */
  async close(): Promise<void> {
    const connection = this.connection;
    const instance = this.instance;
    this.connection = null;
    this.instance = null;
    if (connection) (await connection).closeSync();
    if (instance) (await instance).closeSync();
  }

  /** One statement sequence at a time on the shared connection. */
  private exclusive<T>(work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => work(await this.connect()));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async connect(): Promise<DuckDBConnection> {
    this.instance ??= DuckDBInstance.create(":memory:");
    this.connection ??= this.instance.then(async (instance) => {
      const connection = await instance.connect();
      // Timestamps without a zone are UTC instants in Sluice; never pick up the machine's zone.
      await connection.run("SET TimeZone = 'UTC'");
      return connection;
    });
    return this.connection;
  }
}

/** Joins tables with the same schema into one, sharing their record batches. */
export function concatTables(tables: readonly Table[]): Table {
  if (tables.length === 0) return new Table();
  const [first, ...rest] = tables;
  return rest.length === 0 ? first : first.concat(...rest);
}

async function collectBatches(batches: AsyncIterable<RecordBatch>): Promise<Table> {
  const all: RecordBatch[] = [];
  for await (const batch of batches) all.push(batch);
  return all.length === 0 ? new Table() : new Table(all);
}

/** Files under `dir`, relative, with `/` separators, sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join("/"))
    .sort();
}
