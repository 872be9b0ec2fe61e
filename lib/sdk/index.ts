/**
 * What block code imports as `@sluice/sdk`. The block compiler aliases `@sluice/sdk` to this
 * file and bundles it into every block, and the editor feeds it to Monaco for IntelliSense, so it holds
 * types and tiny helpers only: no Node-only imports, nothing heavy at runtime.
 */
import type { Table } from "apache-arrow";
import type { VariableValue } from "../core/model";
import type { SluiceIo } from "./io-types";

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
  /** The connectors configured in `sluice.yaml` (and `files`, `http` and `duckdb`, which work without one). */
  readonly io: BlockIO;
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
}
