/**
 * The default executor: blocks run on this machine. TypeScript blocks run in a pool of child processes, so
 * one that hangs, spins, crashes or passes its memory limit is killed and replaced without taking the
 * server down; SQL blocks run in a DuckDB database per run, so SQL → SQL chains never leave DuckDB.
 *
 * The pool starts on first use (the constructor does no IO, so wiring it up in lib/server stays cheap).
 */
import { availableParallelism } from "node:os";
import { join } from "node:path";
import type { BlockLanguage } from "../core/model";
import { runSqlBlock } from "../blocks/sql-block";
import { runTsBlock } from "../blocks/ts-block";
import { RunDatabases } from "../blocks/run-database";
import { WorkerPool } from "../blocks/worker-pool";
import { duckdbToArrow } from "../arrow/duckdb-to-arrow";
import type { BlockRunRequest, BlockRunResult, RunScopedExecutor } from "./types";
import type { Table } from "apache-arrow";
import type { Profiles } from "../io/profiles";

export interface LocalExecutorOptions {
  /** Project root (holds sluice.yaml and pipelines/). Requests carry their own; this one is where `ctx.io` will read sluice.yaml. */
  projectDir: string;
  /** Compiled blocks, the compiled worker entry, run databases' spill files, ctx.sql hand-off files. */
  cacheDir: string;
  /** Block processes for TypeScript blocks; default: the number of CPUs. */
  poolSize?: number;
  /** Used when a request carries no timeout (timeoutMs ≤ 0 is "none" only if this is 0 too). */
  defaultTimeoutMs?: number;
  /** Environment visible to block code (`ctx.env`); default: a copy of this process's. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Replace a block process once its parquet-wasm or heap memory passed this many bytes (default 1 GiB). */
  recycleWorkerAboveBytes?: number;
  /**
   * Memory limit of a TypeScript block without `memory:` in pipeline.yaml (bytes; default 2 GiB,
   * `SLUICE_BLOCK_MEMORY`): above it the block fails with `memory_limit`.
   */
  blockMemoryBytes?: number;
  /** Connection profiles of `sluice.yaml`, from which every TS block's `ctx.io` is built. */
  profiles?: Profiles;
  /** The data directory (`.sluice/`): `ctx.io.duckdb()` keeps its warehouse file here. */
  dataDir?: string;
}

/** Runs one block per `execute()`: TypeScript on the process pool, SQL in the run's DuckDB database. */
export class LocalExecutor implements RunScopedExecutor {
  private poolStart: Promise<WorkerPool> | null = null;
  private readonly databases: RunDatabases;
  private closed = false;

  constructor(private readonly options: LocalExecutorOptions) {
    this.databases = new RunDatabases(join(options.cacheDir, "duckdb"));
  }

  /** The pool of block processes, started on first call (and retried on the next call if starting failed). */
  pool(): Promise<WorkerPool> {
    this.poolStart ??= WorkerPool.start({
      size: this.options.poolSize ?? availableParallelism(),
      cacheDir: this.options.cacheDir,
      env: this.options.env,
      recycleAboveBytes: this.options.recycleWorkerAboveBytes,
      memoryLimitBytes: this.options.blockMemoryBytes,
    }).catch((error: unknown) => {
      this.poolStart = null;
      throw error;
    });
    return this.poolStart;
  }

  /** Starts the pool in the background (its failure surfaces again at the first `execute`). */
  warm(): void {
    if (!this.closed) this.pool().catch(() => undefined);
  }

  async execute(request: BlockRunRequest): Promise<BlockRunResult> {
    if (this.closed) throw new Error("LocalExecutor is closed");
    const timeoutMs = request.timeoutMs > 0 ? request.timeoutMs : (this.options.defaultTimeoutMs ?? 0);
    const effective: BlockRunRequest = timeoutMs === request.timeoutMs ? request : { ...request, timeoutMs };
    const language: BlockLanguage = request.block.language;
    // TS blocks build `ctx.io` from these; SQL blocks with `connection:` open that profile.
    const connections = {
      profiles: this.options.profiles ?? { file: null, connections: {} },
      dataDir: this.options.dataDir ?? join(this.options.projectDir, ".sluice"),
      projectDir: this.options.projectDir,
    };
    switch (language) {
      case "ts":
        return runTsBlock(effective, { pool: await this.pool(), databases: this.databases, cacheDir: this.options.cacheDir, io: connections });
      case "sql":
        return runSqlBlock(effective, { databases: this.databases, connections });
    }
  }

  /**
   * A DuckDB query over the run's database (its SQL outputs and loaded upstreams) as an Arrow table,
   * decoded in a pool process (see duckdb-to-arrow.ts). For callers outside block code, e.g. previews.
   */
  async queryRun(runId: string, query: string, params: readonly unknown[] = []): Promise<Table> {
    const pool = await this.pool();
    const db = await this.databases.get(runId);
    const connection = await db.connect();
    try {
      return await duckdbToArrow(connection, query, params, { tempDir: db.tempDir, decode: (path) => pool.decodeParquet(path) });
    } finally {
      db.release(connection);
    }
  }

  async endRun(runId: string): Promise<void> {
    await this.databases.end(runId);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.databases.closeAll();
    const pool = await this.poolStart?.catch(() => null);
    await pool?.close();
  }
}
