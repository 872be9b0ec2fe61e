/**
 * The run metadata store: runs, block runs and the history of block attempts, behind one
 * interface so that the embedded SQLite store and the PostgreSQL store are interchangeable and pass the
 * same contract suite (`run-store.contract.ts`).
 *
 * The store persists; it does not judge. Which state may follow which is decided by the pure transition
 * functions in `lib/core/run-state.ts` before anything is written. Each method is atomic on its own.
 */
import type { ErrorKind } from "../../core/errors";
import type { RunMode, RunTrigger, Variables } from "../../core/model";
import type { BlockRunState, RunState } from "../../core/run-model";
import type { OutputRecord } from "../../core/output-types";
import type { BlockTests, BlockWrite } from "../../core/execution";
import type { TriggerStore } from "./trigger-store";

/** A pipeline run. Times are ISO strings. */
export interface Run {
  /** Sortable (UUIDv7) unless the caller chose one: ordering by id is ordering by creation. */
  id: string;
  pipeline: string;
  state: RunState;
  trigger: RunTrigger;
  /** The trigger (schedule, API trigger, backfill) that created the run; null for manual runs. */
  triggerId: string | null;
  logicalDate: string;
  variables: Variables;
  mode: RunMode;
  /** The block a `block`, `with_upstream` or `from` run is about; null for whole-pipeline runs. */
  block: string | null;
  /** What its blocks see as `ctx.dataInterval`; kept so that a retry sees the same. */
  dataInterval: { start: string; end: string };
  /**
   * Upstream outputs the run read from earlier runs (a `block` or `from` run), by block; null for an upstream
   * that succeeded without output. A retry reuses exactly these, never a newer run's.
   */
  cachedInputs: Record<string, OutputRecord | null>;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  error: string | null;
}

/** Why a block attempt failed, as shown on the runs pages. */
export interface BlockRunError {
  code: string;
  message: string;
  kind?: ErrorKind;
  stack?: string;
}

/** The latest state of one block in one run. */
export interface BlockRun {
  id: string;
  runId: string;
  block: string;
  state: BlockRunState;
  /** 0 before the first attempt starts, then 1, 2, … */
  attempt: number;
  queuedAt: string | null;
  startedAt: string | null;
  endedAt: string | null;
  error: BlockRunError | null;
  output: OutputRecord | null;
  rows: number | null;
  durationMs: number | null;
  /** Sensors: checks that found the condition false so far (pokes are not attempts). */
  pokes: number;
  lastPokeAt: string | null;
  /** The `ctx.io` writes of its successful attempt; null when it wrote nothing (or has not succeeded). */
  writes: BlockWrite[] | null;
  /** Its data test's outcome; null when the block has no `test()` (or has not succeeded). */
  tests: BlockTests | null;
}

/** A block's newest block run in a pipeline, with the run it belongs to: what the editor shows on open. */
export interface LatestBlockRun {
  run: Run;
  blockRun: BlockRun;
}

/** One attempt of a block run, kept for the history even after a retry succeeds. */
export interface BlockAttempt {
  runId: string;
  block: string;
  attempt: number;
  state: BlockRunState;
  startedAt: string | null;
  endedAt: string | null;
  error: BlockRunError | null;
}

/** What a new run needs; the store fills in the id (sortable) and the creation time unless given. */
export interface CreateRunInput {
  /** Defaults to a fresh sortable id. Must match `[A-Za-z0-9_-]+` (it names folders of outputs and logs). */
  id?: string;
  pipeline: string;
  trigger: RunTrigger;
  triggerId?: string | null;
  logicalDate: string;
  variables: Variables;
  mode: RunMode;
  block?: string | null;
  /** Defaults to `{start: logicalDate, end: logicalDate}`. */
  dataInterval?: { start: string; end: string };
  /** Upstream outputs read from earlier runs; default none. */
  cachedInputs?: Record<string, OutputRecord | null>;
  /** Every block the run will execute, in pipeline order; each gets a `pending` block run. */
  blocks: readonly string[];
  /** Defaults to now. */
  createdAt?: string;
  /** The process that will drive the run (`registerOwner` first); recovery spares it while its lease holds. */
  ownerId?: string;
}

/** A run with all its block runs: what the run pages and recovery read in one call. */
export interface RunWithBlockRuns {
  run: Run;
  /** In the order the blocks were given to `createRun`. */
  blockRuns: BlockRun[];
}

/** Filters and keyset paging of the runs history (ids sort by creation, so `before` is a stable cursor). */
export interface ListRunsFilter {
  pipeline?: string;
  state?: RunState | readonly RunState[];
  /** Default 50, at most 1000. */
  limit?: number;
  /** Cursor: only runs whose id sorts before this one (i.e. created earlier), for the next page. */
  before?: string;
  /** Only runs created before this ISO instant (retention). */
  createdBefore?: string;
}

/** The time (and optional error) that goes with a run state change. */
export interface RunStatePatch {
  /** When the change happened: `running` sets `startedAt` (first time only), terminal states set `endedAt`, `queued` clears it. */
  at: string;
  /** Set or cleared when given; left as is when omitted. */
  error?: string | null;
}

/** Fields to change; omitted ones stay as they are, `null` clears. */
export interface BlockRunPatch {
  state: BlockRunState;
  attempt?: number;
  queuedAt?: string | null;
  startedAt?: string | null;
  endedAt?: string | null;
  error?: BlockRunError | null;
  output?: OutputRecord | null;
  rows?: number | null;
  durationMs?: number | null;
  pokes?: number;
  lastPokeAt?: string | null;
  writes?: BlockWrite[] | null;
  tests?: BlockTests | null;
  /** The process executing this block run now. */
  ownerId?: string | null;
}

/** A process that drives runs: the server, `sluice run`, `sluice scheduler` or a worker. */
export interface RunOwner {
  /** Random per process start: a restarted process with a reused pid is a different owner. */
  id: string;
  kind: "server" | "cli" | "scheduler" | "worker";
  host: string;
  pid: number;
  processStartedAt: string;
}

/** An owner with its lease as last renewed. */
export interface OwnerLease extends RunOwner {
  heartbeatAt: string;
  leaseExpiresAt: string;
}

/** Who drives a run and whether someone asked to cancel it. */
export interface RunOwnership {
  ownerId: string | null;
  /** Null when the run has no owner (created before ownership existed) or its owner's row is gone. */
  owner: OwnerLease | null;
  cancelRequestedAt: string | null;
}

/** An unfinished run nobody can drive any more: its owner's lease expired, or it never had a live owner. */
export interface OrphanedRun extends RunOwnership {
  run: Run;
}

/** The run metadata store; every method is atomic on its own, state rules are the caller's (lib/core). */
export interface RunStore {
  /** Creates a `queued` run and a `pending` block run per block, in one transaction. */
  createRun(input: CreateRunInput): Promise<Run>;
  /** The run and its block runs, or null when there is no such run. */
  getRun(id: string): Promise<RunWithBlockRuns | null>;
  /** Newest first. */
  listRuns(filter?: ListRunsFilter): Promise<Run[]>;
  /** @throws UserError `run_not_found`. */
  updateRunState(id: string, state: RunState, patch: RunStatePatch): Promise<Run>;
  /**
   * Adds `pending` block runs to an unfinished run, after its existing ones (the instances of a dynamic block,
   * known only once it has run); names the run already has are left as they are.
   * @throws UserError `run_not_found`.
   */
  addBlockRuns(runId: string, blocks: readonly string[]): Promise<void>;
  /** @throws UserError `block_run_not_found`. */
  updateBlockRun(runId: string, block: string, patch: BlockRunPatch): Promise<BlockRun>;
  /** Inserts or replaces the history row of one attempt. */
  recordAttempt(attempt: BlockAttempt): Promise<void>;
  /** Attempt history of a run (optionally one block), by block then attempt. */
  listAttempts(runId: string, block?: string): Promise<BlockAttempt[]>;
  /** The output of the newest successful block run of this block in this pipeline (cached upstreams). */
  latestSuccessfulOutput(pipeline: string, block: string): Promise<OutputRecord | null>;
  /**
   * The newest successful block run of this block in this pipeline, with its output or null when it
   * returned nothing (an exporter, a sensor): a cached upstream that orders its downstream without data.
   * Null when the block never succeeded.
   */
  latestSuccess(pipeline: string, block: string): Promise<{ runId: string; output: OutputRecord | null } | null>;
  /**
   * Per block of the pipeline (by name, any block that ever ran): its newest block run that started or was
   * decided (pending and queued ones are left out), and separately the newest successful one that has an
   * output, which may be older. Newest by end time, else start time, else the run's creation.
   */
  latestBlockRuns(pipeline: string): Promise<{ latest: LatestBlockRun[]; withOutput: LatestBlockRun[] }>;
  /**
   * Moves a finished run back to `queued` for a retry inside the same run, atomically: of two callers (or a
   * caller racing the run's end) only one gets the run; null when the run is not finished (or missing).
   */
  reopenRun(id: string): Promise<Run | null>;
  /** Runs in any of these states, oldest first (start-up recovery of orphaned runs). */
  findRunsInState(states: readonly RunState[]): Promise<Run[]>;
  /** Deletes a run with its block runs and attempts; false when there was none. */
  deleteRun(id: string): Promise<boolean>;
  /** Records (or re-records) a live owner holding a lease until `leaseExpiresAt`. */
  registerOwner(owner: RunOwner, lease: { at: string; leaseExpiresAt: string }): Promise<void>;
  /** Extends an owner's lease; false when its row is gone (recovery judged it dead): it must stop its runs. */
  renewOwnerLease(ownerId: string, lease: { at: string; leaseExpiresAt: string }): Promise<boolean>;
  /**
   * Makes this owner the driver of an existing run (a retry re-opening a finished run, maybe in another
   * process than the one that created it) and clears an earlier cancel request.
   */
  claimRun(runId: string, ownerId: string): Promise<void>;
  /** Removes an owner that stopped in order (its runs are finished or cancelled). */
  releaseOwner(ownerId: string): Promise<void>;
  /** The owner of a run and its cancel request, or null when there is no such run. */
  getRunOwnership(runId: string): Promise<RunOwnership | null>;
  /** Asks the owner of an unfinished run to cancel it; false when the run is finished or unknown. */
  requestCancel(runId: string, at: string): Promise<boolean>;
  /** Unfinished runs of this owner that someone asked to cancel (polled by the owner, so indexed). */
  findCancelRequests(ownerId: string): Promise<string[]>;
  /** Queued or running runs whose owner's lease expired before `now`, or that have no live owner row; oldest first. */
  findOrphanedRuns(now: string): Promise<OrphanedRun[]>;
  /** Deletes owners whose lease expired before `now` and who drive no unfinished run; returns how many. */
  removeExpiredOwners(now: string): Promise<number>;
  close(): Promise<void>;
}

/**
 * A run store with the scheduler's state beside it (triggers, claims, backfills, API tokens): what the
 * composition root opens, so the runner keeps seeing the narrow `RunStore` and the scheduler the rest.
 */
export interface MetadataStore extends RunStore {
  readonly triggers: TriggerStore;
}
