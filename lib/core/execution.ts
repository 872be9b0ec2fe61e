/**
 * The execution contract between the runner and whatever runs a block: what a block run is asked to do
 * (`BlockRunRequest`) and what it hands back (`BlockRunResult`), with the log lines and progress it reports
 * on the way. Pure types, so that the block runtime, the stores and the executors all depend on this one
 * description instead of on each other.
 */
import type { BlockSpec, Variables } from "./model";
import type { OutputRecord, OutputWriter } from "./output-types";
import type { RunState } from "./run-model";

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
  /** A dynamic instance (`child[0]`): its row of the dynamic block's output, `ctx.item` and `{{ item.x }}`. */
  item?: Record<string, unknown>;
  /** A SQL block run whose query is given here instead of its file (the runner's reduce of dynamic instances). */
  sql?: string;
  /** `ctx.runs.latest`: answered by the runner from its run store; absent where there is none (a queue worker). */
  findRun?: (query: RunLookupQuery) => Promise<RunLookupAnswer>;
}

/** `ctx.runs.latest` as it crosses to the server: the logical date already resolved to an ISO instant. */
export interface RunLookupQuery {
  pipeline: string;
  logicalDate: string;
  state: RunState | null;
}

/** The run found, or null. */
export type RunLookupAnswer = { id: string; state: RunState; logicalDate: string } | null;

/** One `ctx.io` write a block made: which connector, where (never credentials), how much. */
export interface BlockWrite {
  /** The `ctx.io` connector: `postgres`, `duckdb`, `files`, `gcs`, `s3`, `bigquery`, with its profile name when not the default. */
  connector: string;
  location: string;
  rows: number;
  /** When the connector knows it cheaply (files it wrote). */
  bytes?: number;
}

/** A block's data test: the `check()` assertions (or the one `test()` without any) that passed, or the one that failed. */
export interface BlockTests {
  passed: number;
  /** The failing assertion's message; absent when every check passed. */
  failed?: string;
}

export interface BlockRunResult {
  /** Null for exporters and sensors that return nothing. */
  output: OutputRecord | null;
  /** In-memory IPC (SharedArrayBuffer-backed) of a TypeScript block's output, for downstream blocks in this run. */
  ipc?: Uint8Array;
  /** Sensors: whether the condition held. */
  sensorResult?: boolean;
  /** Every `ctx.io` write of the block, in call order (exporters show these instead of an output). */
  writes?: BlockWrite[];
  /** Set when the block exports a `test()`. */
  tests?: BlockTests;
}
