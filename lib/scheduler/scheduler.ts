/**
 * The scheduler loop: turns due schedule triggers into runs, exactly once per (trigger,
 * logical date) even with several schedulers on one store and across restarts, and drives backfills.
 *
 * How exactly-once holds: every scheduler computes the same due slots from the same files and clock;
 * before starting a run it claims the slot with an INSERT on the `scheduled_runs` primary key
 * (`TriggerStore.claimScheduledRun`). The database lets one claim through; the losers move on. A crash
 * between claim and start leaves a `claimed` row that `releaseStaleClaims` frees after `staleClaimMs`
 * (so the slot runs late rather than never).
 *
 * How max_active_runs holds with several schedulers: a trigger with a limit claims through
 * `claimScheduledRunWithinLimit`, which counts the trigger's active runs (and claims not started yet) and
 * inserts the claim in one locked transaction, so two schedulers cannot both take the last free place.
 * At the limit, `on_max_active: wait` leaves the slot due and looks again a second later; `skip` records
 * it as skipped. A run retried in place is active again and holds a place, even when that takes the
 * trigger above its limit for a while (it was admitted once; refusing the retry would surprise the user):
 * no new run starts until the trigger is back below the limit.
 *
 * How a tick stays cheap with 10,000 triggers: each trigger's next due instant is kept in memory (and in
 * the store, so a restart does not recompute it), so a tick is one comparison per trigger; cron maths and
 * database writes happen only for triggers that are due.
 *
 * IO comes in through the constructor: the store, the trigger source, `startRun` (the
 * Runner's `start`), an optional `cancelRun`, the clock and the sleep.
 */
import { createHash } from "node:crypto";
import { assertNever } from "../core/assert-never";
import { UserError } from "../core/errors";
import type { RunTrigger, Variables } from "../core/model";
import { compileSchedule, dueLogicalDates, upcomingSlots, type CompiledSchedule, type ScheduledSlot } from "../core/schedule";
import type { ScheduleTrigger, Trigger } from "../core/triggers-schema";
import type { TriggerStore } from "../store/metadata/trigger-store";
import type { TriggerSource } from "../store/trigger-files";
import { Backfills } from "./backfills";
import { sweepSlaMisses, type OnSlaMiss } from "./sla";
import { abortableSleep } from "../runner/sleep";

/** What the scheduler asks the runner to start; structurally a `StartRunRequest`. */
export interface ScheduledRunRequest {
  pipeline: string;
  trigger: RunTrigger;
  triggerId: string;
  logicalDate: string;
  dataInterval: { start: string; end: string };
  variables: Variables;
}

/** Starts a run and returns its id once it is recorded (e.g. `(r) => runner.start(r)`). */
export type StartRun = (request: ScheduledRunRequest) => Promise<{ runId: string }>;
/** Cancels a live run (run timeouts, backfill cancel); may be a no-op when the run lives elsewhere. */
export type CancelRun = (runId: string) => Promise<unknown> | unknown;

export interface SchedulerOptions {
  store: TriggerStore;
  source: TriggerSource;
  startRun: StartRun;
  cancelRun?: CancelRun;
  /** Epoch ms; injectable for tests. */
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** The longest sleep of `start()` (file changes and backfills are noticed this often). Default 1000 ms. */
  pollMs?: number;
  /** Policy `none`: a slot due at most this long ago is still on time. Default 60 s. */
  graceMs?: number;
  /** A claim without a run after this long is released (its scheduler died). Default 5 min. */
  staleClaimMs?: number;
  /** Problems that do not stop the loop (a broken triggers file, a run that failed to start). */
  onError?: (error: unknown, where: string) => void;
  /** Called after every tick of the `start()` loop (progress output, metrics). */
  onTick?: (report: TickReport) => void;
  /** Told (once per run, across schedulers) when a run outlives its trigger's `sla:`; without it SLAs are not watched. */
  onSlaMiss?: OnSlaMiss;
}

/** A run started by a tick. */
export interface StartedScheduledRun {
  pipeline: string;
  triggerId: string;
  logicalDate: string;
  runId: string;
  trigger: RunTrigger;
}

export interface TickReport {
  /** Enabled schedule triggers looked at. */
  evaluated: number;
  /** Triggers that were due and processed. */
  due: number;
  started: StartedScheduledRun[];
  /** Slots dropped (missed-run policy, max_active_runs skip) or already claimed by another scheduler. */
  skipped: number;
  /** When the next slot of any trigger is due (null: none). */
  nextDueMs: number | null;
}

interface Entry {
  pipeline: string;
  trigger: Trigger;
  fingerprint: string;
  schedule: CompiledSchedule | null;
  lastScheduledMs: number | null;
  /** Null: nothing more will ever be due. */
  nextDueMs: number | null;
  /** False until computed (then `nextDueMs` is trusted). */
  known: boolean;
  firstSeenMs: number;
}


/** What makes two trigger definitions schedule the same slots (a change forgets cached due times). */
export function triggerFingerprint(trigger: Trigger): string {
  const basis = trigger.type === "schedule" ? JSON.stringify([trigger.schedule, trigger.missedRunPolicy]) : "api";
  return createHash("sha256").update(basis).digest("hex").slice(0, 16);
}

/** Key of a trigger in maps: pipeline and trigger id. */
export function triggerKey(pipeline: string, triggerId: string): string {
  return `${pipeline}\u0000${triggerId}`;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const parseMs = (text: string | null): number | null => (text === null ? null : Date.parse(text));

/** See the module comment. One instance per process; several processes may share a store. */
export class Scheduler {
  readonly backfills: Backfills;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly entries = new Map<string, Entry>();
  private sourceVersion: string | null = null;
  private lastStaleSweepMs = Number.NEGATIVE_INFINITY;
  private lastTimeoutSweepMs = Number.NEGATIVE_INFINITY;
  private lastSlaSweepMs = Number.NEGATIVE_INFINITY;
  private loop: { controller: AbortController; done: Promise<void> } | null = null;
  private ticking: Promise<TickReport> | null = null;
  /** Due times computed this tick with nothing scheduled: written in one batch at the end of the tick. */
  private pendingNextDue: { pipeline: string; triggerId: string; nextDue: string | null }[] = [];
  /** Slots of stale claims released by this scheduler and not started yet (see `startReleasedSlots`). */
  private reclaim: { pipeline: string; triggerId: string; logicalDate: string }[] = [];

  constructor(private readonly options: SchedulerOptions) {
    this.now = options.now ?? (() => Date.now());
    this.sleep = options.sleep ?? abortableSleep;
    this.backfills = new Backfills({
      store: options.store,
      startRun: options.startRun,
      cancelRun: options.cancelRun,
      now: this.now,
      staleClaimMs: options.staleClaimMs,
      findTrigger: (pipeline, triggerId) => this.entries.get(triggerKey(pipeline, triggerId))?.trigger ?? null,
    });
  }

  /** The triggers known after the last tick, for the triggers page (next due in its own clock). */
  triggers(): { pipeline: string; trigger: Trigger; lastScheduled: string | null; nextDue: string | null }[] {
    return [...this.entries.values()].map((e) => ({
      pipeline: e.pipeline,
      trigger: e.trigger,
      lastScheduled: e.lastScheduledMs === null ? null : iso(e.lastScheduledMs),
      nextDue: e.known && e.nextDueMs !== null ? iso(e.nextDueMs) : null,
    }));
  }

  /** The next `count` slots of a schedule trigger after now (logical date and due time), for display. */
  upcoming(pipeline: string, triggerId: string, count = 5): ScheduledSlot[] {
    const entry = this.entries.get(triggerKey(pipeline, triggerId));
    if (!entry?.schedule) return [];
    return upcomingSlots(entry.schedule, this.now(), count);
  }

  /**
   * Evaluates every enabled trigger once: re-reads the trigger files when they changed, claims and starts
   * due runs, applies max_active_runs and run timeouts, and advances backfills. Ticks never overlap: a
   * call during a tick waits for it and runs another.
   */
  async tick(): Promise<TickReport> {
    while (this.ticking) await this.ticking.catch(() => undefined);
    const current = this.tickOnce();
    this.ticking = current;
    try {
      return await current;
    } finally {
      this.ticking = null;
    }
  }

  private async tickOnce(): Promise<TickReport> {
    const now = this.now();
    await this.refresh(now);
    const report: TickReport = { evaluated: 0, due: 0, started: [], skipped: 0, nextDueMs: null };
    for (const entry of this.entries.values()) {
      if (entry.trigger.type !== "schedule" || !entry.trigger.enabled || entry.schedule === null) continue;
      report.evaluated++;
      if (entry.known && (entry.nextDueMs === null || entry.nextDueMs > now)) {
        if (entry.nextDueMs !== null && (report.nextDueMs === null || entry.nextDueMs < report.nextDueMs)) report.nextDueMs = entry.nextDueMs;
        continue;
      }
      report.due++;
      try {
        await this.processTrigger(entry, entry.trigger, entry.schedule, now, report);
      } catch (error) {
        this.report(error, `trigger ${entry.pipeline}/${entry.trigger.name}`);
        entry.nextDueMs = now + 5000; // store trouble: try again shortly
        entry.known = true;
      }
      if (entry.nextDueMs !== null && (report.nextDueMs === null || entry.nextDueMs < report.nextDueMs)) report.nextDueMs = entry.nextDueMs;
    }
    if (this.pendingNextDue.length > 0) {
      const batch = this.pendingNextDue;
      this.pendingNextDue = [];
      try {
        await this.options.store.setNextDue(batch);
      } catch (error) {
        this.report(error, "saving due times");
      }
    }
    await this.sweeps(now);
    try {
      const backfillRuns = await this.backfills.advance();
      report.started.push(...backfillRuns);
    } catch (error) {
      this.report(error, "backfills");
    }
    return report;
  }

  private async processTrigger(entry: Entry, trigger: ScheduleTrigger, schedule: CompiledSchedule, now: number, report: TickReport): Promise<void> {
    const { pipeline } = entry;
    const store = this.options.store;
    const result = dueLogicalDates(schedule, entry.lastScheduledMs, now, trigger.missedRunPolicy, {
      firstSeenMs: entry.firstSeenMs,
      graceMs: this.options.graceMs,
    });
    report.skipped += result.skipped;
    let handled: number | null;
    if (result.due.length === 0) handled = result.lastLogicalMs;
    else {
      // Slots the policy dropped before the first due one count as handled.
      const before = schedule.previousTick(result.due[0].logicalMs, true);
      handled = before !== null && (entry.lastScheduledMs === null || before > entry.lastScheduledMs) ? before : entry.lastScheduledMs;
    }
    let nextDueMs = result.nextDueMs;
    for (const slot of result.due) {
      const outcome = await this.startSlot(pipeline, trigger, slot, now, report);
      if (outcome === "full") {
        nextDueMs = now + 1000; // on_max_active wait: the slot stays due, look again in a second
        break;
      }
      if (outcome === "retry") {
        nextDueMs = now + 5000;
        break;
      }
      handled = slot.logicalMs;
    }
    // (More catch-up than one call returns leaves `nextDueMs ≤ now`: the next tick continues.)
    const moved = handled !== entry.lastScheduledMs;
    entry.lastScheduledMs = handled;
    entry.nextDueMs = nextDueMs;
    entry.known = true;
    const nextDue = nextDueMs === null ? null : iso(nextDueMs);
    if (moved) await store.advanceTrigger(pipeline, trigger.name, handled === null ? null : iso(handled), nextDue);
    else this.pendingNextDue.push({ pipeline, triggerId: trigger.name, nextDue });
  }

  /**
   * Claims one slot (within max_active_runs when the trigger has one) and starts its run. `lost`: another
   * scheduler has it; `skipped`: max_active_runs reached and the slot recorded as skipped; `full`:
   * max_active_runs reached with `on_max_active: wait`, nothing recorded; `failed`: the pipeline is
   * broken (recorded on the claim, not retried); `retry`: an operational problem, the claim is released.
   */
  private async startSlot(
    pipeline: string,
    trigger: ScheduleTrigger,
    slot: ScheduledSlot,
    now: number,
    report: Pick<TickReport, "started" | "skipped">,
  ): Promise<"started" | "lost" | "skipped" | "full" | "failed" | "retry"> {
    const store = this.options.store;
    const logicalDate = iso(slot.logicalMs);
    const claim =
      trigger.maxActiveRuns === null
        ? (await store.claimScheduledRun({ pipeline, triggerId: trigger.name, logicalDate, at: iso(now) }))
          ? "claimed"
          : "taken"
        : await store.claimScheduledRunWithinLimit({ pipeline, triggerId: trigger.name, logicalDate, at: iso(now), maxActiveRuns: trigger.maxActiveRuns, onFull: trigger.onMaxActive });
    switch (claim) {
      case "claimed":
        break;
      case "taken":
        report.skipped++;
        return "lost";
      case "skipped":
        report.skipped++;
        return "skipped";
      case "full":
        return "full";
      default:
        return assertNever(claim, "claim outcome");
    }
    try {
      const { runId } = await this.options.startRun({
        pipeline,
        trigger: "schedule",
        triggerId: trigger.name,
        logicalDate,
        dataInterval: { start: iso(slot.interval.startMs), end: iso(slot.interval.endMs) },
        variables: trigger.variables,
      });
      await store.finishClaim(pipeline, trigger.name, logicalDate, { status: "started", runId });
      report.started.push({ pipeline, triggerId: trigger.name, logicalDate, runId, trigger: "schedule" });
      return "started";
    } catch (error) {
      this.report(error, `trigger ${pipeline}/${trigger.name} at ${logicalDate}`);
      if (error instanceof UserError) {
        // A broken pipeline will not heal by retrying this slot: record why and move on.
        await store.finishClaim(pipeline, trigger.name, logicalDate, { status: "failed", error: error.message });
        return "failed";
      }
      await store.releaseClaim(pipeline, trigger.name, logicalDate);
      return "retry";
    }
  }

  /** Re-reads the trigger files; on a change, syncs the store and rebuilds the in-memory entries. */
  private async refresh(now: number): Promise<void> {
    const snapshot = await this.options.source.load();
    if (snapshot.version === this.sourceVersion) return;
    const store = this.options.store;
    const at = iso(now);
    const fresh = new Map<string, Entry>();
    for (const { pipeline, triggers, error } of snapshot.pipelines) {
      if (error) {
        // A broken file: keep its stored state (a fix must not look like new triggers), schedule nothing.
        this.report(error, `triggers of ${pipeline}`);
        continue;
      }
      const definitions = triggers.map((trigger) => ({
        triggerId: trigger.name,
        kind: trigger.type,
        enabled: trigger.enabled,
        fingerprint: triggerFingerprint(trigger),
      }));
      await store.syncTriggers(pipeline, definitions, at);
      for (const trigger of triggers) {
        const fingerprint = triggerFingerprint(trigger);
        const key = triggerKey(pipeline, trigger.name);
        const previous = this.entries.get(key);
        let schedule: CompiledSchedule | null = null;
        if (trigger.type === "schedule") {
          schedule = previous?.fingerprint === fingerprint && previous.schedule ? previous.schedule : compileSchedule(trigger.schedule);
        }
        fresh.set(key, { pipeline, trigger, fingerprint, schedule, lastScheduledMs: null, nextDueMs: null, known: false, firstSeenMs: now });
      }
    }
    const listed = snapshot.pipelines.map((p) => p.pipeline);
    await store.deleteTriggersOfOtherPipelines(listed);
    // Stored progress (possibly another scheduler's, or ours before a restart) wins over memory.
    for (const state of await store.listTriggerStates()) {
      const entry = fresh.get(triggerKey(state.pipeline, state.triggerId));
      if (!entry) continue;
      entry.lastScheduledMs = parseMs(state.lastScheduled);
      entry.firstSeenMs = parseMs(state.firstSeenAt) ?? now;
      if (state.fingerprint === entry.fingerprint && state.nextDue !== null) {
        entry.nextDueMs = parseMs(state.nextDue);
        entry.known = true;
      }
    }
    this.entries.clear();
    for (const [key, entry] of fresh) this.entries.set(key, entry);
    this.sourceVersion = snapshot.version;
  }

  /** Stale claims (a scheduler died between claim and start) and run timeouts. */
  private async sweeps(now: number): Promise<void> {
    const store = this.options.store;
    const staleClaimMs = this.options.staleClaimMs ?? 5 * 60_000;
    if (now - this.lastStaleSweepMs >= 60_000) {
      this.lastStaleSweepMs = now;
      try {
        for (const claim of await store.releaseStaleClaims(iso(now - staleClaimMs))) this.reclaim.push({ pipeline: claim.pipeline, triggerId: claim.triggerId, logicalDate: claim.logicalDate });
      } catch (error) {
        this.report(error, "stale claims");
      }
    }
    await this.startReleasedSlots(now);
    if (this.options.onSlaMiss && now - this.lastSlaSweepMs >= 5000) {
      this.lastSlaSweepMs = now;
      await sweepSlaMisses(store, this.entries.values(), now, this.options.onSlaMiss, (error, where) => this.report(error, where));
    }
    const cancelRun = this.options.cancelRun;
    if (!cancelRun || now - this.lastTimeoutSweepMs < 5000) return;
    this.lastTimeoutSweepMs = now;
    for (const entry of this.entries.values()) {
      const timeout = entry.trigger.runTimeoutMs;
      if (timeout === null) continue;
      try {
        for (const run of await store.listActiveRuns(entry.pipeline, entry.trigger.name)) {
          const since = Date.parse(run.startedAt ?? run.createdAt);
          if (now - since > timeout) await cancelRun(run.id);
        }
      } catch (error) {
        this.report(error, `run timeout of ${entry.pipeline}/${entry.trigger.name}`);
      }
    }
  }

  /**
   * Starts the slots whose stale claims this scheduler released. The trigger already moved past them, so
   * one that finds its trigger at max_active_runs (`wait`) is kept here and tried again every tick rather
   * than dropped; the others (started, lost to another scheduler, skipped, failed) are done.
   */
  private async startReleasedSlots(now: number): Promise<void> {
    const pending = this.reclaim;
    this.reclaim = [];
    for (const [index, released] of pending.entries()) {
      const entry = this.entries.get(triggerKey(released.pipeline, released.triggerId));
      if (entry?.trigger.type !== "schedule" || !entry.schedule) continue;
      try {
        const outcome = await this.startSlot(entry.pipeline, entry.trigger, entry.schedule.slotAt(Date.parse(released.logicalDate)), now, { started: [], skipped: 0 });
        if (outcome === "full" || outcome === "retry") this.reclaim.push(released);
      } catch (error) {
        this.reclaim.push(...pending.slice(index));
        this.report(error, "stale claims");
        return;
      }
    }
  }

  /** Forces the next tick to re-read the files and the stored progress. */
  invalidate(): void {
    this.sourceVersion = null;
  }

  /**
   * Runs `tick()` in a loop until `stop()`: sleeps until the next due instant (at most `pollMs`, so
   * file edits and backfills are seen within a second). Idempotent.
   */
  start(): void {
    if (this.loop) return;
    const controller = new AbortController();
    const pollMs = this.options.pollMs ?? 1000;
    const run = async () => {
      while (!controller.signal.aborted) {
        let wait = pollMs;
        try {
          const report = await this.tick();
          this.options.onTick?.(report);
          if (report.nextDueMs !== null) wait = Math.min(pollMs, Math.max(0, report.nextDueMs - this.now()));
        } catch (error) {
          this.report(error, "tick");
        }
        await this.sleep(wait, controller.signal);
      }
    };
    this.loop = { controller, done: run() };
  }

  /** Stops the loop and waits for the tick in progress. */
  async stop(): Promise<void> {
    const loop = this.loop;
    if (!loop) return;
    this.loop = null;
    loop.controller.abort();
    await loop.done;
  }

  private report(error: unknown, where: string): void {
    this.options.onError?.(error, where);
  }
}
