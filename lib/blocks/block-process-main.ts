/**
 * The body of a block process. The pool compiles this file once with esbuild into the cache directory (so
 * it runs the same under jest, tsx and plain node) and forks `size` child processes of it, which talk to
 * the server over Node's IPC channel (worker-protocol.ts).
 *
 * One job at a time per process: load the compiled block with a `require` rooted at the block's own file
 * (its imports resolve from the project), call its default export, check the return value, run its
 * `test()`, and hand the output back as Arrow IPC (inline when small, else through the file the pool
 * named). Console output during a job becomes log lines of that block run. The server kills the process
 * on timeout, cancel or when it passes its memory limit, so nothing here needs to be interruptible.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { getHeapStatistics } from "node:v8";
import { Table, tableFromIPC, tableToIPC } from "apache-arrow";
import { UserError, messageOf } from "../core/errors";
import type { BlockTests, BlockWrite, LogLine, Progress, RunLookupAnswer, RunLookupQuery } from "../core/execution";
import type { BlockIo } from "../io/block-io";
import type { BlockContext, SqlParam } from "../sdk";
import { buildBlockContext, formatLogArgs } from "./block-context";
import { interpretReturn } from "./block-result";
import { loadParquetWasm, parquetToIPC, readParquetFileSync, wasmMemoryBytes } from "../arrow/parquet-arrow";
import {
  INLINE_TABLE_BYTES,
  serializeError,
  type MainToWorker,
  type RunBlockJob,
  type SqlWireAnswer,
  type TableTransfer,
  type WireResult,
  type WorkerInput,
  type WorkerJob,
  type WorkerStats,
  type WorkerToMain,
} from "./worker-protocol";

const send = process.send?.bind(process);
if (send === undefined) throw new Error("block-process-main must run in a child process forked with an IPC channel");

process.setSourceMapsEnabled(true);

/** Where Sluice's own packages resolve from, for block imports the project does not provide (apache-arrow). */
const fallbackResolveFrom: string | undefined = process.argv[2];
const fallbackRequire = fallbackResolveFrom ? createRequire(fallbackResolveFrom) : null;

let currentJobId: number | null = null;
let nextRequestId = 1;
const pendingSql = new Map<number, { resolve: (answer: SqlWireAnswer) => void; reject: (error: Error) => void }>();
const pendingRuns = new Map<number, { resolve: (answer: RunLookupAnswer) => void; reject: (error: Error) => void }>();

function post(message: WorkerToMain, then?: () => void): void {
  if (!process.connected) return;
  send?.(message, undefined, {}, () => then?.());
}

function emitLog(level: LogLine["level"], message: string): void {
  if (currentJobId === null) return;
  post({ type: "log", jobId: currentJobId, line: { at: new Date().toISOString(), level, message } });
}

/** Partial lines written to stdout/stderr, completed by a later write or flushed when the job ends. */
const partial: Record<"info" | "error", string> = { info: "", error: "" };

/**
 * Raw writes (process.stdout.write, console.table, libraries that print) become log lines too. Hooked here
 * rather than read from the Worker's stdout stream on the main side because that stream is a separate
 * channel: its lines could arrive after the job's "done" message and be lost.
 */
function writeHook(level: "info" | "error") {
  return (chunk: unknown, ...rest: unknown[]): boolean => {
    partial[level] += typeof chunk === "string" ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk).toString("utf8") : String(chunk);
    let newline = partial[level].indexOf("\n");
    while (newline >= 0) {
      emitLog(level, partial[level].slice(0, newline));
      partial[level] = partial[level].slice(newline + 1);
      newline = partial[level].indexOf("\n");
    }
    const callback = rest[rest.length - 1];
    if (typeof callback === "function") callback();
    return true;
  };
}

function flushPartialLines(): void {
  for (const level of ["info", "error"] as const) {
    if (partial[level] !== "") emitLog(level, partial[level]);
    partial[level] = "";
  }
}

process.stdout.write = writeHook("info");
process.stderr.write = writeHook("error");

// console.* in block code (and in libraries it calls) become log lines of the running block.
console.log = (...args: unknown[]) => emitLog("info", formatLogArgs(args));
console.info = (...args: unknown[]) => emitLog("info", formatLogArgs(args));
console.debug = (...args: unknown[]) => emitLog("debug", formatLogArgs(args));
console.warn = (...args: unknown[]) => emitLog("warn", formatLogArgs(args));
console.error = (...args: unknown[]) => emitLog("error", formatLogArgs(args));

/**
 * V8's collector, exposed by the pool's `--expose-gc` flag and taken off the global object so block code
 * does not see it.
 */
const collectGarbage: unknown = Reflect.get(globalThis, "gc");
Reflect.deleteProperty(globalThis, "gc");

/** Above this resident size a finished job's garbage is collected before reporting (a full GC costs ms). */
const COLLECT_ABOVE_BYTES = 512 * 1024 * 1024;

/**
 * Memory after a job, for the pool's recycle decision. A big job leaves its tables as garbage that V8 frees
 * only at its next full collection; collected now, the memory that remains is what this process really keeps
 * (parquet-wasm's, which never shrinks), and the process is not replaced — losing its warmed-up WebAssembly
 * — for memory it was about to give back anyway.
 */
function stats(): WorkerStats {
  if (typeof collectGarbage === "function" && process.memoryUsage.rss() > COLLECT_ABOVE_BYTES) collectGarbage();
  return { wasmBytes: wasmMemoryBytes(), heapUsedBytes: getHeapStatistics().used_heap_size };
}

function isModuleNotFound(error: unknown): boolean {
  return error instanceof Error && Reflect.get(error, "code") === "MODULE_NOT_FOUND";
}

/** `require` for block code: the project first (createRequire on the block file), then Sluice's own packages. */
function blockRequire(blockFile: string): NodeJS.Require {
  const projectRequire = createRequire(blockFile);
  const load = (id: string): unknown => {
    try {
      return projectRequire(id);
    } catch (error) {
      if (fallbackRequire === null || !isModuleNotFound(error) || id.startsWith(".") || id.startsWith("/")) throw error;
      return fallbackRequire(id);
    }
  };
  return Object.assign(load, {
    resolve: projectRequire.resolve,
    cache: projectRequire.cache,
    extensions: projectRequire.extensions,
    main: projectRequire.main,
  });
}

/**
 * Loads the compiled block (a factory, see compile-block.ts) with Node's loader, so its inline source map
 * makes stack frames point into the .ts file, and runs it with the block's own `require`. The factory is
 * called afresh per job: module-level state of a block does not leak from one run into the next.
 */
function loadBlock(job: RunBlockJob, require: NodeJS.Require): Record<string, unknown> {
  const factory: unknown = createRequire(job.compiledFile)(job.compiledFile);
  if (typeof factory !== "function") throw new Error(`compiled block ${job.compiledFile} is not a block factory`);
  const module: { exports: Record<string, unknown> } = { exports: {} };
  factory(require, module, module.exports, job.blockFile, dirname(job.blockFile));
  return module.exports;
}

function decodeInput(input: WorkerInput): Table {
  if (input.format === "parquet") return readParquetFileSync(input.path);
  return tableFromIPC(readFileSync(input.path));
}

/** A table of whichever apache-arrow copy → IPC stream bytes, using that copy's writer when it is not ours. */
function tableToStreamBytes(table: Table, require: NodeJS.Require): Uint8Array {
  if (table instanceof Table) return tableToIPC(table, "stream");
  try {
    const theirs: unknown = require("apache-arrow");
    const write: unknown = typeof theirs === "object" && theirs !== null ? Reflect.get(theirs, "tableToIPC") : undefined;
    if (typeof write === "function") {
      const bytes: unknown = write(table, "stream");
      if (bytes instanceof Uint8Array) return bytes;
    }
  } catch {
    // fall through to our writer, which reads tables structurally
  }
  return tableToIPC(table, "stream");
}

/**
 * Table bytes for the server: inline when small, else written to `outputFile`. An inline view is copied
 * when it covers only part of its buffer, since the channel would otherwise send the whole buffer.
 */
function transfer(bytes: Uint8Array, outputFile: string): TableTransfer {
  if (bytes.byteLength <= INLINE_TABLE_BYTES) {
    return { ipc: bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice() };
  }
  writeFileSync(outputFile, bytes);
  return { file: outputFile };
}

/** Reads (and deletes) a table that came through a file. */
function receive(table: TableTransfer): Table {
  if ("ipc" in table) return tableFromIPC(table.ipc);
  try {
    return tableFromIPC(readFileSync(table.file));
  } finally {
    rmSync(table.file, { force: true });
  }
}

function runsViaServer(jobId: number, query: RunLookupQuery): Promise<RunLookupAnswer> {
  const requestId = nextRequestId++;
  return new Promise<RunLookupAnswer>((resolve, reject) => {
    pendingRuns.set(requestId, { resolve, reject });
    post({ type: "runs", jobId, requestId, query });
  });
}

function sqlViaServer(jobId: number, query: string, params: SqlParam[]): Promise<Table> {
  const requestId = nextRequestId++;
  return new Promise<SqlWireAnswer>((resolve, reject) => {
    pendingSql.set(requestId, { resolve, reject });
    post({ type: "sql", jobId, requestId, query, params });
  }).then(async (answer) => {
    if ("table" in answer) return receive(answer.table);
    // The Parquet fallback (types the Arrow path does not convert) is decoded here and its file deleted.
    try {
      await loadParquetWasm();
      return readParquetFileSync(answer.parquet);
    } finally {
      rmSync(answer.parquet, { force: true });
    }
  });
}

function testFailure(error: unknown, block: string): UserError {
  const message = messageOf(error);
  const failure = new UserError("test_failed", `test failed: ${message}`, { block }, { cause: error });
  if (error instanceof Error && error.stack) {
    const frames = error.stack.split("\n").filter((line) => line.trimStart().startsWith("at "));
    failure.stack = [`UserError: ${failure.message}`, ...frames].join("\n");
  }
  return failure;
}

/**
 * The connectors' module, loaded on first use of `ctx.io`: they pull in DuckDB, pg, zod and a YAML parser,
 * which take longer to load than most blocks take to run. `require`, not `import()`: this file runs as
 * CommonJS (built, or bundled into the cache), where `require` of a bundled module is synchronous and cheap.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadBlockIo = (): typeof import("../io/block-io") => require("../io/block-io");

/** `ctx.io` built on first access (see loadBlockIo); `close` closes it only if it was built. */
function lazyBlockIo(create: () => BlockIo): { io: BlockIo; close: () => Promise<void> } {
  let built: BlockIo | null = null;
  const real = (): BlockIo => (built ??= create());
  const io = new Proxy({} as BlockIo, {
    get: (_target, key) => {
      const target = real();
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
    has: (_target, key) => Reflect.has(real(), key),
    ownKeys: () => Reflect.ownKeys(real()),
    getOwnPropertyDescriptor: (_target, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(real(), key);
      return descriptor === undefined ? undefined : { ...descriptor, configurable: true };
    },
  });
  return { io, close: async () => (built === null ? undefined : built.close()) };
}

async function runBlock(jobId: number, job: RunBlockJob, signal: AbortSignal, outputFile: string): Promise<WireResult> {
  const require = blockRequire(job.blockFile);
  if (job.inputs.some((input) => input.format === "parquet")) await loadParquetWasm();
  const getters = new Map<string, () => Table>();
  for (const input of job.inputs) {
    let table: Table | null = null;
    getters.set(input.name, () => (table ??= decodeInput(input)));
  }
  const progress = (update: Progress) => post({ type: "progress", jobId, progress: update });
  const { io, close: closeIo } = lazyBlockIo(() => loadBlockIo().createBlockIo(job.io.profiles, { dataDir: job.io.dataDir, projectDir: job.io.projectDir, signal, onProgress: progress }));
  const writes: BlockWrite[] = [];
  try {
    const { result, tests } = await runBlockCode(job, require, getters, outputFile, buildBlockContext(job, getters, signal, {
      log: emitLog,
      progress,
      sql: (query, params) => sqlViaServer(jobId, query, params),
      runs: (query) => runsViaServer(jobId, query),
      env: (name) => process.env[name],
      io,
      onWrite: (write) => writes.push(write),
    }));
    return writes.length > 0 || tests ? { ...result, feedback: { ...(writes.length > 0 ? { writes } : {}), ...(tests ? { tests } : {}) } } : result;
  } finally {
    await closeIo();
  }
}

async function runBlockCode(
  job: RunBlockJob,
  require: NodeJS.Require,
  getters: Map<string, () => Table>,
  outputFile: string,
  ctx: BlockContext,
): Promise<{ result: WireResult; tests?: BlockTests }> {
  const exports = loadBlock(job, require);
  const main = exports.default;
  if (typeof main !== "function") {
    throw new UserError("no_default_export", `block ${job.block} (${job.blockFile}) has no default export function; write \`export default async function …\``, {
      block: job.block,
      file: job.blockFile,
    });
  }
  const first = job.inputs.length > 0 ? getters.get(job.inputs[0].name)?.() : undefined;
  const returned: unknown = job.blockType === "loader" || job.blockType === "sensor" || job.blockType === "condition" ? await main(ctx) : await main(first, ctx);
  const result = interpretReturn(job.blockType, job.block, returned);
  const test = exports.test;
  let tests: BlockTests | undefined;
  if (typeof test === "function" && result.kind !== "sensor") {
    const subject = result.kind === "table" ? result.table : (first ?? new Table());
    const counter = { passed: 0 };
    checkCounters[CHECKS] = counter;
    try {
      await test(subject, ctx);
    } catch (error) {
      throw testFailure(error, job.block);
    } finally {
      delete checkCounters[CHECKS];
    }
    // Every `check()` that held is a test; a `test()` asserting its own way counts as one.
    tests = { passed: Math.max(1, counter.passed) };
  }
  switch (result.kind) {
    case "sensor":
      return { result: { kind: "sensor", value: result.value }, tests };
    case "none":
      return { result: { kind: "none" }, tests };
    case "table":
      return { result: { kind: "table", table: transfer(tableToStreamBytes(result.table, require), outputFile) }, tests };
  }
}

/** Where `check()` of the SDK (bundled into each block, so a global is the one channel) counts the assertions that held. */
const CHECKS = Symbol.for("sluice.checks");
const checkCounters: Record<symbol, { passed: number } | undefined> = globalThis as unknown as Record<symbol, { passed: number } | undefined>;

async function runJob(jobId: number, job: WorkerJob, signal: AbortSignal, outputFile: string): Promise<WireResult> {
  switch (job.kind) {
    case "run-block":
      return runBlock(jobId, job, signal, outputFile);
    case "decode-parquet":
      return { kind: "table", table: transfer(await parquetToIPC(readFileSync(job.path)), outputFile) };
  }
}

/**
 * An exception outside the awaited chain (a timer callback, an unhandled promise rejection) ends the
 * process, as it would end a plain Node program; the server hears the error first so that it can fail
 * the running block with the block's own message and stack.
 */
function dieOf(error: unknown): void {
  flushPartialLines();
  post({ type: "uncaught", error: serializeError(error) }, () => process.exit(1));
  // If the channel is gone there is no one to tell; leave anyway.
  setTimeout(() => process.exit(1), 1000).unref();
}
process.on("uncaughtException", dieOf);
process.on("unhandledRejection", dieOf);
// The server went away (killed, crashed): a block process never outlives it.
process.on("disconnect", () => process.exit(0));

process.on("message", (message: MainToWorker) => {
  switch (message.type) {
    case "job": {
      const { jobId, job, outputFile } = message;
      // Never aborted from here: the server ends a cancelled or timed-out block by killing this process.
      const abort = new AbortController();
      currentJobId = jobId;
      runJob(jobId, job, abort.signal, outputFile).then(
        (result) => {
          flushPartialLines();
          currentJobId = null;
          post({ type: "done", jobId, result, stats: stats() });
        },
        (error: unknown) => {
          flushPartialLines();
          currentJobId = null;
          post({ type: "failed", jobId, error: serializeError(error), stats: stats() });
        },
      );
      return;
    }
    case "sql-result": {
      const pending = pendingSql.get(message.requestId);
      if (pending === undefined) return;
      pendingSql.delete(message.requestId);
      if (message.ok) pending.resolve(message.answer);
      else pending.reject(Object.assign(new Error(message.error.message), { code: message.error.code }));
      return;
    }
    case "runs-result": {
      const pending = pendingRuns.get(message.requestId);
      if (pending === undefined) return;
      pendingRuns.delete(message.requestId);
      if (message.ok) pending.resolve(message.answer);
      else pending.reject(Object.assign(new Error(message.error.message), { code: message.error.code, kind: message.error.kind }));
      return;
    }
  }
});

post({ type: "ready" });
