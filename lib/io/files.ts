/**
 * Files and the Parquet lake: CSV (plain or .gz), Parquet (one file, or a dataset
 * directory, hive-partitioned `col=value/` when written with `partitionBy`), and Arrow IPC files.
 *
 * Every write is atomic: the data goes to a hidden temp path beside the target, then is
 * renamed into place — `replace` swaps the old target out, `fail` refuses an existing one before writing
 * anything, `append` moves the new files into an existing dataset directory (uniquely named, so earlier
 * files stay). A failed write leaves the target as it was and no temp files behind. With
 * `partitionOverwrite: "partitions"` a partitioned `replace` swaps only the partitions the data has rows for.
 *
 * Parquet and CSV are written by DuckDB (`COPY … TO`, `PARTITION_BY`), loaded from Arrow by buffer copy.
 */
import { randomUUID } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from "node:path";
import { tableFromIPC, tableToIPC, type RecordBatch, type Table } from "apache-arrow";
import { UserError } from "../core/errors";
import { quoteIdentifier, quoteLiteral } from "../arrow/sql-text";
import { readParquetFile } from "../arrow/parquet-arrow";
import { readCsvFile, streamCsvFile, type CsvOptions, type CsvReadContext } from "./csv-read";
import { checkParquetFile, defaultWarning } from "./csv-verify";
import { errorMessage } from "./redact";
import { collectTable, loadArrowIntoDuckDB, openDuckDB, queryToArrow, upstreamQuery, type DuckDBSession } from "./duckdb-session";
import { isUpstreamRef, type ArrowConnector, type IoOptions, type WriteData, type WriteMode, type WriteOptions, type WriteResult } from "./types";

/** Read options: `onWarning` receives rejected-row and empty-file warnings (default: `console.warn`, which a block's worker turns into a warn line of its log). */
export type FileReadOptions = IoOptions & Pick<CsvReadContext, "onWarning">;

export type FileFormat = "csv" | "parquet" | "arrow";

/** A file or a dataset directory; relative paths resolve against the connector's root. */
export interface FileTarget extends CsvOptions {
  path: string;
  /** Default: from the extension (`.csv`, `.csv.gz`, `.parquet`, `.arrow`/`.feather`/`.ipc`); a directory is a Parquet dataset. */
  format?: FileFormat;
  /** Parquet compression when writing (default zstd). */
  compression?: "zstd" | "snappy" | "gzip" | "uncompressed";
}

export interface FilesConnectorOptions {
  /** Base directory for relative paths (a `files` profile's `root`, else the project). */
  root: string;
  /** Profile name, for messages. */
  name?: string;
  /** Scratch space for DuckDB hand-off files (default: the OS temp dir). */
  tempDir?: string;
}

/** Turns a target given as a path into a FileTarget. */
export function toFileTarget(target: FileTarget | string): FileTarget {
  return typeof target === "string" ? { path: target } : target;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** The format a path means when none is given. */
export function formatOf(target: FileTarget, isDir: boolean): FileFormat {
  if (target.format !== undefined) return target.format;
  const name = target.path.toLowerCase();
  if (name.endsWith(".csv") || name.endsWith(".csv.gz") || name.endsWith(".tsv")) return "csv";
  if (name.endsWith(".arrow") || name.endsWith(".feather") || name.endsWith(".ipc")) return "arrow";
  if (name.endsWith(".parquet") || isDir || extname(name) === "") return "parquet";
  throw new UserError("unknown_format", `${target.path}: cannot tell the file format from the name; set format: csv | parquet | arrow`);
}

/** `key=value` directory names of the first file path under a hive-partitioned dataset. */
async function partitionKeys(dir: string): Promise<string[]> {
  const keys: string[] = [];
  let current = dir;
  for (;;) {
    const entries = await readdir(current, { withFileTypes: true });
    const sub = entries.find((e) => e.isDirectory() && e.name.includes("="));
    if (sub === undefined) return keys;
    keys.push(sub.name.slice(0, sub.name.indexOf("=")));
    current = join(current, sub.name);
  }
}

/**
 * Moves each partition of the finished temp dataset into `path`, keeping every partition the data has no
 * rows for: a file renames over the old file of its name, then the partition's other old files go.
 */
async function replacePartitions(temp: string, path: string): Promise<void> {
  const byPartition = new Map<string, string[]>();
  for (const file of await listFiles(temp)) {
    const names = byPartition.get(dirname(file)) ?? [];
    names.push(basename(file));
    byPartition.set(dirname(file), names);
  }
  for (const [partition, names] of byPartition) {
    const dir = join(path, partition);
    await mkdir(dir, { recursive: true });
    const before = await readdir(dir, { withFileTypes: true });
    for (const name of names) await rename(join(temp, partition, name), join(dir, name));
    const kept = new Set(names);
    for (const entry of before) {
      if (entry.isFile() && !kept.has(entry.name) && !entry.name.startsWith(".")) await rm(join(dir, entry.name), { force: true });
    }
  }
}

/** Every file under `dir`, as paths relative to it. */
async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (current: string): Promise<void> => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const full = join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else out.push(relative(dir, full));
    }
  };
  await walk(dir);
  return out;
}

/**
 * Reads and writes local files. One in-memory DuckDB is opened per call and closed after, so the
 * connector holds no resources between calls and is safe to use from several blocks at once.
 */
export class FilesConnector implements ArrowConnector<FileTarget | string> {
  readonly description: string;
  private readonly root: string;
  private readonly tempDir: string | undefined;

  constructor(options: FilesConnectorOptions) {
    this.root = options.root;
    this.tempDir = options.tempDir;
    this.description = `files "${options.name ?? "files"}"`;
  }

  /** The absolute path of a target. */
  resolvePath(path: string): string {
    return isAbsolute(path) ? path : resolve(this.root, path);
  }

  async read(target: FileTarget | string, options: FileReadOptions = {}): Promise<Table> {
    const t = toFileTarget(target);
    const path = this.resolvePath(t.path);
    options.signal?.throwIfAborted();
    if (!(await exists(path))) throw new UserError("not_found", `${this.description}: ${t.path} does not exist`, { file: t.path });
    const dir = await isDirectory(path);
    const format = formatOf(t, dir);
    let table: Table;
    switch (format) {
      case "arrow":
        table = tableFromIPC(await readFile(path));
        break;
      case "parquet":
        table = dir ? await this.readDataset(path, t) : await this.readParquet(path, t.path);
        break;
      case "csv":
        table = await this.withDuckDB((s) => readCsvFile(s.connection, path, t.path, t, this.csvContext(options)));
        break;
    }
    options.onProgress?.({ rows: table.numRows, message: `read ${t.path}` });
    return table;
  }

  /**
   * A file as record batches. CSV is parsed by DuckDB while the batches are consumed, so a large file is
   * never held whole; Parquet and Arrow files are read (they are columnar already) and handed out batch by batch.
   */
  async *stream(target: FileTarget | string, options: FileReadOptions = {}): AsyncGenerator<RecordBatch> {
    const t = toFileTarget(target);
    const path = this.resolvePath(t.path);
    options.signal?.throwIfAborted();
    if (!(await exists(path))) throw new UserError("not_found", `${this.description}: ${t.path} does not exist`, { file: t.path });
    if (formatOf(t, await isDirectory(path)) !== "csv") {
      yield* (await this.read(target, options)).batches;
      return;
    }
    const session = await openDuckDB();
    try {
      let rows = 0;
      for await (const batch of streamCsvFile(session.connection, path, t.path, t, this.csvContext(options))) {
        options.signal?.throwIfAborted();
        rows += batch.numRows;
        options.onProgress?.({ rows, message: `read ${t.path}` });
        yield batch;
      }
    } finally {
      // Only after the CSV stream has been ended (a consumer breaking out returns it first).
      session.close();
    }
  }

  private csvContext(options: FileReadOptions): CsvReadContext {
    return { tempDir: this.tempDir, signal: options.signal, onWarning: options.onWarning ?? defaultWarning };
  }

  /** One Parquet file, checked whole first so a file cut short is named as such. */
  private async readParquet(path: string, shown: string): Promise<Table> {
    await checkParquetFile(path, shown);
    try {
      return await readParquetFile(path);
    } catch (error) {
      throw new UserError("corrupt_file", `${shown}: not a readable Parquet file (${errorMessage(error)})`, { file: shown }, { cause: error });
    }
  }

  /** A Parquet dataset directory (hive partitions become columns; `columns` types them, else DuckDB infers). */
  private async readDataset(dir: string, target: FileTarget): Promise<Table> {
    for (const file of (await listFiles(dir)).filter((f) => f.endsWith(".parquet"))) await checkParquetFile(join(dir, file), join(target.path, file));
    const keys = await partitionKeys(dir);
    const args = [quoteLiteral(join(dir, "**", "*.parquet")), "hive_partitioning = true", "union_by_name = true"];
    const typed = keys.filter((k) => target.columns?.[k] !== undefined);
    if (typed.length > 0) args.push(`hive_types = {${typed.map((k) => `${quoteLiteral(k)}: ${quoteLiteral(target.columns?.[k] ?? "VARCHAR")}`).join(", ")}}`);
    return this.withDuckDB((s) => queryToArrow(s.connection, `SELECT * FROM read_parquet(${args.join(", ")})`, [], this.tempDir));
  }

  /**
   * Writes Arrow, or an upstream by reference (`ctx.upstream(name)`), which DuckDB reads straight from its
   * persisted file and writes with `COPY` (`PARTITION_BY` for a lake): no Arrow table in between.
   */
  async write(data: WriteData, target: FileTarget | string, options: WriteOptions = {}): Promise<WriteResult> {
    const t = toFileTarget(target);
    const path = this.resolvePath(t.path);
    const mode: WriteMode = options.mode ?? "replace";
    const partitionBy = options.partitionBy ?? [];
    const targetExists = await exists(path);
    const targetIsDir = targetExists && (await isDirectory(path));
    const asDataset = partitionBy.length > 0 || targetIsDir || (mode === "append" && extname(path) === "");
    const format = formatOf(t, asDataset);
    const overwritePartitions = options.partitionOverwrite === "partitions";
    if (overwritePartitions && (mode !== "replace" || partitionBy.length === 0)) {
      throw new UserError("invalid_option", `${this.description}: ${t.path}: partitionOverwrite "partitions" needs mode replace and partitionBy`, { file: t.path });
    }
    if (targetExists && mode === "fail") {
      throw new UserError("target_exists", `${this.description}: ${t.path} already exists (mode: fail)`, { file: t.path });
    }
    if (targetExists && mode === "append" && !targetIsDir) {
      throw new UserError("append_unsupported", `${this.description}: cannot append to the single file ${t.path}; write a dataset directory (no extension, or partitionBy) to append`, { file: t.path });
    }
    if (asDataset && format !== "parquet") {
      throw new UserError("unsupported", `${this.description}: ${t.path}: datasets (partitioned or appendable) are Parquet only`, { file: t.path });
    }
    options.signal?.throwIfAborted();
    await mkdir(dirname(path), { recursive: true });
    const temp = join(dirname(path), `.${basename(path)}.tmp-${randomUUID()}`);
    try {
      let rows: number;
      if (format === "arrow") {
        const table = isUpstreamRef(data) ? await this.withDuckDB((s) => upstreamQuery(s.connection, data).then((q) => queryToArrow(s.connection, q, [], this.tempDir))) : await collectTable(data);
        options.signal?.throwIfAborted();
        await writeFile(temp, tableToIPC(table, "file"));
        rows = table.numRows;
      } else {
        rows = await this.withDuckDB(async (s) => {
          let source: string;
          if (isUpstreamRef(data)) {
            source = await upstreamQuery(s.connection, data);
          } else {
            const table = await collectTable(data);
            options.signal?.throwIfAborted();
            await loadArrowIntoDuckDB(s.connection, "sluice_write", table);
            source = `SELECT * FROM ${quoteIdentifier("sluice_write")}`;
          }
          if (format === "csv") {
            const gzip = path.toLowerCase().endsWith(".gz") ? "gzip" : "none";
            const delimiter = t.delimiter ? `, DELIMITER ${quoteLiteral(t.delimiter)}` : "";
            await s.connection.run(`COPY (${source}) TO ${quoteLiteral(temp)} (FORMAT csv, HEADER, COMPRESSION ${gzip}${delimiter})`);
          } else if (asDataset) {
            await mkdir(temp, { recursive: true });
            const compression = t.compression ?? "zstd";
            if (partitionBy.length > 0) {
              const partition = `PARTITION_BY (${partitionBy.map(quoteIdentifier).join(", ")})`;
              // Replaced partitions keep their file names from run to run, so each new file renames over its
              // old one (readers see one or the other, never both); appended files need names of their own.
              const names = overwritePartitions ? "data_{i}" : "part-{uuid}";
              await s.connection.run(
                `COPY (${source}) TO ${quoteLiteral(temp)} (FORMAT parquet, COMPRESSION ${compression}, ${partition}, FILENAME_PATTERN '${names}', OVERWRITE_OR_IGNORE)`,
              );
            } else {
              const file = join(temp, `part-${randomUUID()}.parquet`);
              await s.connection.run(`COPY (${source}) TO ${quoteLiteral(file)} (FORMAT parquet, COMPRESSION ${compression})`);
            }
          } else {
            await s.connection.run(`COPY (${source}) TO ${quoteLiteral(temp)} (FORMAT parquet, COMPRESSION ${t.compression ?? "zstd"})`);
          }
          return Number((await s.connection.runAndReadAll(`SELECT count(*) FROM (${source})`)).getRows()[0]?.[0] ?? 0);
        });
      }
      options.signal?.throwIfAborted();
      if (overwritePartitions) await replacePartitions(temp, path);
      else await this.commit(temp, path, mode, targetExists && asDataset);
      options.onProgress?.({ rows, message: `wrote ${t.path}` });
      return { rows, location: path };
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
  }

  /** Moves the finished temp output into place according to the mode. */
  private async commit(temp: string, path: string, mode: WriteMode, appendToDataset: boolean): Promise<void> {
    if (mode === "append" && appendToDataset) {
      for (const file of await listFiles(temp)) {
        await mkdir(dirname(join(path, file)), { recursive: true });
        await rename(join(temp, file), join(path, file));
      }
      return;
    }
    if (mode === "fail") {
      if (await exists(path)) throw new UserError("target_exists", `${this.description}: ${path} already exists (mode: fail)`);
      await rename(temp, path);
      return;
    }
    // A file renames over a file atomically: readers (and a concurrent run writing the same file) see the
    // old or the new one, never a moment without either.
    if (!(await exists(path)) || !((await isDirectory(path)) || (await isDirectory(temp)))) {
      await rename(temp, path);
      return;
    }
    const old = join(dirname(path), `.${basename(path)}.old-${randomUUID()}`);
    await rename(path, old);
    try {
      await rename(temp, path);
    } catch (error) {
      await rename(old, path);
      throw error;
    }
    await rm(old, { recursive: true, force: true });
  }

  private async withDuckDB<T>(work: (session: DuckDBSession) => Promise<T>): Promise<T> {
    const session = await openDuckDB();
    try {
      return await work(session);
    } finally {
      session.close();
    }
  }
}
