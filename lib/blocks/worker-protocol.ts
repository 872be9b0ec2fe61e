/**
 * Messages between the server and a block process (a child process, see worker-pool.ts), sent over Node's
 * IPC channel with `serialization: "advanced"` (so bigints, Dates and bytes survive). Tables cross as Arrow
 * IPC bytes: inline in the message when small, else as a file the receiver reads and deletes: the channel
 * serialises a message and copies it through a pipe in chunks, while a file is written once and read back
 * from the page cache. No benchmark measures the crossover yet; 256 KiB keeps small tables in one message.
 */
import type { BlockType, Variables } from "../core/model";
import type { ErrorKind } from "../core/errors";
import type { OutputFormat } from "../core/output-types";
import type { BlockTests, BlockWrite, LogLine, Progress, RunLookupAnswer, RunLookupQuery } from "../core/execution";
import type { SqlParam } from "../sdk";
import type { Profiles } from "../io/profiles";

/** Tables up to this size travel inside the message; bigger ones through a file (see the file comment). */
export const INLINE_TABLE_BYTES = 256 * 1024;

/** An upstream as the block process reads it: the output file the output store persisted. */
export interface WorkerInput {
  name: string;
  path: string;
  format: OutputFormat;
}

/** Arrow IPC bytes crossing the process boundary: inline, or in a file the receiver deletes after reading. */
export type TableTransfer = { ipc: Uint8Array } | { file: string };

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
  /** A dynamic instance's row (`ctx.item`). */
  item?: Record<string, unknown>;
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

/** What a block did besides its result: its `ctx.io` writes and its data test's outcome. */
export interface BlockFeedback {
  writes?: BlockWrite[];
  tests?: BlockTests;
}

/** A finished job as the pool's callers see it: the table's bytes already in this process. */
export type JobResult = ({ kind: "table"; ipc: Uint8Array } | { kind: "none" } | { kind: "sensor"; value: boolean }) & { feedback?: BlockFeedback };

/** A finished job as the block process reports it. */
export type WireResult = ({ kind: "table"; table: TableTransfer } | { kind: "none" } | { kind: "sensor"; value: boolean }) & { feedback?: BlockFeedback };

/** What the block process reports after each job, so the pool can recycle processes whose memory only grows. */
export interface WorkerStats {
  wasmBytes: number;
  heapUsedBytes: number;
}

/**
 * A `ctx.sql` result as the server produces it: Arrow IPC stream bytes (built from DuckDB's chunks), or,
 * for result types that path does not convert, a Parquet file the block process decodes and deletes.
 */
export type SqlAnswer = { ipc: Uint8Array } | { path: string };

/** A `ctx.sql` result on its way to the block process: Arrow bytes as a `TableTransfer`, or the Parquet file. */
export type SqlWireAnswer = { table: TableTransfer } | { parquet: string };

export type MainToWorker =
  /** `outputFile`: where a table result too big to travel inline is written. */
  | { type: "job"; jobId: number; job: WorkerJob; outputFile: string }
  | { type: "sql-result"; requestId: number; ok: true; answer: SqlWireAnswer }
  | { type: "sql-result"; requestId: number; ok: false; error: SerializedError }
  | { type: "runs-result"; requestId: number; ok: true; answer: RunLookupAnswer }
  | { type: "runs-result"; requestId: number; ok: false; error: SerializedError };

export type WorkerToMain =
  | { type: "ready" }
  /** Thrown outside the awaited chain (a timer, an unhandled rejection): the process exits right after. */
  | { type: "uncaught"; error: SerializedError }
  | { type: "log"; jobId: number; line: LogLine }
  | { type: "progress"; jobId: number; progress: Progress }
  | { type: "sql"; jobId: number; requestId: number; query: string; params: SqlParam[] }
  /** `ctx.runs.latest`, answered by the server from its run records. */
  | { type: "runs"; jobId: number; requestId: number; query: RunLookupQuery }
  | { type: "done"; jobId: number; result: WireResult; stats: WorkerStats }
  | { type: "failed"; jobId: number; error: SerializedError; stats: WorkerStats };

/** Flattens any thrown value; the stack is read here, in the process that threw, where source maps apply. */
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
