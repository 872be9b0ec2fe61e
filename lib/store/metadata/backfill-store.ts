/**
 * Backfills: a date range of one trigger run slot by slot, at most `concurrency` at once. Each slot is
 * claimed in `backfill_runs`, keyed by (backfill, logical date), so that exactly one scheduler starts it;
 * the limited claim holds the backfill's claim lock (`claim-locks.ts`) while it counts the active slots.
 */
import { z } from "zod";
import { UnexpectedError, UserError } from "../../core/errors";
import type { Variables } from "../../core/model";
import { RUN_STATES, type RunState } from "../../core/run-model";
import { backfillLockKey, lockClaims } from "./claim-locks";
import { newSortableId } from "./ids";
import { KyselyStorePart } from "./kysely-store-part";
import type { LimitedClaimOutcome } from "./schedule-claims";
import type { BackfillsTable } from "./schema";
import { pickStored } from "./stored-values";

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

/** Backfills and the claims of their slots; every method is atomic on its own. */
export interface BackfillStore {
  createBackfill(input: CreateBackfillInput): Promise<Backfill>;
  getBackfill(id: string): Promise<Backfill | null>;
  /** Newest first. */
  listBackfills(filter?: { pipeline?: string; state?: BackfillState }): Promise<Backfill[]>;
  /** Sets the state; terminal states set `endedAt`. Only moves out of `running` (a finished backfill stays finished). */
  setBackfillState(id: string, state: BackfillState, at: string): Promise<boolean>;
  /** Claims one slot of a backfill (true for exactly one caller). */
  claimBackfillRun(backfillId: string, logicalDate: string, at: string): Promise<boolean>;
  /**
   * Claims one slot of a backfill only while fewer than `concurrency` of its slots are active (claimed
   * without a run yet, or with a queued or running run), atomically against other schedulers.
   */
  claimBackfillRunWithinLimit(backfillId: string, logicalDate: string, at: string, concurrency: number): Promise<Exclude<LimitedClaimOutcome, "skipped">>;
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
}

const BACKFILL_STATES: readonly BackfillState[] = ["running", "success", "failed", "cancelled"];
const slotsSchema = z.array(z.tuple([z.string(), z.string()]));
const variablesSchema = z.record(z.string(), z.json());

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
    state: pickStored(BACKFILL_STATES, row.state, "backfill state"),
    concurrency: Number(row.concurrency),
    total: Number(row.total),
    slots: slots.data.map(([logicalDate, intervalEnd]) => ({ logicalDate, intervalEnd })),
    variables: variables.data,
    createdAt: row.created_at,
    endedAt: row.ended_at,
  };
}

/** `BackfillStore` over the metadata database (SQLite or PostgreSQL). */
export class KyselyBackfillStore extends KyselyStorePart implements BackfillStore {
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

  async claimBackfillRunWithinLimit(backfillId: string, logicalDate: string, at: string, concurrency: number): Promise<Exclude<LimitedClaimOutcome, "skipped">> {
    return this.exclusive(() =>
      this.db.transaction().execute(async (trx) => {
        await lockClaims(trx, backfillLockKey(backfillId), at);
        const existing = await trx.selectFrom("backfill_runs").select("run_id").where("backfill_id", "=", backfillId).where("logical_date", "=", logicalDate).executeTakeFirst();
        if (existing) return "taken";
        const { n } = await trx
          .selectFrom("backfill_runs as b")
          .leftJoin("runs as r", "r.id", "b.run_id")
          .select((eb) => eb.fn.countAll().as("n"))
          .where("b.backfill_id", "=", backfillId)
          // A claimed slot without a run yet is being started by someone: it counts.
          .where((eb) => eb.or([eb("b.run_id", "is", null), eb("r.state", "in", ["queued", "running"])]))
          .executeTakeFirstOrThrow();
        if (Number(n) >= concurrency) return "full";
        await trx.insertInto("backfill_runs").values({ backfill_id: backfillId, logical_date: logicalDate, run_id: null, claimed_at: at }).execute();
        return "claimed";
      }),
    );
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
      runState: row.state === null ? null : pickStored(RUN_STATES, row.state, "run state"),
      claimedAt: row.claimed_at,
    }));
  }
}
