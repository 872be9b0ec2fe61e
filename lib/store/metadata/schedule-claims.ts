/**
 * The claims that make scheduling exactly-once. A claim is an INSERT into `scheduled_runs`, whose primary
 * key is (pipeline, trigger, logical date), with ON CONFLICT DO NOTHING: whatever number of schedulers race
 * for a slot, the database lets exactly one insert through, and only that one starts the run.
 *
 * `max_active_runs` rests on a second thing: the limited claim counts the active runs and inserts the
 * claim in one transaction that holds the trigger's claim lock (`claim-locks.ts`), so two schedulers cannot
 * both see "one slot left" and both take it.
 */
import { RUN_STATES, type RunState } from "../../core/run-model";
import type { OnMaxActive } from "../../core/triggers-schema";
import { lockClaims, triggerLockKey } from "./claim-locks";
import { KyselyStorePart } from "./kysely-store-part";
import type { ScheduledRunsTable } from "./schema";
import { pickStored } from "./stored-values";

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

/** An active (queued or running) run of a trigger. */
export interface ActiveRun {
  id: string;
  state: RunState;
  createdAt: string;
  startedAt: string | null;
}

/**
 * What a claim bounded by a limit did: `claimed` (the slot is the caller's: start it), `taken` (another
 * scheduler claimed or skipped it already), `full` (the limit is reached, nothing recorded: try again
 * later), `skipped` (the limit is reached and the slot was recorded as skipped, so nobody runs it).
 */
export type LimitedClaimOutcome = "claimed" | "taken" | "full" | "skipped";

/** A claim of one (trigger, logical date) bounded by the trigger's `max_active_runs`. */
export interface LimitedClaimInput {
  pipeline: string;
  triggerId: string;
  logicalDate: string;
  at: string;
  maxActiveRuns: number;
  onFull: OnMaxActive;
}

/** Claims of (trigger, logical date) slots and what became of them; every method is atomic on its own. */
export interface ScheduleClaimStore {
  /**
   * Claims one (trigger, logical date): true for exactly one caller, ever. `status` `skipped` records a
   * slot dropped by max_active_runs so that no other scheduler runs it either.
   */
  claimScheduledRun(input: { pipeline: string; triggerId: string; logicalDate: string; at: string; status?: "claimed" | "skipped" }): Promise<boolean>;
  /**
   * Claims one (trigger, logical date) only while the trigger has fewer than `maxActiveRuns` active runs;
   * check and claim are one atomic step against every other scheduler on the database. Active means a
   * queued or running run of the trigger (any kind but manual, as `listActiveRuns`), or a claim still
   * `claimed` whose run is not recorded yet (a scheduler between claim and start). At the limit, `onFull`
   * `wait` records nothing (`full`), `skip` records the slot as skipped (`skipped`).
   */
  claimScheduledRunWithinLimit(input: LimitedClaimInput): Promise<LimitedClaimOutcome>;
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
}

const SCHEDULED_STATUSES: readonly ScheduledRunStatus[] = ["claimed", "started", "skipped", "failed"];

function mapScheduledRun(row: ScheduledRunsTable): ScheduledRun {
  return {
    pipeline: row.pipeline,
    triggerId: row.trigger_id,
    logicalDate: row.logical_date,
    status: pickStored(SCHEDULED_STATUSES, row.status, "scheduled run status"),
    runId: row.run_id,
    claimedAt: row.claimed_at,
    error: row.error,
  };
}

/** `ScheduleClaimStore` over the metadata database (SQLite or PostgreSQL). */
export class KyselyScheduleClaimStore extends KyselyStorePart implements ScheduleClaimStore {
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

  async claimScheduledRunWithinLimit(input: LimitedClaimInput): Promise<LimitedClaimOutcome> {
    const { pipeline, triggerId, logicalDate, at } = input;
    return this.exclusive(() =>
      this.db.transaction().execute(async (trx) => {
        await lockClaims(trx, triggerLockKey(pipeline, triggerId), at);
        const existing = await trx
          .selectFrom("scheduled_runs")
          .select("status")
          .where("pipeline", "=", pipeline)
          .where("trigger_id", "=", triggerId)
          .where("logical_date", "=", logicalDate)
          .executeTakeFirst();
        if (existing) return "taken";
        // One statement, so one snapshot: counted as two, a run created and its claim marked `started`
        // between them would be missed by both counts.
        const counts = await trx
          .selectNoFrom((eb) => [
            eb
              .selectFrom("runs")
              .select(eb.fn.countAll().as("n"))
              .where("pipeline", "=", pipeline)
              .where("trigger_id", "=", triggerId)
              .where("trigger_kind", "!=", "manual")
              .where("state", "in", ["queued", "running"])
              .as("active_runs"),
            // A claim whose run is already recorded as active is counted once, as that run.
            eb
              .selectFrom("scheduled_runs as s")
              .select(eb.fn.countAll().as("n"))
              .where("s.pipeline", "=", pipeline)
              .where("s.trigger_id", "=", triggerId)
              .where("s.status", "=", "claimed")
              .where(({ not, exists, selectFrom }) =>
                not(
                  exists(
                    selectFrom("runs as r")
                      .select("r.id")
                      .whereRef("r.pipeline", "=", "s.pipeline")
                      .whereRef("r.trigger_id", "=", "s.trigger_id")
                      .whereRef("r.logical_date", "=", "s.logical_date")
                      .where("r.trigger_kind", "=", "schedule")
                      .where("r.state", "in", ["queued", "running"]),
                  ),
                ),
              )
              .as("pending_claims"),
          ])
          .executeTakeFirstOrThrow();
        const active = Number(counts.active_runs ?? 0) + Number(counts.pending_claims ?? 0);
        const full = active >= input.maxActiveRuns;
        if (full && input.onFull === "wait") return "full";
        const result = await trx
          .insertInto("scheduled_runs")
          .values({ pipeline, trigger_id: triggerId, logical_date: logicalDate, status: full ? "skipped" : "claimed", run_id: null, claimed_at: at, error: null })
          .onConflict((oc) => oc.columns(["pipeline", "trigger_id", "logical_date"]).doNothing())
          .executeTakeFirst();
        // A conflict here: a scheduler using the unlimited claim (another view of the file) got the slot.
        if (Number(result.numInsertedOrUpdatedRows ?? 0) !== 1) return "taken";
        return full ? "skipped" : "claimed";
      }),
    );
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
    return rows.map((row) => ({ id: row.id, state: pickStored(RUN_STATES, row.state, "run state"), createdAt: row.created_at, startedAt: row.started_at }));
  }
}
