/**
 * Table shapes of the metadata database as Kysely sees them. Dialect-neutral on purpose: times are ISO
 * text (sortable, identical in SQLite and PostgreSQL), structured values are JSON text, and 64-bit counts
 * may come back as strings (node-postgres returns `bigint` columns as text), hence `number | string`.
 */
import type { ColumnType } from "kysely";

type Count = ColumnType<number | string | null, number | null, number | null>;

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
}

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
}

export interface BlockAttemptsTable {
  run_id: string;
  block: string;
  attempt: number;
  state: string;
  started_at: string | null;
  ended_at: string | null;
  error: string | null;
}

export interface MetadataDatabase {
  runs: RunsTable;
  block_runs: BlockRunsTable;
  block_attempts: BlockAttemptsTable;
}
