/**
 * The output store: every block run's output persisted under the data directory, so that
 * the editor can page through it, a later run of one block can reuse cached upstreams, and another worker
 * can read it.
 *
 * Layout: `<dataDir>/outputs/<runId>/<block>.arrow` (TypeScript blocks) or `<block>.parquet` (SQL blocks,
 * written by DuckDB), plus `<block>.summary.json`, the sidecar that holds the summary and marks the output
 * as complete: an output without a sidecar does not exist for readers.
 *
 * Arrow outputs are stored as the IPC bytes the block runtime hands over, stream or file format alike
 * (apache-arrow's readers detect which). Re-encoding a stream into the file format would copy the whole
 * table (≈ 0.4 s per 130 MB measured here) for no gain: random access for previews comes from a byte-range
 * index of the IPC messages kept in the sidecar (`arrow-ipc-index.ts`), which works for both formats.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm, stat, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { tableFromIPC, type Table } from "apache-arrow";
import { z } from "zod";
import { UnexpectedError, UserError } from "../core/errors";
import { indexArrowIpc, readIndexedBatch, type IpcIndex } from "../arrow/arrow-ipc-index";
import { arrowPageColumns, recordKeys, rowsToJson } from "../arrow/arrow-json";
import { summarizeArrowTable } from "../arrow/arrow-summary";
import { writeFileAtomic } from "./atomic-write";
import { ByteLru } from "./byte-lru";
import { readBatchRows } from "./page-reader";
import { isErrno } from "./safe-path";
import { duckdbTypeToArrowName, duckdbValueToJson } from "../arrow/duckdb-json";
import type { JsonValue } from "../arrow/json-value";
import type { OutputFormat, OutputPage, OutputRecord, OutputRef, OutputSummary, OutputWriter } from "../core/output-types";
import type { RemoteOutputStore } from "./remote-output-store";

/** Run ids and block names become path segments: nothing that could climb out of the data directory. */
// Block names, and dynamic instances' (`child[0]`, `child[2020-10]`): brackets are safe in file names.
const NAME = /^[A-Za-z0-9_-]{1,200}(\[[A-Za-z0-9_-]{1,100}\])?$/;

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
/** `ColumnHistogram` of output-types.ts. */
/** Batches larger than this are read row-range by row-range for a page instead of decoded and cached whole. */
const SLICE_BATCHES_ABOVE_BYTES = 4 * 1024 * 1024;

const histogramSchema = z.object({ kind: z.enum(["number", "time"]), edges: z.array(z.number()), counts: z.array(z.number()) });
const sidecarSchema = z.object({
  version: z.literal(1),
  format: z.enum(["arrow", "parquet"]),
  file: z.string(),
  writtenAt: z.string(),
  summary: z.object({
    rows: z.number(),
    bytes: z.number(),
    columns: z.array(
      z.object({ name: z.string(), type: z.string(), nulls: z.number(), min: scalar, max: scalar, distinct: z.number(), histogram: histogramSchema.optional() }),
    ),
  }),
  ipcIndex: z
    .object({
      format: z.enum(["stream", "file"]),
      schema: z.tuple([z.number(), z.number()]).nullable(),
      batches: z.array(
        z.object({ start: z.number(), end: z.number(), rows: z.number(), dictionaries: z.array(z.tuple([z.number(), z.number()])) }),
      ),
    })
    .nullable(),
});
type Sidecar = z.infer<typeof sidecarSchema>;

/** Tuning of an `OutputStore`; the defaults suit the server, tests shrink them to exercise the paging paths. */
export interface OutputStoreOptions {
  /** DuckDB instance for Parquet reads and summaries (shared with other parts if given); an in-memory one is created on first use otherwise. */
  duckdb?: DuckDBInstance;
  /** Budget of the cache of opened Arrow tables and batches, in bytes. Default 256 MiB. */
  cacheBytes?: number;
  /** Arrow files up to this size are loaded whole for paging; bigger ones are read batch by batch. Default 32 MiB. */
  wholeFileBytes?: number;
  /**
   * Keep the table decoded in `writeArrow` in the cache, so the editor's first preview of a fresh output
   * needs no disk read. The table shares memory with the bytes given to `writeArrow`. Default true.
   */
  cacheOnWrite?: boolean;
  /**
   * fsync output files before renaming them into place. Off by default: outputs can be recomputed, and
   * an fsync of a 100 MB output costs more than writing it; the rename alone already keeps readers from
   * ever seeing half a file.
   */
  fsyncData?: boolean;
  /**
   * An object-store mirror (`SLUICE_OUTPUT_URL`): every output written here is uploaded there, and reads
   * of an output this machine lacks download it first (workers on machines without a shared disk).
   * Closed with this store.
   */
  remote?: RemoteOutputStore;
}

interface CachedTable {
  table: Table;
  /** Size and mtime of the file the table came from: a rewrite by another process invalidates it. */
  stamp: string;
}

function checkName(kind: "run id" | "block name", value: string): void {
  if (!NAME.test(value)) {
    throw new UserError("invalid_name", `invalid ${kind} ${JSON.stringify(value)}: use letters, digits, _ and - only`);
  }
}

function toCount(value: unknown): number {
  return typeof value === "bigint" || typeof value === "number" ? Number(value) : 0;
}

function stampOf(stats: { size: number; mtimeMs: number }): string {
  return `${stats.size}:${stats.mtimeMs}`;
}

/** Reads a whole file into one buffer of its exact size (no growing and concatenating of chunks). */
async function readWholeFile(file: string): Promise<Uint8Array> {
  const handle = await open(file, "r");
  try {
    const { size } = await handle.stat();
    const bytes = new Uint8Array(size);
    let done = 0;
    while (done < size) {
      const { bytesRead } = await handle.read(bytes, done, size - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done === size ? bytes : bytes.subarray(0, done);
  } finally {
    await handle.close();
  }
}

/**
 * Block outputs on the local file system. Implements `OutputWriter` for the block runtime and the read
 * side for the API (records, pages, whole tables) and retention (`deleteRun`, `listRunIds`).
 */
export class OutputStore implements OutputWriter {
  readonly outputsDir: string;
  private readonly cache: ByteLru<CachedTable>;
  private readonly wholeFileBytes: number;
  private readonly cacheOnWrite: boolean;
  private readonly fsyncData: boolean;
  private duckdb: Promise<DuckDBInstance> | null;
  private readonly ownsDuckdb: boolean;
  private readonly remote: RemoteOutputStore | null;
  /** Downloads under way, by `runId/block`: two readers of one missing output share one download. */
  private readonly fetching = new Map<string, Promise<boolean>>();

  constructor(
    readonly dataDir: string,
    options: OutputStoreOptions = {},
  ) {
    this.outputsDir = path.join(path.resolve(dataDir), "outputs");
    this.cache = new ByteLru(options.cacheBytes ?? 256 * 1024 * 1024);
    this.wholeFileBytes = options.wholeFileBytes ?? 32 * 1024 * 1024;
    this.cacheOnWrite = options.cacheOnWrite ?? true;
    this.fsyncData = options.fsyncData ?? false;
    this.duckdb = options.duckdb ? Promise.resolve(options.duckdb) : null;
    this.ownsDuckdb = !options.duckdb;
    this.remote = options.remote ?? null;
  }

  /** The object-store URL outputs are mirrored to, or null when they stay on this machine. */
  get remoteUrl(): string | null {
    return this.remote?.url ?? null;
  }

  /** Uploads a freshly written output to the mirror, when there is one. */
  private async mirror(runId: string, block: string, format: OutputFormat): Promise<void> {
    if (!this.remote) return;
    await this.remote.upload(runId, block, format, { data: this.dataPath(runId, block, format), sidecar: this.sidecarPath(runId, block) });
  }

  /**
   * Makes sure this machine has the output of `runId/block`, downloading it from the mirror when it is
   * missing — or when its local summary says another size than `expectedBytes` (a copy cached before the
   * block was re-run). True when the output is here afterwards. Without a mirror: whether it is here.
   */
  async ensureLocal(runId: string, block: string, expectedBytes?: number): Promise<boolean> {
    const local = await this.readSidecar(runId, block);
    if (local && (expectedBytes === undefined || local.summary.bytes === expectedBytes)) return true;
    const remote = this.remote;
    if (!remote) return local !== null;
    const key = `${runId}/${block}`;
    let fetching = this.fetching.get(key);
    if (!fetching) {
      fetching = remote.download(runId, block, this.runDir(runId)).finally(() => this.fetching.delete(key));
      this.fetching.set(key, fetching);
    }
    const found = await fetching;
    if (found) this.cache.deletePrefix(path.join(this.runDir(runId), block + "."));
    return found;
  }

  private runDir(runId: string): string {
    checkName("run id", runId);
    return path.join(this.outputsDir, runId);
  }

  private dataPath(runId: string, block: string, format: OutputFormat): string {
    checkName("block name", block);
    return path.join(this.runDir(runId), `${block}.${format}`);
  }

  private sidecarPath(runId: string, block: string): string {
    checkName("block name", block);
    return path.join(this.runDir(runId), `${block}.summary.json`);
  }

  private async writeSidecar(runId: string, block: string, sidecar: Sidecar): Promise<void> {
    // Atomic like the data file, and fsynced only when the data is: outputs can be recomputed, and an fsync per
    // block run was most of the orchestration overhead of small blocks.
    await writeFileAtomic(this.sidecarPath(runId, block), Buffer.from(JSON.stringify(sidecar)), { fsync: this.fsyncData });
  }

  /** Removes the other format's file when a block changed language between runs of the same run id. */
  private async removeOtherFormat(runId: string, block: string, format: OutputFormat): Promise<void> {
    const other = this.dataPath(runId, block, format === "arrow" ? "parquet" : "arrow");
    this.cache.deletePrefix(other);
    await rm(other, { force: true });
  }

  /**
   * Persists a TypeScript block's output (Arrow IPC stream or file bytes) atomically and computes its
   * summary. The bytes are written as given; the decoded table is cached and shares their memory, so the
   * caller must not reuse the buffer afterwards.
   *
   * @throws UnexpectedError `invalid_arrow` when the bytes are not Arrow IPC (a bug in the runtime).
   */
  async writeArrow(runId: string, block: string, ipc: Uint8Array): Promise<OutputRecord> {
    const file = this.dataPath(runId, block, "arrow");
    let table: Table;
    try {
      table = tableFromIPC(ipc);
    } catch (error) {
      throw new UnexpectedError("invalid_arrow", `output of block ${block} is not Arrow IPC data`, { block }, { cause: error });
    }
    const ipcIndex = indexArrowIpc(ipc);
    // tableFromIPC reads bytes without any Arrow message as an empty table instead of failing.
    if (ipcIndex === null && table.schema.fields.length === 0) {
      throw new UnexpectedError("invalid_arrow", `output of block ${block} is not Arrow IPC data`, { block });
    }
    const summary = { ...summarizeArrowTable(table), bytes: ipc.byteLength };
    await mkdir(path.dirname(file), { recursive: true });
    this.cache.deletePrefix(file);
    // A rewrite (a retry in the same run) must never pair new data with the old sidecar's byte index.
    await rm(this.sidecarPath(runId, block), { force: true });
    await writeFileAtomic(file, ipc, { fsync: this.fsyncData });
    await this.removeOtherFormat(runId, block, "arrow");
    await this.writeSidecar(runId, block, {
      version: 1,
      format: "arrow",
      file: path.basename(file),
      writtenAt: new Date().toISOString(),
      summary,
      ipcIndex,
    });
    await this.mirror(runId, block, "arrow");
    if (this.cacheOnWrite) {
      const stamp = stampOf(await stat(file));
      this.cache.set(file, { table, stamp }, ipc.byteLength);
    }
    return { ref: { runId, block, format: "arrow", path: file }, summary };
  }

  /**
   * A fresh temporary path in the run's output folder (same file system as the final file, so the commit
   * is a rename) where DuckDB may `COPY … TO` a Parquet file. Creates the folder.
   */
  tempParquetPath(runId: string, block: string): string {
    const dir = this.runDir(runId);
    checkName("block name", block);
    mkdirSync(dir, { recursive: true });
    return path.join(dir, `.${block}.${process.pid}.${randomBytes(6).toString("hex")}.tmp.parquet`);
  }

  /**
   * Moves a finished Parquet file into place (atomic rename) and records its summary; `bytes` is the
   * file's size.
   *
   * @throws UnexpectedError `invalid_temp_path` when `tempPath` is not in the run's output folder.
   */
  async commitParquet(runId: string, block: string, tempPath: string, summary: Omit<OutputSummary, "bytes">): Promise<OutputRecord> {
    const file = this.dataPath(runId, block, "parquet");
    if (path.dirname(path.resolve(tempPath)) !== path.dirname(file)) {
      throw new UnexpectedError("invalid_temp_path", `temporary Parquet file ${tempPath} is outside the output folder of run ${runId}`, { block });
    }
    const { size } = await stat(tempPath);
    this.cache.deletePrefix(file);
    await rm(this.sidecarPath(runId, block), { force: true });
    await rename(tempPath, file);
    await this.removeOtherFormat(runId, block, "parquet");
    const full: OutputSummary = { rows: summary.rows, bytes: size, columns: summary.columns };
    await this.writeSidecar(runId, block, {
      version: 1,
      format: "parquet",
      file: path.basename(file),
      writtenAt: new Date().toISOString(),
      summary: full,
      ipcIndex: null,
    });
    await this.mirror(runId, block, "parquet");
    return { ref: { runId, block, format: "parquet", path: file }, summary: full };
  }

  private async readSidecar(runId: string, block: string): Promise<Sidecar | null> {
    let text: string;
    try {
      text = await readFile(this.sidecarPath(runId, block), "utf8");
    } catch (error) {
      if (isErrno(error, "ENOENT")) return null;
      throw error;
    }
    const parsed = sidecarSchema.safeParse(JSON.parse(text));
    if (!parsed.success) {
      throw new UnexpectedError("invalid_output_summary", `summary of output ${runId}/${block} is malformed: ${parsed.error.message}`, { block });
    }
    return parsed.data;
  }

  /** The persisted output of a block run, or null when there is none (or it was never completed). */
  async read(runId: string, block: string): Promise<OutputRecord | null> {
    let sidecar = await this.readSidecar(runId, block);
    if (!sidecar && this.remote && (await this.ensureLocal(runId, block))) sidecar = await this.readSidecar(runId, block);
    if (!sidecar) return null;
    return { ref: { runId, block, format: sidecar.format, path: this.dataPath(runId, block, sidecar.format) }, summary: sidecar.summary };
  }

  /**
   * One page of an output as JSON-safe rows, with schema and total row count. The file is located from
   * the ref's run id, block and format (its `path` is not trusted, so a ref from a request cannot point
   * outside the data directory).
   *
   * @throws UserError `output_not_found` when the output does not exist.
   */
  async readPage(ref: OutputRef, offset: number, limit: number): Promise<OutputPage> {
    if (this.remote) await this.ensureLocal(ref.runId, ref.block);
    const start = Math.max(0, Math.floor(offset));
    const count = Math.max(0, Math.floor(limit));
    if (ref.format === "parquet") return this.readParquetPage(ref, start, count);
    return this.readArrowPage(ref, start, count);
  }

  private notFound(ref: OutputRef): UserError {
    return new UserError("output_not_found", `block ${ref.block} of run ${ref.runId} has no ${ref.format} output`, { block: ref.block });
  }

  private async fileStamp(file: string, ref: OutputRef): Promise<{ size: number; stamp: string }> {
    try {
      const stats = await stat(file);
      return { size: stats.size, stamp: stampOf(stats) };
    } catch (error) {
      if (isErrno(error, "ENOENT")) throw this.notFound(ref);
      throw error;
    }
  }

  private async loadWholeTable(file: string, stamp: string, size: number): Promise<Table> {
    const cached = this.cache.get(file);
    if (cached && cached.stamp === stamp) return cached.table;
    const table = tableFromIPC(await readWholeFile(file));
    this.cache.set(file, { table, stamp }, size);
    return table;
  }

  /** The whole table of an Arrow output (for a downstream block in another process). */
  async readArrowTable(ref: OutputRef): Promise<Table> {
    if (ref.format !== "arrow") {
      throw new UnexpectedError("not_arrow_output", `output of block ${ref.block} in run ${ref.runId} is ${ref.format}, not Arrow`, { block: ref.block });
    }
    if (this.remote) await this.ensureLocal(ref.runId, ref.block);
    const file = this.dataPath(ref.runId, ref.block, "arrow");
    const { size, stamp } = await this.fileStamp(file, ref);
    return this.loadWholeTable(file, stamp, size);
  }

  private async readArrowPage(ref: OutputRef, offset: number, limit: number): Promise<OutputPage> {
    const file = this.dataPath(ref.runId, ref.block, "arrow");
    const { size, stamp } = await this.fileStamp(file, ref);
    const cached = this.cache.get(file);
    if (cached && cached.stamp === stamp) return this.pageOf(cached.table, offset, limit);
    const sidecar = size > this.wholeFileBytes ? await this.readSidecar(ref.runId, ref.block) : null;
    // The index describes the file it was written with; a size mismatch means a rewrite is under way.
    if (!sidecar?.ipcIndex || sidecar.ipcIndex.batches.length === 0 || sidecar.summary.bytes !== size) {
      return this.pageOf(await this.loadWholeTable(file, stamp, size), offset, limit);
    }
    return this.readIndexedPage(file, stamp, sidecar.ipcIndex, offset, limit);
  }

  private pageOf(table: Table, offset: number, limit: number): OutputPage {
    return { columns: arrowPageColumns(table), totalRows: table.numRows, offset, rows: rowsToJson(table, offset, limit) };
  }

  /**
   * Reads only the batches that hold rows `[offset, offset + limit)`, each cached on its own. A big batch that
   * is not cached yet is not decoded whole for one page: only the page's rows are read (page-reader.ts), which
   * keeps the first page of a 1M-row output fast after a restart or on another machine.
   */
  private async readIndexedPage(file: string, stamp: string, index: IpcIndex, offset: number, limit: number): Promise<OutputPage> {
    const totalRows = index.batches.reduce((sum, batch) => sum + batch.rows, 0);
    const end = Math.min(offset + limit, totalRows);
    const wanted: { index: number; first: number }[] = [];
    let first = 0;
    index.batches.forEach((batch, i) => {
      const last = first + batch.rows;
      if (last > offset && first < end) wanted.push({ index: i, first });
      first = last;
    });
    if (wanted.length === 0) wanted.push({ index: 0, first: 0 }); // still need a schema for the columns
    const rows: Record<string, JsonValue>[] = [];
    let columns: OutputPage["columns"] = [];
    let handle: FileHandle | null = null;
    try {
      for (const { index: batchIndex, first: batchFirst } of wanted) {
        const key = `${file}#${batchIndex}`;
        let cached = this.cache.get(key);
        const range = index.batches[batchIndex];
        if ((!cached || cached.stamp !== stamp) && range.end - range.start > SLICE_BATCHES_ABOVE_BYTES) {
          handle ??= await open(file, "r");
          const from = Math.max(0, offset - batchFirst);
          const slice = await readBatchRows(handle, index, batchIndex, from, Math.max(0, end - batchFirst - from));
          if (slice) {
            columns = arrowPageColumns(slice);
            rows.push(...rowsToJson(slice, 0, slice.numRows));
            continue;
          }
        }
        if (!cached || cached.stamp !== stamp) {
          handle ??= await open(file, "r");
          const table = await readIndexedBatch(handle, index, batchIndex);
          cached = { table, stamp };
          this.cache.set(key, cached, range.end - range.start);
        }
        columns = arrowPageColumns(cached.table);
        const from = Math.max(0, offset - batchFirst);
        const to = Math.min(cached.table.numRows, end - batchFirst);
        if (to > from) rows.push(...rowsToJson(cached.table, from, to - from));
      }
    } finally {
      await handle?.close();
    }
    return { columns, totalRows, offset, rows };
  }

  private async withDuckdb<T>(work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    if (!this.duckdb) this.duckdb = DuckDBInstance.create(":memory:");
    const connection = await (await this.duckdb).connect();
    try {
      return await work(connection);
    } finally {
      connection.closeSync();
    }
  }

  private async readParquetPage(ref: OutputRef, offset: number, limit: number): Promise<OutputPage> {
    const file = this.dataPath(ref.runId, ref.block, "parquet");
    await this.fileStamp(file, ref);
    const sidecar = await this.readSidecar(ref.runId, ref.block);
    return this.withDuckdb(async (connection) => {
      const reader = await connection.runAndReadAll("SELECT * FROM read_parquet($1) LIMIT $2 OFFSET $3", [file, limit, offset]);
      const keys = recordKeys(reader.columnNames());
      const columns = reader.columnTypes().map((type, i) => ({ name: keys[i], type: duckdbTypeToArrowName(type) }));
      const rows = reader.getRows().map((values) => {
        const record: Record<string, JsonValue> = {};
        values.forEach((value, i) => {
          record[keys[i]] = duckdbValueToJson(value);
        });
        return record;
      });
      let totalRows = sidecar?.summary.rows;
      if (totalRows === undefined) {
        const counted = await connection.runAndReadAll("SELECT count(*) FROM read_parquet($1)", [file]);
        totalRows = toCount(counted.getRows()[0]?.[0]);
      }
      return { columns, totalRows, offset, rows };
    });
  }

  /**
   * Deletes the outputs of a run (retention, `sluice clean`), all but those of `keepBlocks` (each block's
   * latest successful output stays, for later runs that read it as a cached upstream). When blocks are
   * kept, the run's mirror copy is left whole: the mirror deletes by run.
   */
  async deleteRun(runId: string, keepBlocks: ReadonlySet<string> = new Set()): Promise<void> {
    const dir = this.runDir(runId);
    this.cache.deletePrefix(dir + path.sep);
    if (keepBlocks.size === 0) {
      await rm(dir, { recursive: true, force: true });
      await this.remote?.deleteRun(runId);
      return;
    }
    const entries = await readdir(dir).catch((error: unknown) => {
      if (isErrno(error, "ENOENT")) return [];
      throw error;
    });
    // Block names have no dot, so a file's block is its name up to the first dot (`trips.arrow`, `trips.summary.json`).
    for (const entry of entries) {
      if (!keepBlocks.has(entry.split(".")[0])) await rm(path.join(dir, entry), { recursive: true, force: true });
    }
  }

  /** Run ids that have an output folder, sorted. */
  async listRunIds(): Promise<string[]> {
    try {
      const entries = await readdir(this.outputsDir, { withFileTypes: true });
      return entries
        .filter((entry) => entry.isDirectory() && NAME.test(entry.name))
        .map((entry) => entry.name)
        .sort();
    } catch (error) {
      if (isErrno(error, "ENOENT")) return [];
      throw error;
    }
  }

  /** Drops cached tables, closes the DuckDB instance this store created and the mirror's client. */
  async close(): Promise<void> {
    this.cache.clear();
    await this.remote?.close();
    const duckdb = this.duckdb;
    this.duckdb = null;
    if (duckdb && this.ownsDuckdb) (await duckdb).closeSync();
  }
}
