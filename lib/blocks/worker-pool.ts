/**
 * A pool of child processes that run TypeScript blocks: each block can be killed on timeout, cancel or
 * memory overrun without taking the server down.
 *
 * - Processes, not worker threads: a worker thread shares the server's memory, and V8's `resourceLimits`
 *   bound only its JS heap, not the Buffers and ArrayBuffers it allocates (external memory). A block
 *   filling Buffers in a loop would OOM-kill the whole server. A process's resident memory can be measured
 *   and bounded: each job has a memory limit (`memory:` in pipeline.yaml, else the pool's default) which is
 *   enforced twice — V8's heap is capped at it (`--max-old-space-size`), and a watchdog thread
 *   (memory-watchdog.ts) samples the process's resident memory every `memorySampleMs` and SIGKILLs it above
 *   the limit. Either way the block fails with `memory_limit` naming the block and the limit; the process is
 *   replaced. Without procfs (macOS) only the heap cap applies.
 * - The entry is the prebuilt `dist/block-process.cjs` (scripts/build-engine.cjs): always when this code runs
 *   from dist/ itself, and from the sources (jest, tsx) when dist/ is a build of the same sources. Otherwise
 *   block-process-main.ts is bundled by esbuild into the cache directory at pool start (content-addressed, so
 *   once per change). Either way its packages stay external and resolve to Sluice's own copies.
 * - Processes are forked at start and kept warm. The heap cap is fixed when a process starts, so an idle
 *   process whose cap matches the job's limit is preferred; otherwise an idle one is replaced by a process
 *   with the right cap (a block with its own `memory:` pays one fork, ≈ 100–250 ms, when no match is idle).
 * - A job waits in a FIFO queue until a process is free; its timeout starts when it starts running.
 * - Timeout and cancel kill the process and replace it; a crash (process.exit in block code, an uncaught
 *   exception from a timer) fails only the job that was running on it.
 * - parquet-wasm memory never shrinks, so a process whose wasm memory or heap passed `recycleAboveBytes`
 *   after a job, or that keeps ¾ of its memory limit resident, is replaced.
 */
import { fork, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, renameSync, writeFileSync, existsSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { createRequire, isBuiltin } from "node:module";
import { Socket } from "node:net";
import { join } from "node:path";
import { build, type Plugin } from "esbuild";
import { describeByteSize } from "../core/byte-size";
import { OperationalError, UserError, UnexpectedError, messageOf } from "../core/errors";
import { formatDuration } from "../core/duration";
import type { LogLine, Progress, RunLookupAnswer, RunLookupQuery } from "../core/execution";
import type { SqlParam } from "../sdk";
import { MemoryWatchdog } from "./memory-watchdog";
import { residentBytes } from "./process-memory";
import {
  INLINE_TABLE_BYTES,
  serializeError,
  type JobResult,
  type MainToWorker,
  type SerializedError,
  type SqlAnswer,
  type SqlWireAnswer,
  type WireResult,
  type WorkerJob,
  type WorkerToMain,
} from "./worker-protocol";
import { rebuildError } from "./block-errors";
import { currentBuiltEntry } from "../../scripts/build-stamp.cjs";

/** The memory limit of a block that sets no `memory:` and of a pool given no default. */
export const DEFAULT_BLOCK_MEMORY_BYTES = 2 * 1024 * 1024 * 1024;

/** Pool size, where the compiled entry goes, and the limits that decide when a process is killed or replaced. */
export interface WorkerPoolOptions {
  size: number;
  cacheDir: string;
  /** Environment of block code (`ctx.env`, `process.env` in a block). Default: a copy of this process's. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Replace a process after a job once its wasm or heap memory passed this (default 1 GiB), or it keeps ¾ of its memory limit resident. */
  recycleAboveBytes?: number;
  /** Memory limit of a job that brings none (default `DEFAULT_BLOCK_MEMORY_BYTES`). */
  memoryLimitBytes?: number;
  /** How often the watchdog samples a running block's resident memory (default 25 ms). */
  memorySampleMs?: number;
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
   * `ctx.sql`: run the query in this process, return its result as IPC bytes (or a Parquet file's path).
   * `jobEnded` aborts when the job finishes or is killed (timeout, cancel, crash): stop the query then.
   */
  onSql?: (query: string, params: SqlParam[], jobEnded: AbortSignal) => Promise<SqlAnswer>;
  /** `ctx.runs.latest`; absent: the block gets `runs_unavailable`. */
  onRuns?: (query: RunLookupQuery) => Promise<RunLookupAnswer>;
}

/** Cancel, timeout and memory limit of one job; each kills the process running it. */
export interface JobLimits {
  signal?: AbortSignal;
  /** 0 or undefined: no timeout. */
  timeoutMs?: number;
  /** Resident memory the block's process may use; undefined: the pool's default. */
  memoryBytes?: number;
}

interface QueuedJob {
  job: WorkerJob;
  handlers: JobHandlers;
  limits: JobLimits;
  memoryBytes: number;
  resolve: (result: JobResult) => void;
  reject: (error: Error) => void;
}

interface BlockProcess {
  child: ChildProcess;
  /** `--max-old-space-size` it was started with (MiB). */
  heapCapMb: number;
  busy: QueuedJob | null;
  jobId: number | null;
  /** Where the running job writes a table result too big to travel inline. */
  outputFile: string | null;
  /** Files this pool wrote for the running job (ctx.sql results), removed when it ends. */
  handedOver: Set<string>;
  /** Set once we decided to kill it, so its exit event is not mistaken for a crash. */
  retiring: boolean;
  /** Aborted when the running job ends, however it ends. */
  jobEnded: AbortController | null;
  /** The process finished loading its entry (a crash before that is a start-up failure, not a block's fault). */
  ready: boolean;
  cleanup: (() => void) | null;
  /** The last bytes it wrote to stderr outside block code (V8's fatal "heap out of memory" lands here). */
  stderrTail: string;
  /** What it reported throwing outside the awaited chain, just before exiting. */
  uncaught: SerializedError | null;
  exited: Promise<void>;
}

const DEFAULT_RECYCLE_BYTES = 1024 * 1024 * 1024;
const DEFAULT_SAMPLE_MS = 25;
/** Share of its memory limit a process may keep resident between jobs before it is replaced. */
const RECYCLE_RESIDENT_SHARE = 0.75;
const STDERR_TAIL_CHARS = 4096;
/** Processes that die before they are ready, in a row, after which the pool stops respawning and fails its queue. */
const MAX_STARTUP_FAILURES = 3;
/** How V8 reports reaching `--max-old-space-size`. */
const HEAP_OUT_OF_MEMORY = /heap out of memory|Reached heap limit/i;

/** Packages the entry bundle must not inline (see absoluteExternals: in fact every package is external). */
const WORKER_EXTERNALS = ["apache-arrow", "parquet-wasm"];

/** Resolves the entry's external packages to absolute paths of Sluice's copies, so the bundle runs from any directory. */
function absoluteExternals(): Plugin {
  const resolveHere = createRequire(join(__dirname, "block-process-main.ts"));
  return {
    name: "sluice-worker-externals",
    setup(b) {
      // Every package stays external (connectors pull in native modules such as DuckDB and pg): loaded by
      // Node from Sluice's node_modules. Builtins need no path.
      b.onResolve({ filter: /^[^./]/ }, (args) =>
        isBuiltin(args.path) ? { path: args.path, external: true } : { path: resolveHere.resolve(args.path), external: true },
      );
    },
  };
}

/** Bundles block-process-main.ts into `<cacheDir>/workers/worker-<hash>.cjs` (content-addressed, written atomically). */
export async function compileWorkerEntry(cacheDir: string): Promise<string> {
  const result = await build({
    entryPoints: [join(__dirname, "block-process-main.ts")],
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

/** Set to `true` by scripts/build-engine.cjs in the bundles of dist/; undeclared when running from the sources. */
declare const SLUICE_BUNDLED: boolean | undefined;

/** The repository root (this file is lib/blocks/worker-pool.ts; the build keeps `__dirname` as the source's). */
const ROOT = join(__dirname, "..", "..");

/**
 * The block process entry to fork: `dist/block-process.cjs` when it is the same code as this (see the file
 * comment), else a bundle of the sources compiled into the cache directory.
 */
export async function blockProcessEntry(cacheDir: string): Promise<string> {
  if (typeof SLUICE_BUNDLED !== "undefined" && SLUICE_BUNDLED) return join(ROOT, "dist", "block-process.cjs");
  return currentBuiltEntry(ROOT, "block-process") ?? compileWorkerEntry(cacheDir);
}

/** V8's heap cap for a memory limit: the same number of MiB, so the heap alone can never exceed the limit. */
function heapCapMb(memoryBytes: number): number {
  return Math.max(16, Math.ceil(memoryBytes / (1024 * 1024)));
}

/** A fixed-size set of warm block processes with a FIFO queue in front. */
export class WorkerPool {
  private readonly processes = new Set<BlockProcess>();
  private readonly queue: QueuedJob[] = [];
  private readonly watchdog: MemoryWatchdog;
  private readonly tmpDir: string;
  private readonly defaultMemoryBytes: number;
  private nextJobId = 1;
  private closed = false;
  private replaced = 0;
  private startupFailures = 0;

  private constructor(
    private readonly entryFile: string,
    private readonly options: WorkerPoolOptions,
  ) {
    this.tmpDir = join(options.cacheDir, "tmp");
    this.defaultMemoryBytes = options.memoryLimitBytes ?? DEFAULT_BLOCK_MEMORY_BYTES;
    this.watchdog = new MemoryWatchdog(options.memorySampleMs ?? DEFAULT_SAMPLE_MS);
  }

  /** Finds the entry (see blockProcessEntry) and forks `size` warm processes. */
  static async start(options: WorkerPoolOptions): Promise<WorkerPool> {
    if (!Number.isInteger(options.size) || options.size < 1) throw new Error(`pool size must be a positive integer, got ${options.size}`);
    const entry = await blockProcessEntry(options.cacheDir);
    mkdirSync(join(options.cacheDir, "tmp"), { recursive: true });
    const pool = new WorkerPool(entry, options);
    for (let i = 0; i < options.size; i++) pool.spawn(heapCapMb(pool.defaultMemoryBytes));
    return pool;
  }

  /** Processes alive, busy, and jobs waiting; `replaced` counts processes killed, crashed or recycled. */
  get stats(): { workers: number; busy: number; queued: number; replaced: number } {
    let busy = 0;
    for (const p of this.processes) if (p.busy) busy++;
    return { workers: this.processes.size, busy, queued: this.queue.length, replaced: this.replaced };
  }

  /** Process ids of the live block processes (for tests and diagnostics). */
  get pids(): number[] {
    return [...this.processes].flatMap((p) => (p.child.pid === undefined ? [] : [p.child.pid]));
  }

  /**
   * Runs one job on the next free process. Rejects with `cancelled` / `timeout` / `memory_limit` errors,
   * or what the job threw.
   */
  run(job: WorkerJob, handlers: JobHandlers, limits: JobLimits = {}): Promise<JobResult> {
    if (this.closed) return Promise.reject(new UnexpectedError("pool_closed", "the worker pool is closed"));
    if (limits.signal?.aborted) return Promise.reject(cancelledError(handlers.block));
    if (this.startupFailures >= MAX_STARTUP_FAILURES) this.startupFailures = MAX_STARTUP_FAILURES - 1; // one more try
    return new Promise<JobResult>((resolve, reject) => {
      const queued: QueuedJob = { job, handlers, limits, memoryBytes: limits.memoryBytes ?? this.defaultMemoryBytes, resolve, reject };
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

  /** Decodes a Parquet file to Arrow IPC on a pool process. */
  async decodeParquet(path: string, signal?: AbortSignal): Promise<Uint8Array> {
    const result = await this.run({ kind: "decode-parquet", path }, { block: "(decode parquet)" }, { signal });
    if (result.kind !== "table") throw new UnexpectedError("bad_worker_reply", "decode-parquet returned no table");
    return result.ipc;
  }

  /** Kills every process; queued jobs fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const queued of this.queue.splice(0)) queued.reject(new UnexpectedError("pool_closed", "the worker pool was closed"));
    const exits: Promise<void>[] = [];
    for (const p of this.processes) {
      p.retiring = true;
      this.finish(p, (job) => job.reject(new UnexpectedError("pool_closed", "the worker pool was closed")));
      // Referenced again so that this process waits for the deaths it awaits (idle processes are unref'd).
      setReferenced(p.child, true);
      p.child.kill("SIGKILL");
      exits.push(p.exited);
    }
    this.processes.clear();
    await Promise.all(exits);
    await this.watchdog.close();
  }

  private spawn(capMb: number): BlockProcess {
    const child = fork(this.entryFile, [join(__dirname, "block-process-main.ts")], {
      serialization: "advanced",
      // --expose-gc: the entry collects a big job's garbage before the recycle decision (and hides `gc`).
      execArgv: [`--max-old-space-size=${capMb}`, "--expose-gc"],
      env: blockEnv(this.options.env ?? process.env),
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    // "close", not "exit": it comes once stderr and the IPC channel are drained, so the heap-out-of-memory
    // message and an "uncaught" report sent just before exiting are in hand when the death is explained.
    const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
    const p: BlockProcess = {
      child,
      heapCapMb: capMb,
      busy: null,
      jobId: null,
      outputFile: null,
      handedOver: new Set(),
      retiring: false,
      cleanup: null,
      jobEnded: null,
      ready: false,
      stderrTail: "",
      uncaught: null,
      exited,
    };
    this.processes.add(p);
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      p.stderrTail = (p.stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
    });
    child.on("message", (message: WorkerToMain) => this.onMessage(p, message));
    child.on("close", (code: number | null, signal: NodeJS.Signals | null) => this.onExit(p, code, signal));
    // Spawn failures and sends to a process that just died: the exit event (if any) does the accounting.
    child.on("error", (error) => {
      if (child.pid === undefined) this.onExit(p, null, null, error);
    });
    setReferenced(p.child, false);
    return p;
  }

  private dispatch(): void {
    while (!this.closed && this.queue.length > 0) {
      const queued = this.queue[0];
      const cap = heapCapMb(queued.memoryBytes);
      const idle = [...this.processes].filter((p) => !p.busy && !p.retiring);
      let target = idle.find((p) => p.heapCapMb === cap);
      if (target === undefined && idle.length > 0) {
        // Swap an idle process for one whose heap cap matches this job's limit.
        this.discard(idle[0]);
        target = this.spawn(cap);
      }
      if (target === undefined && this.processes.size < this.options.size && this.startupFailures < MAX_STARTUP_FAILURES) target = this.spawn(cap);
      if (target === undefined) return;
      this.queue.shift();
      this.start(target, queued);
    }
  }

  /** Tops the pool up to its size with warm processes at the default heap cap. */
  private refill(): void {
    while (!this.closed && this.processes.size < this.options.size && this.startupFailures < MAX_STARTUP_FAILURES) {
      this.spawn(heapCapMb(this.defaultMemoryBytes));
    }
  }

  private start(p: BlockProcess, queued: QueuedJob): void {
    const jobId = this.nextJobId++;
    p.busy = queued;
    p.jobId = jobId;
    p.jobEnded = new AbortController();
    p.outputFile = join(this.tmpDir, `out-${process.pid}-${jobId}.arrow`);
    const { signal, timeoutMs } = queued.limits;
    const block = queued.handlers.block;
    const onAbort = (): void => this.kill(p, cancelledError(block));
    signal?.addEventListener("abort", onAbort, { once: true });
    const timer =
      timeoutMs && timeoutMs > 0
        ? setTimeout(() => this.kill(p, new OperationalError("timeout", `block ${block} timed out after ${formatDuration(Math.round(timeoutMs))}`, { block })), timeoutMs)
        : null;
    const pid = p.child.pid;
    if (pid !== undefined) this.watchdog.watch(pid, queued.memoryBytes);
    p.cleanup = () => {
      signal?.removeEventListener("abort", onAbort);
      if (timer) clearTimeout(timer);
      if (pid !== undefined) this.watchdog.unwatch(pid);
      p.cleanup = null;
    };
    setReferenced(p.child, true); // a running job keeps the server alive; idle processes do not
    this.send(p, { type: "job", jobId, job: queued.job, outputFile: p.outputFile });
  }

  /** A send fails only when the process is dying; its close event then explains the death and fails the job. */
  private send(p: BlockProcess, message: MainToWorker): void {
    if (!p.child.connected) return;
    p.child.send(message, () => undefined);
  }

  /** Ends the running job with `error`, kills the process and starts a replacement. */
  private kill(p: BlockProcess, error: Error): void {
    if (p.retiring) return;
    p.retiring = true;
    this.finish(p, (job) => job.reject(error));
    this.retire(p);
  }

  /** Kills a process without replacing it (the caller starts what it needs instead). */
  private discard(p: BlockProcess): void {
    p.retiring = true;
    this.processes.delete(p);
    this.replaced++;
    p.child.kill("SIGKILL");
  }

  private retire(p: BlockProcess): void {
    this.discard(p);
    this.dispatch();
    this.refill();
  }

  /** Detaches the running job from `p` and settles it; `keepOutput` when the caller still reads the output file. */
  private finish(p: BlockProcess, settle: (job: QueuedJob) => void, keepOutput = false): void {
    const job = p.busy;
    p.cleanup?.();
    p.jobEnded?.abort();
    p.jobEnded = null;
    p.busy = null;
    p.jobId = null;
    const leftovers = [...p.handedOver];
    if (!keepOutput && p.outputFile !== null) leftovers.push(p.outputFile);
    p.handedOver.clear();
    p.outputFile = null;
    for (const file of leftovers) void rm(file, { force: true });
    setReferenced(p.child, false);
    if (job) settle(job);
  }

  private onMessage(p: BlockProcess, message: WorkerToMain): void {
    if (message.type === "ready") {
      p.ready = true;
      this.startupFailures = 0;
      return;
    }
    if (message.type === "uncaught") {
      p.uncaught = message.error;
      return;
    }
    const job = p.busy;
    if (job === null || message.jobId !== p.jobId) return; // late message from a finished or killed job
    switch (message.type) {
      case "log":
        job.handlers.onLog?.(message.line);
        return;
      case "progress":
        job.handlers.onProgress?.(message.progress);
        return;
      case "sql":
        this.answerSql(p, message.requestId, job, message.query, message.params);
        return;
      case "runs": {
        const reply = (answer: MainToWorker): void => {
          if (p.busy === job && !p.retiring) this.send(p, answer);
        };
        const onRuns = job.handlers.onRuns;
        const asked = onRuns ? onRuns(message.query) : Promise.reject(new UserError("runs_unavailable", "ctx.runs needs the local executor (a queue worker has no run records)"));
        asked.then(
          (answer) => reply({ type: "runs-result", requestId: message.requestId, ok: true, answer }),
          (error: unknown) => reply({ type: "runs-result", requestId: message.requestId, ok: false, error: serializeError(error) }),
        );
        return;
      }
      case "done":
      case "failed": {
        const pid = p.child.pid;
        const resident = pid === undefined ? 0 : (residentBytes(pid) ?? 0);
        // parquet-wasm's memory never shrinks: past the threshold the process is replaced. Resident memory
        // (measured after the entry collected the job's garbage) counts against the next job's limit, so a
        // process left holding most of its limit is replaced too — but not merely for being large: a fresh
        // process decodes its first Parquet file several times slower (new WebAssembly memory to fault in).
        const overLimit =
          Math.max(message.stats.wasmBytes, message.stats.heapUsedBytes) > (this.options.recycleAboveBytes ?? DEFAULT_RECYCLE_BYTES) ||
          resident > RECYCLE_RESIDENT_SHARE * p.heapCapMb * 1024 * 1024;
        if (message.type === "done") {
          const result = message.result;
          this.finish(p, (j) => void settleDone(j, result), true);
        } else {
          this.finish(p, (j) => j.reject(rebuildError(message.error, job.handlers.block, job.handlers.blockFile)));
        }
        if (overLimit) this.retire(p);
        else this.dispatch();
        return;
      }
    }
  }

  private answerSql(p: BlockProcess, requestId: number, job: QueuedJob, query: string, params: SqlParam[]): void {
    const reply = (message: MainToWorker): void => {
      if (p.busy === job && !p.retiring) this.send(p, message);
    };
    const onSql = job.handlers.onSql;
    if (onSql === undefined) {
      reply({ type: "sql-result", requestId, ok: false, error: { name: "Error", message: "ctx.sql is not available here" } });
      return;
    }
    const jobEnded = p.jobEnded?.signal ?? AbortSignal.abort();
    onSql(query, params, jobEnded)
      .then((answer) => this.toWire(p, job, requestId, answer))
      .then(
        (answer) => reply({ type: "sql-result", requestId, ok: true, answer }),
        (error: unknown) => {
          const serialized: SerializedError = { name: "Error", message: messageOf(error), code: stringCode(error) };
          reply({ type: "sql-result", requestId, ok: false, error: serialized });
        },
      );
  }

  /** A `ctx.sql` answer in the form that crosses the process boundary: small results inline, big ones through a file. */
  private async toWire(p: BlockProcess, job: QueuedJob, requestId: number, answer: SqlAnswer): Promise<SqlWireAnswer> {
    if ("path" in answer) return { parquet: answer.path };
    if (answer.ipc.byteLength <= INLINE_TABLE_BYTES) return { table: { ipc: answer.ipc } };
    const file = join(this.tmpDir, `sql-${process.pid}-${p.jobId ?? 0}-${requestId}.arrow`);
    if (p.busy !== job) throw new Error("the block ended");
    p.handedOver.add(file);
    await writeFile(file, answer.ipc);
    return { table: { file } };
  }

  private onExit(p: BlockProcess, exitCode: number | null, signal: NodeJS.Signals | null, spawnError?: Error): void {
    const pid = p.child.pid;
    const killedAtBytes = pid === undefined ? null : this.watchdog.takeKill(pid);
    if (p.retiring || !this.processes.has(p)) return;
    if (!p.ready) {
      // The entry itself failed (e.g. a package it needs is missing): not the block's fault, and respawning
      // forever would only spin. Give up after a few tries; the next run() tries again.
      this.startupFailures++;
      const why = spawnError ? messageOf(spawnError) : `exit code ${exitCode ?? signal ?? "?"}${p.stderrTail ? `: ${p.stderrTail.trim().split("\n").slice(-3).join(" ")}` : ""}`;
      const failure = new UnexpectedError("worker_start_failed", `a block process failed to start: ${why}`, {}, { cause: spawnError });
      p.retiring = true;
      this.finish(p, (job) => job.reject(failure));
      if (this.startupFailures >= MAX_STARTUP_FAILURES) {
        for (const queued of this.queue.splice(0)) queued.reject(failure);
      }
      this.retire(p);
      return;
    }
    const job = p.busy;
    p.retiring = true;
    if (job !== null) {
      const crash = crashError(job, p, exitCode, signal, killedAtBytes);
      this.finish(p, (j) => j.reject(crash));
    }
    this.retire(p);
  }
}

/** Resolves a finished job, reading (and deleting) its output when it came through a file. */
async function settleDone(job: QueuedJob, result: WireResult): Promise<void> {
  if (result.kind !== "table") {
    job.resolve(result);
    return;
  }
  const table = result.table;
  const feedback = result.feedback === undefined ? {} : { feedback: result.feedback };
  if ("ipc" in table) {
    job.resolve({ kind: "table", ipc: table.ipc, ...feedback });
    return;
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(table.file);
  } catch (error) {
    job.reject(new UnexpectedError("worker_output_lost", `block ${job.handlers.block}: its output could not be read back (${messageOf(error)})`, { block: job.handlers.block }));
    return;
  } finally {
    await rm(table.file, { force: true });
  }
  job.resolve({ kind: "table", ipc: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), ...feedback });
}

/**
 * The block's environment minus NODE_OPTIONS: the pool decides the process's flags (the heap cap), and a
 * loader or flag inherited that way (tsx, a debugger) would slow every start or undo the cap.
 */
function blockEnv(source: Readonly<Record<string, string | undefined>>): NodeJS.ProcessEnv {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(source)) if (value !== undefined && name !== "NODE_OPTIONS") env[name] = value;
  // Next's global types make NODE_ENV a required key of ProcessEnv; a block's environment may well lack it.
  return env as NodeJS.ProcessEnv;
}

/** Keeps the server's event loop alive for a busy process, and lets it exit while every process is idle. */
function setReferenced(child: ChildProcess, referenced: boolean): void {
  const stderr: unknown = child.stderr;
  if (referenced) {
    child.ref();
    child.channel?.ref();
    if (stderr instanceof Socket) stderr.ref();
  } else {
    child.unref();
    child.channel?.unref();
    if (stderr instanceof Socket) stderr.unref();
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

/**
 * A block over its memory limit. Operational, so it is retried per the block's `retries:` like a timeout:
 * the same block can fit on another attempt (a smaller upstream after a retry from upstream, an API that
 * pages differently, a transient spike), and each attempt is bounded by the limit, so a retry cannot hurt
 * the server. Whether that is worth it stays the author's call, as for any failure (`retries:` defaults to 0).
 */
function memoryLimitError(block: string, limitBytes: number, how: string): OperationalError {
  return new OperationalError(
    "memory_limit",
    `block ${block} exceeded its memory limit of ${describeByteSize(limitBytes)} (${how}); raise memory: in pipeline.yaml if it needs more`,
    { block },
  );
}

/** Why a process died under a job: its memory limit, process.exit() in block code, an uncaught exception, or a kill. */
function crashError(job: QueuedJob, p: BlockProcess, exitCode: number | null, signal: NodeJS.Signals | null, killedAtBytes: number | null): Error {
  const block = job.handlers.block;
  if (killedAtBytes !== null) return memoryLimitError(block, job.memoryBytes, `its process reached ${describeByteSize(killedAtBytes)} resident`);
  if (HEAP_OUT_OF_MEMORY.test(p.stderrTail)) return memoryLimitError(block, job.memoryBytes, "its JavaScript heap is capped at the same size");
  if (p.uncaught !== null) {
    // An exception thrown outside the awaited chain (a timer callback, an unhandled rejection): the block's own error.
    return rebuildError(p.uncaught, block, job.handlers.blockFile);
  }
  if (signal !== null) {
    return new OperationalError("worker_killed", `block ${block}: its process was killed by ${signal} (by the system's out-of-memory killer or an operator)`, { block });
  }
  return new UserError("worker_exited", `block ${block} ended its process (exit code ${exitCode ?? "?"}), e.g. by calling process.exit()`, { block });
}
