/**
 * The scheduler's state in the metadata store (DESIGN §6, §7): what each trigger last scheduled, the
 * claims that make scheduling exactly-once, backfills and API-trigger token hashes. The triggers
 * themselves live in `triggers.yaml`; this is only the memory of what was done with them, so a trigger
 * deleted from its file loses its state row here but its runs and claims stay (history).
 *
 * Exactly-once rests on one thing: `claimScheduledRun` is an INSERT into a table whose primary key is
 * (pipeline, trigger, logical date), with ON CONFLICT DO NOTHING. Whatever number of schedulers race
 * for a slot, the database lets exactly one insert through, and only that one starts the run.
 */
import { sql, type Kysely } from "kysely";
import { z } from "zod";
import { UnexpectedError, UserError } from "../../core/errors";
import type { Variables } from "../../core/model";
import type { RunState } from "../../core/run-model";
import { newSortableId } from "./ids";
import type { ExclusiveWrite } from "./kysely-run-store";
import type { BackfillsTable, MetadataDatabase, ScheduledRunsTable, TriggerStateTable } from "./schema";

export type TriggerKind = "schedule" | "api";

export interface TriggerState {
  pipeline: string;
  triggerId: string;
  kind: TriggerKind;
  enabled: boolean;
  fingerprint: string;
  lastScheduled: string | null;
  nextDue: string | null;
  firstSeenAt: string;
  updatedAt: string;
}

/** A trigger as found in a triggers file, for `syncTriggers`. */
export interface TriggerDefinition {
  triggerId: string;
  kind: TriggerKind;
  enabled: boolean;
  /** Changes whenever the schedule changes; a changed fingerprint forgets the cached `nextDue`. */
  fingerprint: string;
}

export type ScheduledRunStatus = "claimed" | "started" | "skipped" | "failed";

export interface ScheduledRun {
  pipeline: string;
  triggerId: string;
  logicalDate: string;
  status: ScheduledRunStatus;
  runId: string | null;
  claimedAt: string;
  error: string | null;
}

export type BackfillState = "running" | "success" | "failed" | "cancelled";

export interface BackfillSlot {
  logicalDate: string;
  intervalEnd: string;
}

export interface Backfill {
  id: string;
  pipeline: string;
  triggerId: string;
  rangeStart: string;
  rangeEnd: string;
  state: BackfillState;
  concurrency: number;
  total: number;
  slots: BackfillSlot[];
  variables: Variables;
  createdAt: string;
  endedAt: string | null;
}

export interface CreateBackfillInput {
  pipeline: string;
  triggerId: string;
  rangeStart: string;
  rangeEnd: string;
  concurrency: number;
  slots: BackfillSlot[];
  variables?: Variables;
  createdAt: string;
}

/** A claimed backfill slot and the state of its run (null: not started yet or run deleted). */
export interface BackfillRun {
  logicalDate: string;
  runId: string | null;
  runState: RunState | null;
  claimedAt: string;
}

/** An active (queued or running) run of a trigger. */
export interface ActiveRun {
  id: string;
  state: RunState;
  createdAt: string;
  startedAt: string | null;
}

/** The scheduler's slice of the metadata store; every method is atomic on its own. */
export interface TriggerStore {
  /** Every trigger state row (one query: a 10,000-trigger tick reads them at once). */
  listTriggerStates(pipeline?: string): Promise<TriggerState[]>;
  /**
   * Makes the stored triggers of a pipeline match its file: new ones inserted, changed ones updated (a
   * changed fingerprint clears `nextDue`), those missing from the file deleted (their claims and runs stay).
   */
  syncTriggers(pipeline: string, definitions: readonly TriggerDefinition[], at: string): Promise<void>;
  /** Forgets every trigger of pipelines not in the list (a deleted pipeline). */
  deleteTriggersOfOtherPipelines(pipelines: readonly string[]): Promise<number>;
  /** Moves `lastScheduled` forward only (never back: another scheduler may be ahead) and sets `nextDue`. */
  advanceTrigger(pipeline: string, triggerId: string, lastScheduled: string | null, nextDue: string | null): Promise<void>;
  /** Caches the computed next due time of many triggers at once (one transaction). */
  setNextDue(updates: readonly { pipeline: string; triggerId: string; nextDue: string | null }[]): Promise<void>;
  /**
   * Claims one (trigger, logical date): true for exactly one caller, ever. `status` `skipped` records a
   * slot dropped by max_active_runs so that no other scheduler runs it either.
   */
  claimScheduledRun(input: { pipeline: string; triggerId: string; logicalDate: string; at: string; status?: "claimed" | "skipped" }): Promise<boolean>;
  /** Records what became of a claim. */
  finishClaim(pipeline: string, triggerId: string, logicalDate: string, outcome: { status: "started"; runId: string } | { status: "failed"; error: string }): Promise<void>;
  /** Deletes a claim still `claimed` (its run could not be started, a retry may claim it again). */
  releaseClaim(pipeline: string, triggerId: string, logicalDate: string): Promise<void>;
  /**
   * Releases claims left `claimed` before `before` by a scheduler that died between claim and start, and
   * returns them (each to exactly one caller) so that the caller can claim and start them again. A stale
   * claim whose run does exist (the scheduler died after starting it) is completed instead.
   */
  releaseStaleClaims(before: string): Promise<ScheduledRun[]>;
  /** Newest first. */
  listScheduledRuns(pipeline: string, triggerId: string, limit?: number): Promise<ScheduledRun[]>;
  /** Queued or running runs created by this trigger (any kind but manual), oldest first. */
  listActiveRuns(pipeline: string, triggerId: string): Promise<ActiveRun[]>;

  createBackfill(input: CreateBackfillInput): Promise<Backfill>;
  getBackfill(id: string): Promise<Backfill | null>;
  /** Newest first. */
  listBackfills(filter?: { pipeline?: string; state?: BackfillState }): Promise<Backfill[]>;
  /** Sets the state; terminal states set `endedAt`. Only moves out of `running` (a finished backfill stays finished). */
  setBackfillState(id: string, state: BackfillState, at: string): Promise<boolean>;
  /** Claims one slot of a backfill (true for exactly one caller). */
  claimBackfillRun(backfillId: string, logicalDate: string, at: string): Promise<boolean>;
  setBackfillRunId(backfillId: string, logicalDate: string, runId: string): Promise<void>;
  releaseBackfillRun(backfillId: string, logicalDate: string): Promise<void>;
  /**
   * Slots of a backfill claimed before `before` that never got a run id (their scheduler died): linked to
   * their run when it exists (a backfill run of that trigger and date created since the claim), else
   * released so they start again. Returns how many were released.
   */
  releaseStaleBackfillRuns(backfillId: string, before: string): Promise<number>;
  /** Claimed slots with the state of their runs, oldest first. */
  listBackfillRuns(backfillId: string): Promise<BackfillRun[]>;

  /** Stores (or replaces: rotation) the hash of a trigger's API token. */
  setTokenHash(pipeline: string, triggerId: string, hash: string, at: string): Promise<void>;
  getTokenHash(pipeline: string, triggerId: string): Promise<string | null>;
  deleteToken(pipeline: string, triggerId: string): Promise<boolean>;
}

const CHUNK = 200;
const SCHEDULED_STATUSES: readonly ScheduledRunStatus[] = ["claimed", "started", "skipped", "failed"];
const BACKFILL_STATES: readonly BackfillState[] = ["running", "success", "failed", "cancelled"];
const RUN_STATE_VALUES: readonly RunState[] = ["queued", "running", "success", "failed", "cancelled"];
const slotsSchema = z.array(z.tuple([z.string(), z.string()]));
const variablesSchema = z.record(z.string(), z.json());

function pick<T extends string>(allowed: readonly T[], value: string, what: string): T {
  const found = allowed.find((candidate) => candidate === value);
  if (found === undefined) throw new UnexpectedError("corrupt_metadata", `stored ${what} ${JSON.stringify(value)} is not known`);
  return found;
}

function mapState(row: TriggerStateTable): TriggerState {
  return {
    pipeline: row.pipeline,
    triggerId: row.trigger_id,
    kind: pick<TriggerKind>(["schedule", "api"], row.kind, "trigger kind"),
    enabled: Number(row.enabled) === 1,
    fingerprint: row.fingerprint,
    lastScheduled: row.last_scheduled,
    nextDue: row.next_due,
    firstSeenAt: row.first_seen_at,
    updatedAt: row.updated_at,
  };
}

function mapScheduledRun(row: ScheduledRunsTable): ScheduledRun {
  return {
    pipeline: row.pipeline,
    triggerId: row.trigger_id,
    logicalDate: row.logical_date,
    status: pick(SCHEDULED_STATUSES, row.status, "scheduled run status"),
    runId: row.run_id,
    claimedAt: row.claimed_at,
    error: row.error,
  };
}

function mapBackfill(row: BackfillsTable): Backfill {
  const slots = slotsSchema.safeParse(JSON.parse(row.slots));
  const variables = variablesSchema.safeParse(JSON.parse(row.variables));
  if (!slots.success || !variables.success) throw new UnexpectedError("corrupt_metadata", `stored backfill ${row.id} is malformed`);
  return {
    id: row.id,
    pipeline: row.pipeline,
    triggerId: row.trigger_id,
    rangeStart: row.range_start,
    rangeEnd: row.range_end,
    state: pick(BACKFILL_STATES, row.state, "backfill state"),
    concurrency: Number(row.concurrency),
    total: Number(row.total),
    slots: slots.data.map(([logicalDate, intervalEnd]) => ({ logicalDate, intervalEnd })),
    variables: variables.data,
    createdAt: row.created_at,
    endedAt: row.ended_at,
  };
}

/** `TriggerStore` over the same Kysely database as the run store (SQLite or PostgreSQL). */
export class KyselyTriggerStore implements TriggerStore {
  constructor(
    private readonly db: Kysely<MetadataDatabase>,
    private readonly exclusive: ExclusiveWrite = (work) => work(),
  ) {}

  async listTriggerStates(pipeline?: string): Promise<TriggerState[]> {
    let query = this.db.selectFrom("trigger_state").selectAll();
    if (pipeline !== undefined) query = query.where("pipeline", "=", pipeline);
    const rows = await query.orderBy("pipeline").orderBy("trigger_id").execute();
    return rows.map(mapState);
  }

  async syncTriggers(pipeline: string, definitions: readonly TriggerDefinition[], at: string): Promise<void> {
    const rows: TriggerStateTable[] = definitions.map((d) => ({
      pipeline,
      trigger_id: d.triggerId,
      kind: d.kind,
      enabled: d.enabled ? 1 : 0,
      fingerprint: d.fingerprint,
      last_scheduled: null,
      next_due: null,
      first_seen_at: at,
      updated_at: at,
    }));
    await this.exclusive(() =>
      this.db.transaction().execute(async (trx) => {
        for (let i = 0; i < rows.length; i += CHUNK) {
          await trx
            .insertInto("trigger_state")
            .values(rows.slice(i, i + CHUNK))
            .onConflict((oc) =>
              oc.columns(["pipeline", "trigger_id"]).doUpdateSet({
                kind: sql`excluded.kind`,
                enabled: sql`excluded.enabled`,
                next_due: sql`case when trigger_state.fingerprint = excluded.fingerprint then trigger_state.next_due else null end`,
                fingerprint: sql`excluded.fingerprint`,
                updated_at: sql`excluded.updated_at`,
              }),
            )
            .execute();
        }
        let remove = trx.deleteFrom("trigger_state").where("pipeline", "=", pipeline);
        if (rows.length > 0) {
          const keep = rows.map((r) => r.trigger_id);
          remove = remove.where("trigger_id", "not in", keep);
        }
        await remove.execute();
      }),
    );
  }

  async deleteTriggersOfOtherPipelines(pipelines: readonly string[]): Promise<number> {
    return this.exclusive(async () => {
      let query = this.db.deleteFrom("trigger_state");
      if (pipelines.length > 0) query = query.where("pipeline", "not in", pipelines);
      const result = await query.executeTakeFirst();
      return Number(result.numDeletedRows);
    });
  }

  async advanceTrigger(pipeline: string, triggerId: string, lastScheduled: string | null, nextDue: string | null): Promise<void> {
    await this.exclusive(() =>
      this.db
        .updateTable("trigger_state")
        .set((eb) => ({
          last_scheduled:
            lastScheduled === null
              ? eb.ref("last_scheduled")
              : sql<string>`case when last_scheduled is null or last_scheduled < ${lastScheduled} then ${lastScheduled} else last_scheduled end`,
          next_due: nextDue,
        }))
        .where("pipeline", "=", pipeline)
        .where("trigger_id", "=", triggerId)
        .execute(),
    );
  }

  async setNextDue(updates: readonly { pipeline: string; triggerId: string; nextDue: string | null }[]): Promise<void> {
    if (updates.length === 0) return;
    await this.exclusive(() =>
      this.db.transaction().execute(async (trx) => {
        for (const u of updates) {
          await trx.updateTable("trigger_state").set({ next_due: u.nextDue }).where("pipeline", "=", u.pipeline).where("trigger_id", "=", u.triggerId).execute();
        }
      }),
    );
  }

  async claimScheduledRun(input: { pipeline: string; triggerId: string; logicalDate: string; at: string; status?: "claimed" | "skipped" }): Promise<boolean> {
    const result = await this.exclusive(() =>
      this.db
        .insertInto("scheduled_runs")
        .values({
          pipeline: input.pipeline,
          trigger_id: input.triggerId,
          logical_date: input.logicalDate,
          status: input.status ?? "claimed",
          run_id: null,
          claimed_at: input.at,
          error: null,
        })
        .onConflict((oc) => oc.columns(["pipeline", "trigger_id", "logical_date"]).doNothing())
        .executeTakeFirst(),
    );
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async finishClaim(
    pipeline: string,
    triggerId: string,
    logicalDate: string,
    outcome: { status: "started"; runId: string } | { status: "failed"; error: string },
  ): Promise<void> {
    await this.exclusive(() =>
      this.db
        .updateTable("scheduled_runs")
        .set(outcome.status === "started" ? { status: "started", run_id: outcome.runId } : { status: "failed", error: outcome.error })
        .where("pipeline", "=", pipeline)
        .where("trigger_id", "=", triggerId)
        .where("logical_date", "=", logicalDate)
        .execute(),
    );
  }

  async releaseClaim(pipeline: string, triggerId: string, logicalDate: string): Promise<void> {
    await this.exclusive(() =>
      this.db
        .deleteFrom("scheduled_runs")
        .where("pipeline", "=", pipeline)
        .where("trigger_id", "=", triggerId)
        .where("logical_date", "=", logicalDate)
        .where("status", "=", "claimed")
        .execute(),
    );
  }

  async releaseStaleClaims(before: string): Promise<ScheduledRun[]> {
    const stale = await this.db.selectFrom("scheduled_runs").selectAll().where("status", "=", "claimed").where("claimed_at", "<", before).execute();
    const released: ScheduledRun[] = [];
    for (const row of stale) {
      // The run may exist: its scheduler died after starting it but before recording that. Then the claim
      // is completed, not released — releasing it would start the slot a second time.
      const run = await this.db
        .selectFrom("runs")
        .select("id")
        .where("pipeline", "=", row.pipeline)
        .where("trigger_id", "=", row.trigger_id)
        .where("logical_date", "=", row.logical_date)
        .where("trigger_kind", "=", "schedule")
        .orderBy("id")
        .limit(1)
        .executeTakeFirst();
      if (run) {
        await this.exclusive(() =>
          this.db
            .updateTable("scheduled_runs")
            .set({ status: "started", run_id: run.id })
            .where("pipeline", "=", row.pipeline)
            .where("trigger_id", "=", row.trigger_id)
            .where("logical_date", "=", row.logical_date)
            .where("status", "=", "claimed")
            .execute(),
        );
        continue;
      }
      const result = await this.exclusive(() =>
        this.db
          .deleteFrom("scheduled_runs")
          .where("pipeline", "=", row.pipeline)
          .where("trigger_id", "=", row.trigger_id)
          .where("logical_date", "=", row.logical_date)
          .where("status", "=", "claimed")
          .where("claimed_at", "<", before)
          .executeTakeFirst(),
      );
      if (Number(result.numDeletedRows) > 0) released.push(mapScheduledRun(row));
    }
    return released;
  }

  async listScheduledRuns(pipeline: string, triggerId: string, limit = 100): Promise<ScheduledRun[]> {
    const rows = await this.db
      .selectFrom("scheduled_runs")
      .selectAll()
      .where("pipeline", "=", pipeline)
      .where("trigger_id", "=", triggerId)
      .orderBy("logical_date", "desc")
      .limit(Math.max(1, Math.min(1000, limit)))
      .execute();
    return rows.map(mapScheduledRun);
  }

  async listActiveRuns(pipeline: string, triggerId: string): Promise<ActiveRun[]> {
    const rows = await this.db
      .selectFrom("runs")
      .select(["id", "state", "created_at", "started_at"])
      .where("pipeline", "=", pipeline)
      .where("trigger_id", "=", triggerId)
      .where("state", "in", ["queued", "running"])
      .where("trigger_kind", "!=", "manual")
      .orderBy("id")
      .execute();
    return rows.map((row) => ({ id: row.id, state: pick(RUN_STATE_VALUES, row.state, "run state"), createdAt: row.created_at, startedAt: row.started_at }));
  }

  async createBackfill(input: CreateBackfillInput): Promise<Backfill> {
    if (!Number.isSafeInteger(input.concurrency) || input.concurrency < 1) throw new UserError("invalid_value", "a backfill's concurrency must be a whole number ≥ 1");
    const row: BackfillsTable = {
      id: newSortableId(),
      pipeline: input.pipeline,
      trigger_id: input.triggerId,
      range_start: input.rangeStart,
      range_end: input.rangeEnd,
      state: input.slots.length === 0 ? "success" : "running",
      concurrency: input.concurrency,
      total: input.slots.length,
      slots: JSON.stringify(input.slots.map((s) => [s.logicalDate, s.intervalEnd])),
      variables: JSON.stringify(input.variables ?? {}),
      created_at: input.createdAt,
      ended_at: input.slots.length === 0 ? input.createdAt : null,
    };
    await this.exclusive(() => this.db.insertInto("backfills").values(row).execute());
    return mapBackfill(row);
  }

  async getBackfill(id: string): Promise<Backfill | null> {
    const row = await this.db.selectFrom("backfills").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? mapBackfill(row) : null;
  }

  async listBackfills(filter: { pipeline?: string; state?: BackfillState } = {}): Promise<Backfill[]> {
    let query = this.db.selectFrom("backfills").selectAll();
    if (filter.pipeline !== undefined) query = query.where("pipeline", "=", filter.pipeline);
    if (filter.state !== undefined) query = query.where("state", "=", filter.state);
    const rows = await query.orderBy("id", "desc").execute();
    return rows.map(mapBackfill);
  }

  async setBackfillState(id: string, state: BackfillState, at: string): Promise<boolean> {
    return this.exclusive(async () => {
      const result = await this.db
        .updateTable("backfills")
        .set({ state, ended_at: state === "running" ? null : at })
        .where("id", "=", id)
        .where("state", "=", "running")
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    });
  }

  async claimBackfillRun(backfillId: string, logicalDate: string, at: string): Promise<boolean> {
    const result = await this.exclusive(() =>
      this.db
        .insertInto("backfill_runs")
        .values({ backfill_id: backfillId, logical_date: logicalDate, run_id: null, claimed_at: at })
        .onConflict((oc) => oc.columns(["backfill_id", "logical_date"]).doNothing())
        .executeTakeFirst(),
    );
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async setBackfillRunId(backfillId: string, logicalDate: string, runId: string): Promise<void> {
    await this.exclusive(() =>
      this.db.updateTable("backfill_runs").set({ run_id: runId }).where("backfill_id", "=", backfillId).where("logical_date", "=", logicalDate).execute(),
    );
  }

  async releaseBackfillRun(backfillId: string, logicalDate: string): Promise<void> {
    await this.exclusive(() =>
      this.db.deleteFrom("backfill_runs").where("backfill_id", "=", backfillId).where("logical_date", "=", logicalDate).where("run_id", "is", null).execute(),
    );
  }

  async releaseStaleBackfillRuns(backfillId: string, before: string): Promise<number> {
    const backfill = await this.db.selectFrom("backfills").select(["pipeline", "trigger_id"]).where("id", "=", backfillId).executeTakeFirst();
    if (!backfill) return 0;
    const stale = await this.db
      .selectFrom("backfill_runs")
      .selectAll()
      .where("backfill_id", "=", backfillId)
      .where("run_id", "is", null)
      .where("claimed_at", "<", before)
      .execute();
    let released = 0;
    for (const row of stale) {
      const run = await this.db
        .selectFrom("runs")
        .select("id")
        .where("pipeline", "=", backfill.pipeline)
        .where("trigger_id", "=", backfill.trigger_id)
        .where("logical_date", "=", row.logical_date)
        .where("trigger_kind", "=", "backfill")
        .where("created_at", ">=", row.claimed_at)
        .orderBy("id")
        .limit(1)
        .executeTakeFirst();
      if (run) {
        await this.setBackfillRunId(backfillId, row.logical_date, run.id);
        continue;
      }
      const result = await this.exclusive(() =>
        this.db
          .deleteFrom("backfill_runs")
          .where("backfill_id", "=", backfillId)
          .where("logical_date", "=", row.logical_date)
          .where("run_id", "is", null)
          .where("claimed_at", "<", before)
          .executeTakeFirst(),
      );
      released += Number(result.numDeletedRows);
    }
    return released;
  }

  async listBackfillRuns(backfillId: string): Promise<BackfillRun[]> {
    const rows = await this.db
      .selectFrom("backfill_runs as b")
      .leftJoin("runs as r", "r.id", "b.run_id")
      .select(["b.logical_date", "b.run_id", "b.claimed_at", "r.state"])
      .where("b.backfill_id", "=", backfillId)
      .orderBy("b.logical_date")
      .execute();
    return rows.map((row) => ({
      logicalDate: row.logical_date,
      runId: row.run_id,
      runState: row.state === null ? null : pick(RUN_STATE_VALUES, row.state, "run state"),
      claimedAt: row.claimed_at,
    }));
  }

  async setTokenHash(pipeline: string, triggerId: string, hash: string, at: string): Promise<void> {
    await this.exclusive(() =>
      this.db
        .insertInto("trigger_tokens")
        .values({ pipeline, trigger_id: triggerId, token_hash: hash, created_at: at })
        .onConflict((oc) => oc.columns(["pipeline", "trigger_id"]).doUpdateSet({ token_hash: hash, created_at: at }))
        .execute(),
    );
  }

  async getTokenHash(pipeline: string, triggerId: string): Promise<string | null> {
    const row = await this.db.selectFrom("trigger_tokens").select("token_hash").where("pipeline", "=", pipeline).where("trigger_id", "=", triggerId).executeTakeFirst();
    return row?.token_hash ?? null;
  }

  async deleteToken(pipeline: string, triggerId: string): Promise<boolean> {
    return this.exclusive(async () => {
      const result = await this.db.deleteFrom("trigger_tokens").where("pipeline", "=", pipeline).where("trigger_id", "=", triggerId).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    });
  }
}
