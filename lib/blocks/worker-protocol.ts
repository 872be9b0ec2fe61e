/**
 * Messages between the main thread and a block worker. Tables only ever cross as Arrow IPC bytes in a
 * SharedArrayBuffer (DESIGN §12: never a structured clone of a table), everything else is small JSON-like data.
 */
import type { BlockType, Variables } from "../core/model";
import type { ErrorKind } from "../core/errors";
import type { OutputFormat } from "../store/output-types";
import type { LogLine, Progress } from "../executors/types";
import type { SqlParam } from "../sdk";
import type { Profiles } from "../io/profiles";

/** An upstream as the worker reads it: shared IPC bytes when in memory, else the persisted file. */
export interface WorkerInput {
  name: string;
  ipc?: Uint8Array;
  path?: string;
  format?: OutputFormat;
}

export interface RunBlockJob {
  kind: "run-block";
  /** The compiled CommonJS bundle (in the cache directory). */
  compiledFile: string;
  /** The block's `.ts` file: imports resolve from here, stack traces point here. */
  blockFile: string;
  runId: string;
  pipeline: string;
  block: string;
  blockType: BlockType;
  attempt: number;
  logicalDate: string;
  dataInterval: { start: string; end: string };
  variables: Variables;
  inputs: WorkerInput[];
  /** What `ctx.io` is built from in the worker: the `sluice.yaml` profiles (plain JSON) and folders. */
  io: { profiles: Profiles; dataDir: string; projectDir: string };
}

/** Decode a Parquet file into Arrow IPC off the main thread (DuckDB → Arrow for callers without a block worker). */
export interface DecodeParquetJob {
  kind: "decode-parquet";
  path: string;
}

export type WorkerJob = RunBlockJob | DecodeParquetJob;

/** An error as it crosses threads: enough to rebuild a Sluice error, or a block error with its mapped stack. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  /** Set when the worker raised a Sluice error (return-type check, test failure). */
  kind?: ErrorKind;
}

export type JobResult =
  | { kind: "table"; ipc: Uint8Array }
  | { kind: "none" }
  | { kind: "sensor"; value: boolean };

/** What the worker reports after each job, so the pool can recycle workers whose memory only grows. */
export interface WorkerStats {
  wasmBytes: number;
  heapUsedBytes: number;
}

/**
 * A `ctx.sql` result as the main thread hands it over: Arrow IPC stream bytes in a SharedArrayBuffer (built
 * from DuckDB's chunks), or, for result types that path does not convert, a Parquet file the worker decodes and deletes.
 */
export type SqlAnswer = { ipc: Uint8Array } | { path: string };

export type MainToWorker =
  | { type: "job"; jobId: number; job: WorkerJob }
  | { type: "sql-result"; requestId: number; ok: true; answer: SqlAnswer }
  | { type: "sql-result"; requestId: number; ok: false; error: SerializedError }
  | { type: "abort"; jobId: number };

export type WorkerToMain =
  | { type: "ready" }
  | { type: "log"; jobId: number; line: LogLine }
  | { type: "progress"; jobId: number; progress: Progress }
  | { type: "sql"; jobId: number; requestId: number; query: string; params: SqlParam[] }
  | { type: "done"; jobId: number; result: JobResult; stats: WorkerStats }
  | { type: "failed"; jobId: number; error: SerializedError; stats: WorkerStats };

/** Flattens any thrown value; the stack is read here, in the thread that threw, where source maps apply. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const code: unknown = Reflect.get(error, "code");
    const kind: unknown = Reflect.get(error, "kind");
    return {
      name: error.name,
      message: error.message,
      stack: error.stack,
      code: typeof code === "string" ? code : undefined,
      kind: kind === "user" || kind === "operational" || kind === "unexpected" ? kind : undefined,
    };
  }
  return { name: "Error", message: typeof error === "string" ? error : describeThrown(error) };
}

function describeThrown(value: unknown): string {
  try {
    return `non-Error value thrown: ${JSON.stringify(value)}`;
  } catch {
    return `non-Error value thrown: ${String(value)}`;
  }
}
