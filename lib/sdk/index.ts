/**
 * What block code imports as `@sluice/sdk`. The block compiler aliases `@sluice/sdk` to this
 * file and bundles it into every block, and the editor feeds it to Monaco for IntelliSense, so it holds
 * types and tiny helpers only: no Node-only imports, nothing heavy at runtime.
 */
import type { Table } from "apache-arrow";
import type { VariableValue } from "../core/model";
import type { SluiceIo, UpstreamRef } from "./io-types";

export type * from "./io-types";

export type { VariableValue };

/** A structured log of the block run: lines show up in the editor, the CLI and `GET …/logs`. */
export interface BlockLogger {
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

/** Progress the block reports while it runs (rows produced so far, bytes downloaded of a total). */
export interface BlockProgress {
  rows?: number;
  bytes?: number;
  totalBytes?: number;
  message?: string;
}

/** The period a run covers, Airflow-style: `[start, end)`; for a daily schedule, the day before the logical date. */
export interface DataInterval {
  start: Date;
  end: Date;
}

/** A value bound to a `$1…$n` placeholder of `ctx.sql` (never pasted into the SQL text). */
export type SqlParam = string | number | boolean | bigint | Date | null;

/**
 * Connectors configured in `sluice.yaml` (`ctx.io.postgres("default")`, `ctx.io.gcs(…)`, …); see
 * io-types.ts. An interface (not an alias) so that a project may add its own by declaration merging.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface BlockIO extends SluiceIo {}

/** Everything a block receives besides its input table. */
export interface BlockContext {
  /** The run's id, as the runs pages and `sluice run --json` show it. */
  readonly runId: string;
  /** The pipeline's name. */
  readonly pipeline: string;
  /** This block's name. */
  readonly block: string;
  /** 1 for the first attempt, 2 for the first retry, … */
  readonly attempt: number;
  /** Airflow's execution date: the instant the run stands for (not when it started). */
  readonly logicalDate: Date;
  /** The period the run covers; empty (`start` = `end`) for a run started by hand, which covers no interval. */
  readonly dataInterval: DataInterval;
  /** Merged variables: pipeline defaults → trigger → run. */
  readonly variables: Readonly<Record<string, VariableValue>>;
  /**
   * In an instance of a block downstream of a `dynamic: true` block: its row of that block's output (values
   * as JSON: numbers, strings, booleans, null; times as ISO text). Undefined in any other block.
   */
  readonly item?: Readonly<Record<string, unknown>>;
  /** An environment variable (secrets live there), or undefined. */
  env(name: string): string | undefined;
  /** Lines for the block's log (the editor, the CLI, `GET …/logs`); secrets in them are hidden. */
  readonly log: BlockLogger;
  /** Aborted when the block is cancelled or times out; pass it to fetch() and friends. */
  readonly signal: AbortSignal;
  /** Every upstream output by block name (decoded on first access). */
  readonly inputs: Readonly<Record<string, Table>>;
  /** Reports progress (rows so far, bytes of a total), shown live in the editor and the CLI. */
  progress(progress: BlockProgress): void;
  /**
   * Runs DuckDB SQL in the run's database, where every upstream is a table of its block name; `params`
   * bind to `$1…$n`. A query returns its result as an Arrow table; a statement without rows (COPY … TO,
   * CREATE, INSERT) runs as is and returns one row, `rows_changed`.
   */
  sql(query: string, params?: readonly SqlParam[]): Promise<Table>;
  /**
   * An upstream's output by reference, for `ctx.io.files.write`, `ctx.io.postgres(…).write` and
   * `ctx.io.duckdb(…).write`: they read it with DuckDB straight from the file the run persisted, so a large
   * output is never decoded into the block's memory. Throws for a name that is not an upstream with an output.
   */
  upstream(name: string): UpstreamRef;
  /** The connectors configured in `sluice.yaml` (and `files`, `http` and `duckdb`, which work without one). */
  readonly io: BlockIO;
  /** Runs of other pipelines of the project, e.g. for a sensor waiting on one (local executor only). */
  readonly runs: BlockRuns;
}

/** The state of a pipeline run. */
export type RunStateName = "queued" | "running" | "success" | "failed" | "cancelled";

/** Which run `ctx.runs.latest` looks for. */
export interface RunQuery {
  pipeline: string;
  /** Default: this run's logical date. Compared as an instant (`2024-01-31` is midnight UTC). */
  logicalDate?: Date | string;
  /** Only runs in this state; default: any state. */
  state?: RunStateName;
}

/** A run as `ctx.runs` reports it. */
export interface RunInfo {
  id: string;
  state: RunStateName;
  logicalDate: Date;
}

export interface BlockRuns {
  /**
   * The newest run (by creation) of `pipeline` for the logical date, or null when there is none. Answered
   * by the server from its run records; with the queue executor it throws `runs_unavailable`.
   */
  latest(query: RunQuery): Promise<RunInfo | null>;
}

/** A row a block may return instead of a Table (a schema is inferred from all rows). */
export type Row = Record<string, unknown>;

/** What loaders and transformers may return. */
export type BlockOutput = Table | Row[];

/** Signatures of the default export by block type; handy as annotations: `const load: Loader = async (ctx) => …`. */
export type Loader = (ctx: BlockContext) => BlockOutput | Promise<BlockOutput>;
export type Transformer = (input: Table, ctx: BlockContext) => BlockOutput | Promise<BlockOutput>;
export type Exporter = (input: Table, ctx: BlockContext) => void | Promise<void>;
export type Sensor = (ctx: BlockContext) => boolean | Promise<boolean>;
/** `export async function test(output, ctx)`: throw to fail the block. */
export type BlockTest = (output: Table, ctx: BlockContext) => void | Promise<void>;

/**
 * Throws when `condition` is false: the message becomes the block's failure ("test failed: …") when
 * called from `test()`. A helper so data tests read like assertions without importing node:assert.
 */
export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
  // Each check that holds inside `test()` is counted for the block's report ("3 tests passed"); the block
  // process installs the counter (this module is bundled into every block, so a global is the one channel).
  const counter = (globalThis as unknown as Record<symbol, { passed: number } | undefined>)[Symbol.for("sluice.checks")];
  if (counter) counter.passed += 1;
}

/** The run a callback (`on_success`, `on_failure`, `on_retry` in pipeline.yaml) is about. */
export interface CallbackRun {
  readonly id: string;
  readonly pipeline: string;
  /** `success` or `failed`; `running` for `on_retry`. */
  readonly state: string;
  /** The trigger that started it; null for a run started by hand. */
  readonly triggerId: string | null;
  readonly logicalDate: string | null;
  /** The run's page, when the server's address is known. */
  readonly link: string | null;
}

/** What a callback receives: the run, and for a failure or a retry the block and its error. */
export interface CallbackContext {
  readonly event: "success" | "failure" | "retry";
  readonly run: CallbackRun;
  /** The failed block's error (`on_failure`: the first block that failed; `on_retry`: the attempt that failed). */
  readonly error: { readonly block: string | null; readonly code: string; readonly message: string; readonly attempt?: number } | null;
  /** The run's variables. */
  readonly variables: Readonly<Record<string, VariableValue>>;
  /** An environment variable, or undefined. */
  env(name: string): string | undefined;
  /** Lines for the run's log, under `<event>-<callback>` (e.g. `on_failure-alert_team`). */
  readonly log: BlockLogger;
  /** Aborted at the callback's timeout. */
  readonly signal: AbortSignal;
}

/** A callback file's default export. It runs in the process that runs the pipeline: keep it short (a message, an HTTP call). */
export type Callback = (ctx: CallbackContext) => void | Promise<void>;
