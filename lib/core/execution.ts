/**
 * The execution contract between the runner and whatever runs a block: what a block run is asked to do
 * (`BlockRunRequest`) and what it hands back (`BlockRunResult`), with the log lines and progress it reports
 * on the way. Pure types, so that the block runtime, the stores and the executors all depend on this one
 * description instead of on each other.
 */
import type { BlockSpec, Variables } from "./model";
import type { OutputRecord, OutputWriter } from "./output-types";

/** One line of a block's log: console output and `ctx.log` calls. */
export interface LogLine {
  at: string; // ISO time
  level: "debug" | "info" | "warn" | "error";
  message: string;
}

/** Progress a block reports while running (rows produced, bytes downloaded of total). */
export interface Progress {
  rows?: number;
  bytes?: number;
  totalBytes?: number;
  message?: string;
}

/**
 * An upstream output as the runner hands it to the next block. `ipc` is present when the upstream ran
 * in this process during this run (Arrow IPC bytes, backed by a SharedArrayBuffer so that worker threads
 * read it without a copy); otherwise the block reads the persisted file.
 */
export interface BlockInput {
  name: string;
  output: OutputRecord;
  ipc?: Uint8Array;
}

export interface BlockRunRequest {
  runId: string;
  pipelineName: string;
  /** Absolute path of the pipeline folder (holds pipeline.yaml and the block files). */
  pipelineDir: string;
  /** Absolute path of the project root (holds sluice.yaml, pipelines/). */
  projectDir: string;
  block: BlockSpec;
  /** Upstream outputs in the order of `block.upstream`. */
  inputs: BlockInput[];
  variables: Variables;
  /** ISO instant. */
  logicalDate: string;
  dataInterval: { start: string; end: string };
  attempt: number;
  timeoutMs: number;
  signal: AbortSignal;
  onLog: (line: LogLine) => void;
  onProgress: (progress: Progress) => void;
  /** Where outputs are persisted. */
  outputs: OutputWriter;
}

export interface BlockRunResult {
  /** Null for exporters and sensors that return nothing. */
  output: OutputRecord | null;
  /** In-memory IPC (SharedArrayBuffer-backed) of a TypeScript block's output, for downstream blocks in this run. */
  ipc?: Uint8Array;
  /** Sensors: whether the condition held. */
  sensorResult?: boolean;
}
