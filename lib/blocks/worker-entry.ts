/**
 * The body of a block worker thread. The pool compiles this file once with esbuild into the cache
 * directory (so it runs the same under jest, tsx and plain node) and starts `size` copies of it.
 *
 * One job at a time per worker: load the compiled block with a `require` rooted at the block's own file
 * (its imports resolve from the project), call its default export, check the return value, run its
 * `test()`, and hand the output back as Arrow IPC in a SharedArrayBuffer. Console output during a job
 * becomes log lines of that block run. The main thread kills the worker on timeout or cancel, so nothing
 * here needs to be interruptible.
 */
import { readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { getHeapStatistics } from "node:v8";
import { parentPort, workerData } from "node:worker_threads";
import { Table, tableFromIPC, tableToIPC } from "apache-arrow";
import { UserError } from "../core/errors";
import type { LogLine, Progress } from "../executors/types";
import { createBlockIo } from "../io/block-io";
import type { BlockContext, SqlParam } from "../sdk";
import { buildBlockContext, formatLogArgs } from "./block-context";
import { interpretReturn } from "./block-result";
import { loadParquetWasm, parquetToIPC, readParquetFileSync, wasmMemoryBytes } from "./parquet-arrow";
import {
  serializeError,
  type JobResult,
  type MainToWorker,
  type RunBlockJob,
  type SqlAnswer,
  type WorkerInput,
  type WorkerJob,
  type WorkerStats,
  type WorkerToMain,
} from "./worker-protocol";

const port = parentPort;
if (port === null) throw new Error("worker-entry must run in a worker thread");

process.setSourceMapsEnabled(true);

/** Where Sluice's own packages resolve from, for block imports the project does not provide (apache-arrow). */
const fallbackResolveFrom: unknown = Reflect.get(Object(workerData), "fallbackResolveFrom");
const fallbackRequire = typeof fallbackResolveFrom === "string" ? createRequire(fallbackResolveFrom) : null;

let currentJobId: number | null = null;
let currentAbort: AbortController | null = null;
let nextRequestId = 1;
const pendingSql = new Map<number, { resolve: (answer: SqlAnswer) => void; reject: (error: Error) => void }>();

function post(message: WorkerToMain): void {
  port?.postMessage(message);
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

function stats(): WorkerStats {
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
  if (input.ipc !== undefined) return tableFromIPC(input.ipc);
  if (input.path === undefined) throw new Error(`upstream ${input.name} has neither in-memory data nor a file`);
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

function toShared(bytes: Uint8Array): Uint8Array {
  const shared = new Uint8Array(new SharedArrayBuffer(bytes.byteLength));
  shared.set(bytes);
  return shared;
}

function sqlViaMain(jobId: number, query: string, params: SqlParam[]): Promise<Table> {
  const requestId = nextRequestId++;
  return new Promise<SqlAnswer>((resolve, reject) => {
    pendingSql.set(requestId, { resolve, reject });
    post({ type: "sql", jobId, requestId, query, params });
  }).then(async (answer) => {
    // Shared IPC bytes: wrapped without a copy. The Parquet fallback is decoded here and its file deleted.
    if ("ipc" in answer) return tableFromIPC(answer.ipc);
    try {
      await loadParquetWasm();
      return readParquetFileSync(answer.path);
    } finally {
      rmSync(answer.path, { force: true });
    }
  });
}

function testFailure(error: unknown, block: string): UserError {
  const message = error instanceof Error ? error.message : String(error);
  const failure = new UserError("test_failed", `test failed: ${message}`, { block }, { cause: error });
  if (error instanceof Error && error.stack) {
    const frames = error.stack.split("\n").filter((line) => line.trimStart().startsWith("at "));
    failure.stack = [`UserError: ${failure.message}`, ...frames].join("\n");
  }
  return failure;
}

async function runBlock(jobId: number, job: RunBlockJob, signal: AbortSignal): Promise<JobResult> {
  const require = blockRequire(job.blockFile);
  if (job.inputs.some((input) => input.ipc === undefined && input.format === "parquet")) await loadParquetWasm();
  const getters = new Map<string, () => Table>();
  for (const input of job.inputs) {
    let table: Table | null = null;
    getters.set(input.name, () => (table ??= decodeInput(input)));
  }
  const progress = (update: Progress) => post({ type: "progress", jobId, progress: update });
  const io = createBlockIo(job.io.profiles, { dataDir: job.io.dataDir, projectDir: job.io.projectDir, signal, onProgress: progress });
  try {
    return await runBlockCode(job, require, getters, buildBlockContext(job, getters, signal, {
      log: emitLog,
      progress,
      sql: (query, params) => sqlViaMain(jobId, query, params),
      env: (name) => process.env[name],
      io,
    }));
  } finally {
    await io.close();
  }
}

async function runBlockCode(job: RunBlockJob, require: NodeJS.Require, getters: Map<string, () => Table>, ctx: BlockContext): Promise<JobResult> {
  const exports = loadBlock(job, require);
  const main = exports.default;
  if (typeof main !== "function") {
    throw new UserError("no_default_export", `block ${job.block} (${job.blockFile}) has no default export function; write \`export default async function …\``, {
      block: job.block,
      file: job.blockFile,
    });
  }
  const first = job.inputs.length > 0 ? getters.get(job.inputs[0].name)?.() : undefined;
  const returned: unknown = job.blockType === "loader" || job.blockType === "sensor" ? await main(ctx) : await main(first, ctx);
  const result = interpretReturn(job.blockType, job.block, returned);
  const test = exports.test;
  if (typeof test === "function" && result.kind !== "sensor") {
    const subject = result.kind === "table" ? result.table : (first ?? new Table());
    try {
      await test(subject, ctx);
    } catch (error) {
      throw testFailure(error, job.block);
    }
  }
  switch (result.kind) {
    case "sensor":
      return { kind: "sensor", value: result.value };
    case "none":
      return { kind: "none" };
    case "table":
      return { kind: "table", ipc: toShared(tableToStreamBytes(result.table, require)) };
  }
}

async function runJob(jobId: number, job: WorkerJob, signal: AbortSignal): Promise<JobResult> {
  switch (job.kind) {
    case "run-block":
      return runBlock(jobId, job, signal);
    case "decode-parquet":
      return { kind: "table", ipc: toShared(await parquetToIPC(readFileSync(job.path))) };
  }
}

port.on("message", (message: MainToWorker) => {
  switch (message.type) {
    case "job": {
      const { jobId, job } = message;
      const abort = new AbortController();
      currentJobId = jobId;
      currentAbort = abort;
      runJob(jobId, job, abort.signal).then(
        (result) => {
          flushPartialLines();
          currentJobId = null;
          currentAbort = null;
          post({ type: "done", jobId, result, stats: stats() });
        },
        (error: unknown) => {
          flushPartialLines();
          currentJobId = null;
          currentAbort = null;
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
    case "abort":
      if (message.jobId === currentJobId) currentAbort?.abort(new Error("block cancelled"));
      return;
  }
});

post({ type: "ready" });
