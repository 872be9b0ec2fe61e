/**
 * Backfills: a date range on a schedule trigger becomes one run per logical date of the
 * schedule, started at most `concurrency` at a time, with progress and cancel. The plan (the list of
 * slots) is fixed when the backfill is created and stored with it, so editing the trigger later does not
 * change a backfill in flight. Each slot is claimed on a unique key before its run starts, so two
 * schedulers advancing the same backfill never start a date twice, and the claim counts the backfill's
 * active slots in the same locked transaction, so together they never exceed its concurrency. A
 * backfill's concurrency is its own limit: its runs do not wait for the trigger's max_active_runs (they
 * do count toward it, holding back the trigger's scheduled runs while they are active).
 */
import { UserError } from "../core/errors";
import type { Variables } from "../core/model";
import { backfillDates } from "../core/schedule";
import type { Trigger } from "../core/triggers-schema";
import type { Backfill, BackfillState, TriggerStore } from "../store/metadata/trigger-store";
import type { CancelRun, StartedScheduledRun, StartRun } from "./scheduler";

export interface BackfillsOptions {
  store: TriggerStore;
  startRun: StartRun;
  cancelRun?: CancelRun;
  now: () => number;
  /** The current definition of a trigger (from the triggers files), or null when it is gone. */
  findTrigger: (pipeline: string, triggerId: string) => Trigger | null;
  /** A slot claimed this long ago without a run belongs to a dead scheduler and is released. Default 5 min. */
  staleClaimMs?: number;
}

export interface CreateBackfillRequest {
  pipeline: string;
  triggerId: string;
  /** ISO instants; every logical date of the schedule in `[start, end]` gets a run. */
  start: string;
  end: string;
  /** Runs of this backfill active at once. Default 1. */
  concurrency?: number;
  /** Overrides on top of the trigger's variables. */
  variables?: Variables;
}

export interface BackfillProgress {
  backfill: Backfill;
  total: number;
  /** Slots not started yet. */
  pending: number;
  queued: number;
  running: number;
  success: number;
  failed: number;
  cancelled: number;
}

/** Creates, advances, reports on and cancels backfills. The scheduler's tick calls `advance()`. */
export class Backfills {
  constructor(private readonly options: BackfillsOptions) {}

  /**
   * Plans a backfill: the trigger must be a cron or interval schedule trigger known to the scheduler.
   *
   * @throws UserError `trigger_not_found`, `invalid_schedule` (an @once or API trigger), `invalid_range`,
   *   `backfill_too_large`, `invalid_value` (concurrency).
   */
  async create(request: CreateBackfillRequest): Promise<Backfill> {
    const trigger = this.options.findTrigger(request.pipeline, request.triggerId);
    if (!trigger) throw new UserError("trigger_not_found", `pipeline ${request.pipeline} has no trigger ${request.triggerId}`);
    if (trigger.type !== "schedule") throw new UserError("invalid_schedule", `trigger ${request.triggerId} is an API trigger: backfill a schedule trigger`);
    const startMs = Date.parse(request.start);
    const endMs = Date.parse(request.end);
    if (Number.isNaN(startMs) || Number.isNaN(endMs)) throw new UserError("invalid_range", `backfill start and end must be ISO dates, got ${request.start} and ${request.end}`);
    const slots = backfillDates(trigger.schedule, startMs, endMs);
    return this.options.store.createBackfill({
      pipeline: request.pipeline,
      triggerId: request.triggerId,
      rangeStart: new Date(startMs).toISOString(),
      rangeEnd: new Date(endMs).toISOString(),
      concurrency: request.concurrency ?? 1,
      slots: slots.map((s) => ({ logicalDate: new Date(s.logicalMs).toISOString(), intervalEnd: new Date(s.interval.endMs).toISOString() })),
      variables: request.variables ?? {},
      createdAt: new Date(this.options.now()).toISOString(),
    });
  }

  /** Counts of the backfill's runs by state. @throws UserError `backfill_not_found`. */
  async progress(id: string): Promise<BackfillProgress> {
    const backfill = await this.options.store.getBackfill(id);
    if (!backfill) throw new UserError("backfill_not_found", `there is no backfill ${id}`);
    const runs = await this.options.store.listBackfillRuns(id);
    const progress: BackfillProgress = { backfill, total: backfill.total, pending: backfill.total - runs.length, queued: 0, running: 0, success: 0, failed: 0, cancelled: 0 };
    for (const run of runs) {
      if (run.runState === null) progress.queued++;
      else progress[run.runState]++;
    }
    return progress;
  }

  /** Stops starting new runs and cancels the active ones. False when it had already ended. */
  async cancel(id: string): Promise<boolean> {
    const at = new Date(this.options.now()).toISOString();
    const changed = await this.options.store.setBackfillState(id, "cancelled", at);
    if (!changed) return false;
    for (const run of await this.options.store.listBackfillRuns(id)) {
      if (run.runId !== null && (run.runState === "queued" || run.runState === "running")) await this.options.cancelRun?.(run.runId);
    }
    return true;
  }

  /** Starts runs of every running backfill up to its concurrency, and ends the finished ones. */
  async advance(): Promise<StartedScheduledRun[]> {
    const store = this.options.store;
    const started: StartedScheduledRun[] = [];
    const staleBefore = new Date(this.options.now() - (this.options.staleClaimMs ?? 5 * 60_000)).toISOString();
    for (const backfill of await store.listBackfills({ state: "running" })) {
      let runs = await store.listBackfillRuns(backfill.id);
      if (runs.some((r) => r.runId === null && r.claimedAt < staleBefore)) {
        await store.releaseStaleBackfillRuns(backfill.id, staleBefore);
        runs = await store.listBackfillRuns(backfill.id);
      }
      const claimed = new Set(runs.map((r) => r.logicalDate));
      // A claimed slot without a run yet is being started by someone: count it as active.
      let active = runs.filter((r) => r.runState === null || r.runState === "queued" || r.runState === "running").length;
      const remaining = backfill.slots.filter((s) => !claimed.has(s.logicalDate));
      if (remaining.length === 0 && active === 0) {
        const failed = runs.some((r) => r.runState === "failed" || r.runState === "cancelled");
        const state: BackfillState = failed ? "failed" : "success";
        await store.setBackfillState(backfill.id, state, new Date(this.options.now()).toISOString());
        continue;
      }
      const trigger = this.options.findTrigger(backfill.pipeline, backfill.triggerId);
      const variables: Variables = { ...(trigger?.variables ?? {}), ...backfill.variables };
      for (const slot of remaining) {
        if (active >= backfill.concurrency) break;
        const at = new Date(this.options.now()).toISOString();
        // `active` above may be stale (another scheduler advancing this backfill now): the limited claim
        // counts again under a lock, so both together never pass the concurrency.
        const claim = await store.claimBackfillRunWithinLimit(backfill.id, slot.logicalDate, at, backfill.concurrency);
        if (claim === "full") break;
        if (claim === "taken") continue;
        active++;
        try {
          const { runId } = await this.options.startRun({
            pipeline: backfill.pipeline,
            trigger: "backfill",
            triggerId: backfill.triggerId,
            logicalDate: slot.logicalDate,
            dataInterval: { start: slot.logicalDate, end: slot.intervalEnd },
            variables,
          });
          await store.setBackfillRunId(backfill.id, slot.logicalDate, runId);
          started.push({ pipeline: backfill.pipeline, triggerId: backfill.triggerId, logicalDate: slot.logicalDate, runId, trigger: "backfill" });
        } catch (error) {
          await store.releaseBackfillRun(backfill.id, slot.logicalDate);
          if (error instanceof UserError) {
            // The pipeline is broken: every other date would fail the same way.
            await store.setBackfillState(backfill.id, "failed", new Date(this.options.now()).toISOString());
          }
          throw error;
        }
      }
    }
    return started;
  }
}
