/**
 * A pool of worker threads that run TypeScript blocks (DESIGN §7: each block can be killed on timeout or
 * cancel without taking the server down).
 *
 * - The worker entry (worker-entry.ts) is bundled once by esbuild into the cache directory at pool start,
 *   so the pool behaves the same under jest, tsx and plain node. Its apache-arrow and parquet-wasm stay
 *   external, resolved to Sluice's own copies by absolute path.
 * - A job waits in a FIFO queue until a worker is idle; its timeout starts when it starts running.
 * - Timeout and cancel `terminate()` the worker and replace it; a crash (process.exit in block code, out of
 *   memory, an uncaught exception from a timer) fails only the job that was running on it.
 * - parquet-wasm memory never shrinks, so a worker that reports more than `recycleAboveBytes` of wasm or
 *   heap memory after a job is replaced.
 */
import { createHash } from "node:crypto";
import { mkdirSync, renameSync, writeFileSync, existsSync } from "node:fs";
import { createRequire, isBuiltin } from "node:module";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { build, type Plugin } from "esbuild";
import { OperationalError, UserError, UnexpectedError } from "../core/errors";
import { formatDuration } from "../core/duration";
import type { LogLine, Progress } from "../executors/types";
import type { SqlParam } from "../sdk";
import type { JobResult, MainToWorker, SerializedError, SqlAnswer, WorkerJob, WorkerToMain } from "./worker-protocol";
import { errorMessage, rebuildError } from "./block-errors";

/** Pool size, where the compiled entry goes, and the limits that decide when a worker is replaced. */
export interface WorkerPoolOptions {
  size: number;
  cacheDir: string;
  /** Environment of block code (`ctx.env`, `process.env` in a worker). Default: Node's, a copy of this process's. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Replace a worker after a job once its wasm memory or JS heap passed this (default 1 GiB). */
  recycleAboveBytes?: number;
  /** V8 heap cap per worker (MB); exceeding it fails the block with `out_of_memory` instead of the process. */
  maxOldGenerationSizeMb?: number;
}

/** What the caller of a job hears while it runs. */
export interface JobHandlers {
  /** Block name, for error messages. */
  block: string;
  /** The block's .ts file: errors are located at its first stack frame in this file. */
  blockFile?: string;
  onLog?: (line: LogLine) => void;
  onProgress?: (progress: Progress) => void;
  /**
   * `ctx.sql`: run the query on the main thread, return its result as shared IPC bytes (or a Parquet file's path).
   * `jobEnded` aborts when the job finishes or is killed (timeout, cancel, crash): stop the query then.
   */
  onSql?: (query: string, params: SqlParam[], jobEnded: AbortSignal) => Promise<SqlAnswer>;
}

/** Cancel and timeout of one job; both kill the worker running it. */
export interface JobLimits {
  signal?: AbortSignal;
  /** 0 or undefined: no timeout. */
  timeoutMs?: number;
}

interface QueuedJob {
  job: WorkerJob;
  handlers: JobHandlers;
  limits: JobLimits;
  resolve: (result: JobResult) => void;
  reject: (error: Error) => void;
}

interface PoolWorker {
  worker: Worker;
  busy: QueuedJob | null;
  jobId: number | null;
  /** Set once we decided to kill it, so its exit event is not mistaken for a crash. */
  retiring: boolean;
  /** Aborted when the running job ends, however it ends. */
  jobEnded: AbortController | null;
  /** The worker finished loading its entry (a crash before that is a start-up failure, not a block's fault). */
  ready: boolean;
  cleanup: (() => void) | null;
}

const DEFAULT_RECYCLE_BYTES = 1024 * 1024 * 1024;
/** Workers that die before they are ready, in a row, after which the pool stops respawning and fails its queue. */
const MAX_STARTUP_FAILURES = 3;

/** Packages the worker bundle must not inline (see absoluteExternals: in fact every package is external). */
const WORKER_EXTERNALS = ["apache-arrow", "parquet-wasm"];

/** Resolves the worker's external packages to absolute paths of Sluice's copies, so the bundle runs from any directory. */
function absoluteExternals(): Plugin {
  const resolveHere = createRequire(join(__dirname, "worker-entry.ts"));
  return {
    name: "sluice-worker-externals",
    setup(b) {
      // Every package stays external (connectors pull in native modules such as DuckDB and pg): one copy per
      // thread, loaded by Node from Sluice's node_modules. Builtins need no path.
      b.onResolve({ filter: /^[^./]/ }, (args) =>
        isBuiltin(args.path) ? { path: args.path, external: true } : { path: resolveHere.resolve(args.path), external: true },
      );
    },
  };
}

/** Bundles worker-entry.ts into `<cacheDir>/workers/worker-<hash>.cjs` (content-addressed, written atomically). */
export async function compileWorkerEntry(cacheDir: string): Promise<string> {
  const result = await build({
    entryPoints: [join(__dirname, "worker-entry.ts")],
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    sourcemap: "inline",
    write: false,
    logLevel: "silent",
    external: WORKER_EXTERNALS,
    plugins: [absoluteExternals()],
  });
  const code = result.outputFiles[0].text;
  const hash = createHash("sha256").update(code).digest("hex").slice(0, 16);
  const dir = join(cacheDir, "workers");
  const file = join(dir, `worker-${hash}.cjs`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
    writeFileSync(temp, code);
    renameSync(temp, file);
  }
  return file;
}

/** A fixed-size set of block workers with a FIFO queue in front. */
export class WorkerPool {
  private readonly workers = new Set<PoolWorker>();
  private readonly queue: QueuedJob[] = [];
  private nextJobId = 1;
  private closed = false;
  private replaced = 0;
  private startupFailures = 0;

  private constructor(
    private readonly entryFile: string,
    private readonly options: WorkerPoolOptions,
  ) {}

  /** Compiles the worker entry and starts `size` warm workers. */
  static async start(options: WorkerPoolOptions): Promise<WorkerPool> {
    if (!Number.isInteger(options.size) || options.size < 1) throw new Error(`pool size must be a positive integer, got ${options.size}`);
    const entry = await compileWorkerEntry(options.cacheDir);
    const pool = new WorkerPool(entry, options);
    for (let i = 0; i < options.size; i++) pool.spawn();
    return pool;
  }

  /** Workers alive, busy, and jobs waiting; `replaced` counts workers killed, crashed or recycled. */
  get stats(): { workers: number; busy: number; queued: number; replaced: number } {
    let busy = 0;
    for (const w of this.workers) if (w.busy) busy++;
    return { workers: this.workers.size, busy, queued: this.queue.length, replaced: this.replaced };
  }

  /** Runs one job on the next idle worker. Rejects with `cancelled` / `timeout` errors, or what the job threw. */
  run(job: WorkerJob, handlers: JobHandlers, limits: JobLimits = {}): Promise<JobResult> {
    if (this.closed) return Promise.reject(new UnexpectedError("pool_closed", "the worker pool is closed"));
    if (limits.signal?.aborted) return Promise.reject(cancelledError(handlers.block));
    if (this.startupFailures >= MAX_STARTUP_FAILURES) this.startupFailures = MAX_STARTUP_FAILURES - 1; // one more try
    return new Promise<JobResult>((resolve, reject) => {
      const queued: QueuedJob = { job, handlers, limits, resolve, reject };
      this.queue.push(queued);
      const onAbortWhileQueued = (): void => {
        const index = this.queue.indexOf(queued);
        if (index >= 0) {
          this.queue.splice(index, 1);
          reject(cancelledError(handlers.block));
        }
      };
      limits.signal?.addEventListener("abort", onAbortWhileQueued, { once: true });
      queued.resolve = (result) => {
        limits.signal?.removeEventListener("abort", onAbortWhileQueued);
        resolve(result);
      };
      queued.reject = (error) => {
        limits.signal?.removeEventListener("abort", onAbortWhileQueued);
        reject(error);
      };
      this.dispatch();
    });
  }

  /** Decodes a Parquet file to Arrow IPC (SharedArrayBuffer-backed) on a pool worker. */
  async decodeParquet(path: string, signal?: AbortSignal): Promise<Uint8Array> {
    const result = await this.run({ kind: "decode-parquet", path }, { block: "(decode parquet)" }, { signal });
    if (result.kind !== "table") throw new UnexpectedError("bad_worker_reply", "decode-parquet returned no table");
    return result.ipc;
  }

  /** Terminates every worker; queued jobs fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const queued of this.queue.splice(0)) queued.reject(new UnexpectedError("pool_closed", "the worker pool was closed"));
    const exits: Promise<number>[] = [];
    for (const w of this.workers) {
      w.retiring = true;
      w.cleanup?.();
      w.jobEnded?.abort();
      w.busy?.reject(new UnexpectedError("pool_closed", "the worker pool was closed"));
      w.busy = null;
      exits.push(w.worker.terminate());
    }
    this.workers.clear();
    await Promise.all(exits);
  }

  private spawn(): PoolWorker {
    const worker = new Worker(this.entryFile, {
      workerData: { fallbackResolveFrom: join(__dirname, "worker-entry.ts") },
      env: this.options.env ? { ...this.options.env } : undefined,
      resourceLimits: this.options.maxOldGenerationSizeMb ? { maxOldGenerationSizeMb: this.options.maxOldGenerationSizeMb } : undefined,
    });
    const w: PoolWorker = { worker, busy: null, jobId: null, retiring: false, cleanup: null, jobEnded: null, ready: false };
    this.workers.add(w);
    worker.unref();
    worker.on("message", (message: WorkerToMain) => this.onMessage(w, message));
    worker.on("error", (error) => this.onCrash(w, error, null));
    worker.on("exit", (code) => this.onCrash(w, null, code));
    return w;
  }

  private dispatch(): void {
    for (const w of this.workers) {
      if (this.queue.length === 0) return;
      if (w.busy || w.retiring) continue;
      const queued = this.queue.shift();
      if (queued) this.start(w, queued);
    }
    // Replace workers lost to kills/crashes (spawn is lazy only after close()).
    while (!this.closed && this.queue.length > 0 && this.workers.size < this.options.size) {
      const queued = this.queue.shift();
      if (queued) this.start(this.spawn(), queued);
    }
  }

  private start(w: PoolWorker, queued: QueuedJob): void {
    const jobId = this.nextJobId++;
    w.busy = queued;
    w.jobId = jobId;
    w.jobEnded = new AbortController();
    const { signal, timeoutMs } = queued.limits;
    const block = queued.handlers.block;
    const onAbort = (): void => this.kill(w, cancelledError(block));
    signal?.addEventListener("abort", onAbort, { once: true });
    const timer =
      timeoutMs && timeoutMs > 0
        ? setTimeout(() => this.kill(w, new OperationalError("timeout", `block ${block} timed out after ${formatDuration(Math.round(timeoutMs))}`, { block })), timeoutMs)
        : null;
    w.cleanup = () => {
      signal?.removeEventListener("abort", onAbort);
      if (timer) clearTimeout(timer);
      w.cleanup = null;
    };
    const message: MainToWorker = { type: "job", jobId, job: queued.job };
    w.worker.ref(); // a running job keeps the process alive; idle workers do not
    w.worker.postMessage(message);
  }

  /** Ends the running job with `error`, terminates the worker and starts a replacement. */
  private kill(w: PoolWorker, error: Error): void {
    if (w.retiring) return;
    const jobId = w.jobId;
    w.retiring = true;
    if (jobId !== null) w.worker.postMessage({ type: "abort", jobId } satisfies MainToWorker);
    this.finish(w, (job) => job.reject(error));
    this.retire(w);
  }

  private retire(w: PoolWorker): void {
    w.retiring = true;
    this.workers.delete(w);
    this.replaced++;
    void w.worker.terminate();
    if (!this.closed && this.startupFailures < MAX_STARTUP_FAILURES) {
      this.spawn();
      this.dispatch();
    }
  }

  private finish(w: PoolWorker, settle: (job: QueuedJob) => void): void {
    const job = w.busy;
    w.cleanup?.();
    w.jobEnded?.abort();
    w.jobEnded = null;
    w.busy = null;
    w.jobId = null;
    w.worker.unref();
    if (job) settle(job);
  }

  private onMessage(w: PoolWorker, message: WorkerToMain): void {
    if (message.type === "ready") {
      w.ready = true;
      this.startupFailures = 0;
      return;
    }
    const job = w.busy;
    if (job === null || message.jobId !== w.jobId) return; // late message from a finished or killed job
    switch (message.type) {
      case "log":
        job.handlers.onLog?.(message.line);
        return;
      case "progress":
        job.handlers.onProgress?.(message.progress);
        return;
      case "sql":
        this.answerSql(w, message.requestId, job, message.query, message.params);
        return;
      case "done":
      case "failed": {
        const overLimit = Math.max(message.stats.wasmBytes, message.stats.heapUsedBytes) > (this.options.recycleAboveBytes ?? DEFAULT_RECYCLE_BYTES);
        if (message.type === "done") this.finish(w, (j) => j.resolve(message.result));
        else this.finish(w, (j) => j.reject(rebuildError(message.error, job.handlers.block, job.handlers.blockFile)));
        if (overLimit) this.retire(w);
        else this.dispatch();
        return;
      }
    }
  }

  private answerSql(w: PoolWorker, requestId: number, job: QueuedJob, query: string, params: SqlParam[]): void {
    const reply = (message: MainToWorker): void => {
      if (w.busy === job && !w.retiring) w.worker.postMessage(message);
    };
    const onSql = job.handlers.onSql;
    if (onSql === undefined) {
      reply({ type: "sql-result", requestId, ok: false, error: { name: "Error", message: "ctx.sql is not available here" } });
      return;
    }
    const jobEnded = w.jobEnded?.signal ?? AbortSignal.abort();
    onSql(query, params, jobEnded).then(
      (answer) => reply({ type: "sql-result", requestId, ok: true, answer }),
      (error: unknown) => {
        const serialized: SerializedError = { name: "Error", message: errorMessage(error), code: stringCode(error) };
        reply({ type: "sql-result", requestId, ok: false, error: serialized });
      },
    );
  }

  private onCrash(w: PoolWorker, error: Error | null, exitCode: number | null): void {
    if (w.retiring || !this.workers.has(w)) return;
    if (!w.ready) {
      // The worker entry itself failed (e.g. a package it needs is missing): not the block's fault, and
      // respawning forever would only spin. Give up after a few tries; the next run() tries again.
      this.startupFailures++;
      const failure = new UnexpectedError("worker_start_failed", `a block worker failed to start: ${error ? errorMessage(error) : `exit code ${exitCode ?? "?"}`}`, {}, { cause: error });
      this.finish(w, (job) => job.reject(failure));
      if (this.startupFailures >= MAX_STARTUP_FAILURES) {
        for (const queued of this.queue.splice(0)) queued.reject(failure);
      }
      this.retire(w);
      return;
    }
    const block = w.busy?.handlers.block ?? "(idle worker)";
    const crash = crashError(block, error, exitCode, w.busy?.handlers.blockFile);
    this.finish(w, (job) => job.reject(crash));
    this.retire(w);
  }
}

function stringCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code: unknown = Reflect.get(error, "code");
  return typeof code === "string" ? code : undefined;
}

function cancelledError(block: string): UserError {
  return new UserError("cancelled", `block ${block} was cancelled`, { block });
}

/** Why a worker died under a job: out of memory, process.exit() in block code, or an uncaught exception. */
function crashError(block: string, error: Error | null, exitCode: number | null, blockFile: string | undefined): Error {
  if (error !== null) {
    if (stringCode(error) === "ERR_WORKER_OUT_OF_MEMORY") {
      return new OperationalError("out_of_memory", `block ${block} ran out of memory: ${error.message}`, { block }, { cause: error });
    }
    // An exception thrown outside the awaited chain (a timer callback, an unhandled rejection): the block's own error.
    return rebuildError({ name: error.name, message: error.message, stack: error.stack, code: stringCode(error) }, block, blockFile);
  }
  return new UserError("worker_exited", `block ${block} ended its worker thread (exit code ${exitCode ?? "?"}), e.g. by calling process.exit()`, { block });
}
