/**
 * The pipeline model shared by every part of Sluice. Plain types only: the zod schema in
 * `pipeline-schema.ts` turns loose YAML into these, and everything else consumes them.
 */
import type { NotifyRule, PipelineCallbacks } from "./notify";
import type { TriggerRule } from "./trigger-rules";

export const BLOCK_TYPES = ["loader", "transformer", "exporter", "sensor", "condition"] as const;
export type BlockType = (typeof BLOCK_TYPES)[number];

export const BLOCK_LANGUAGES = ["ts", "sql"] as const;
export type BlockLanguage = (typeof BLOCK_LANGUAGES)[number];

/** File extension of a block's code file, by language. */
export const BLOCK_FILE_EXTENSION: Record<BlockLanguage, string> = { ts: "ts", sql: "sql" };

export interface RetryPolicy {
  /** Extra attempts after the first one. */
  count: number;
  delayMs: number;
  backoff: "constant" | "exponential";
  maxDelayMs: number;
}

export interface BlockSpec {
  /** Unique in the pipeline; `[a-z0-9_]+`; also the file stem and the SQL table name. */
  name: string;
  type: BlockType;
  language: BlockLanguage;
  upstream: string[];
  retries: RetryPolicy;
  /** Null means the runner's default timeout. */
  timeoutMs: number | null;
  /** SQL blocks only: a named connection to run in instead of DuckDB. */
  connection: string | null;
  /** Distributed executor: the queue a block is routed to. */
  queue: string | null;
  /**
   * TypeScript blocks: the most memory (bytes, resident) the block's process may use; above it the block
   * fails with `memory_limit`. Absent = the executor's default (`SLUICE_BLOCK_MEMORY`, else 2 GiB).
   */
  memoryBytes?: number;
  /**
   * Sensors: how often the condition is checked (`poke_interval:`, default `DEFAULT_POKE_INTERVAL_MS`). A
   * sensor's `timeoutMs` bounds all its pokes together; `retries` apply only to errors its code throws.
   */
  pokeIntervalMs?: number;
  /** Sensors (`soft_fail: true`): on timeout end `skipped`, and so does what it gates, instead of `failed`. */
  softFail?: boolean;
  /**
   * Sensors (`mode:`): `poke` (absent) holds the run's parallel slot between checks; `reschedule` releases it
   * and queues the next check at now + poke interval.
   */
  mode?: SensorMode;
  /** When the block runs given its upstreams' states (`trigger_rule:`, Airflow's rules); absent = `all_success`. */
  triggerRule?: TriggerRule;
  /**
   * Condition blocks (`type: condition`) evaluated before this one (`conditions:`): each is an extra dependency,
   * and if any returned false this block is `skipped`. Absent = none.
   */
  conditions?: string[];
  /** `dynamic: true`: each row of this block's output becomes one instance of each of its direct downstream blocks. */
  dynamic?: boolean;
  /** With `dynamic`: the column whose values name the instances (`child[2020-10]`) instead of their index (`child[0]`). */
  dynamicKey?: string;
  /** On a direct downstream of a dynamic block (`reduce: true`): its instances' outputs are gathered into one table for the blocks after it. */
  reduce?: boolean;
  /**
   * Set by the runner on the spec of a dynamic instance (named `child[0]`): the declared block whose code
   * file it runs. Never read from or written to pipeline.yaml.
   */
  instanceOf?: string;
}

/** How often a sensor checks its condition when the block does not say. */
export const DEFAULT_POKE_INTERVAL_MS = 30_000;

/** How a sensor waits between checks (`mode:` in pipeline.yaml). */
export const SENSOR_MODES = ["poke", "reschedule"] as const;
export type SensorMode = (typeof SENSOR_MODES)[number];

/** A block process holds about 95 MiB after one trivial job (Node and apache-arrow loaded), so `memory:` refuses less than this. */
export const MIN_BLOCK_MEMORY_BYTES = 128 * 1024 * 1024;

export type VariableValue = string | number | boolean | null | VariableValue[] | { [key: string]: VariableValue };
export type Variables = Record<string, VariableValue>;

export interface Pipeline {
  version: 1;
  name: string;
  description: string;
  variables: Variables;
  /**
   * Variables whose values are secrets (`secret_variables:` in the file): their values are hidden in logs,
   * errors, events and the run record. Absent = none (files written before the key existed).
   */
  secretVariables?: string[];
  blocks: BlockSpec[];
  /** Notifications of this pipeline's runs (`notify:`); absent = none. */
  notify?: NotifyRule[];
  /** Callback files run when a run succeeds, fails or retries a block (`on_success:`…); absent = none. */
  callbacks?: PipelineCallbacks;
}

/** A block's file name inside its pipeline folder, e.g. `clean_trips.sql`. */
export function blockFileName(block: Pick<BlockSpec, "name" | "language" | "instanceOf">): string {
  return `${block.instanceOf ?? block.name}.${BLOCK_FILE_EXTENSION[block.language]}`;
}

export const NAME_PATTERN = /^[a-z0-9_]+$/;

export const DEFAULT_RETRY_POLICY: RetryPolicy = { count: 0, delayMs: 1000, backoff: "exponential", maxDelayMs: 60_000 };

/** What part of a pipeline a run executes (run only what is asked: one block, with its upstreams, or from it downstream). */
export type RunMode = "pipeline" | "block" | "with_upstream" | "from";

export type RunTrigger = "manual" | "schedule" | "api" | "backfill";
