/**
 * Table shapes of the metadata database as Kysely sees them. Dialect-neutral on purpose: times are ISO
 * text (sortable, identical in SQLite and PostgreSQL), structured values are JSON text, and 64-bit counts
 * may come back as strings (node-postgres returns `bigint` columns as text), hence `number | string`.
 */
import type { ColumnType } from "kysely";

type Count = ColumnType<number | string | null, number | null, number | null>;

/** One row per pipeline run. */
export interface RunsTable {
  id: string;
  pipeline: string;
  state: string;
  trigger_kind: string;
  trigger_id: string | null;
  logical_date: string;
  /** JSON object. */
  variables: string;
  mode: string;
  target_block: string | null;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  error: string | null;
  /** The `run_owners` row of the process driving the run (migration 0003); null for runs from before it. */
  owner_id: string | null;
  /** When someone asked to cancel the run; its owner notices and stops it. */
  cancel_requested_at: string | null;
  /** The data interval its blocks see (migration 0004); null for runs from before it (then the logical date). */
  data_interval_start: string | null;
  data_interval_end: string | null;
  /** JSON `{block: OutputRecord | null}`: upstream outputs the run read from earlier runs, reused by a retry. */
  cached_inputs: string | null;
}

/** The latest state of each block of a run; unique per (run_id, block). */
export interface BlockRunsTable {
  id: string;
  run_id: string;
  block: string;
  /** Index of the block in the run's block list, to return block runs in pipeline order. */
  position: number;
  state: string;
  attempt: number;
  queued_at: string | null;
  started_at: string | null;
  ended_at: string | null;
  /** JSON `{code, message, kind?, stack?}`. */
  error: string | null;
  /** JSON `OutputRecord` (ref + summary). */
  output: string | null;
  rows: Count;
  duration_ms: Count;
  /** The `run_owners` row of the process that last started this block run (migration 0003). */
  owner_id: string | null;
  /** Sensors: how many times the condition was checked and found false (migration 0004). */
  pokes: ColumnType<number, number | undefined, number>;
  last_poke_at: string | null;
  /** JSON `BlockWrite[]`: the block's `ctx.io` writes (migration 0006); null when it wrote nothing. */
  writes: ColumnType<string | null, string | null | undefined, string | null>;
  /** JSON `BlockTests`: its data test's outcome (migration 0006); null without a `test()`. */
  tests: ColumnType<string | null, string | null | undefined, string | null>;
}

/** A process that drives runs, with the lease it renews by heartbeat (migration 0003). */
export interface RunOwnersTable {
  id: string;
  /** `server` | `cli` | `scheduler` | `worker`. */
  kind: string;
  host: string;
  pid: number;
  process_started_at: string;
  heartbeat_at: string;
  lease_expires_at: string;
}

/** History: one row per (run_id, block, attempt). */
export interface BlockAttemptsTable {
  run_id: string;
  block: string;
  attempt: number;
  state: string;
  started_at: string | null;
  ended_at: string | null;
  error: string | null;
}

/** The scheduler's memory of each trigger in the triggers files (migration 0002). */
export interface TriggerStateTable {
  pipeline: string;
  trigger_id: string;
  /** `schedule` | `api`. */
  kind: string;
  /** 1 or 0 (portable boolean). */
  enabled: number;
  /** Hash of the schedule definition: `next_due` is only trusted while it matches. */
  fingerprint: string;
  /** Newest logical date handled (run, or skipped by policy). */
  last_scheduled: string | null;
  /** When the next slot is due, as last computed. */
  next_due: string | null;
  first_seen_at: string;
  updated_at: string;
}

/** One row per (trigger, logical date) ever claimed: the unique key that makes scheduling exactly-once. */
export interface ScheduledRunsTable {
  pipeline: string;
  trigger_id: string;
  logical_date: string;
  /** `claimed` | `started` | `skipped` | `failed`. */
  status: string;
  run_id: string | null;
  claimed_at: string;
  error: string | null;
}

export interface BackfillsTable {
  id: string;
  pipeline: string;
  trigger_id: string;
  range_start: string;
  range_end: string;
  /** `running` | `success` | `failed` | `cancelled`. */
  state: string;
  concurrency: number;
  total: number;
  /** JSON `[[logicalDate, intervalEnd], …]`, oldest first. */
  slots: string;
  variables: string;
  created_at: string;
  ended_at: string | null;
}

export interface BackfillRunsTable {
  backfill_id: string;
  logical_date: string;
  run_id: string | null;
  claimed_at: string;
}

export interface TriggerTokensTable {
  pipeline: string;
  trigger_id: string;
  /** Hex sha256 of the token; the token itself is never stored. */
  token_hash: string;
  created_at: string;
}

/**
 * One row per limited resource (migration 0005): a claim bounded by `max_active_runs` or a backfill's
 * concurrency upserts its row first, so that concurrent claims of one resource take turns.
 */
export interface ClaimLocksTable {
  /** `["trigger", pipeline, triggerId]` or `["backfill", backfillId]` as JSON. */
  lock_key: string;
  locked_at: string;
}

/** Every table of the metadata database, for `Kysely<MetadataDatabase>`. */
export interface MetadataDatabase {
  runs: RunsTable;
  block_runs: BlockRunsTable;
  block_attempts: BlockAttemptsTable;
  trigger_state: TriggerStateTable;
  scheduled_runs: ScheduledRunsTable;
  backfills: BackfillsTable;
  backfill_runs: BackfillRunsTable;
  trigger_tokens: TriggerTokensTable;
  run_owners: RunOwnersTable;
  claim_locks: ClaimLocksTable;
  sla_misses: SlaMissesTable;
}

/** A run that missed its trigger's SLA, recorded once when the `sla_miss` notice is claimed (migration 0007). */
export interface SlaMissesTable {
  run_id: string;
  pipeline: string;
  trigger_id: string;
  missed_at: string;
}
