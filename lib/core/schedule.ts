/**
 * Schedule maths: when a schedule trigger fires, which logical dates are due, which ones a
 * backfill covers. Pure computation: cron through `croner` (IANA time zones, DST-correct, seconds field),
 * fixed intervals by arithmetic, `@once` as a single instant.
 *
 * Convention (Airflow's): a schedule cuts time into **data intervals** between consecutive ticks. The run
 * of the interval `[tick_i, tick_i+1)` has **logical date `tick_i`** (the start of its data interval) and
 * becomes **due at `tick_i+1`** (the end), when the data of the interval is complete. So a `@daily`
 * trigger's run for Monday has logical date Monday 00:00 and starts Tuesday 00:00 in the trigger's time
 * zone. `@once` is the exception: one run, logical date = due time = its `start_date`, empty interval.
 *
 * DST (what croner does, pinned by tests): a wall time that does not exist (02:30 on the spring-forward
 * day) fires at the first valid time after it (03:00); a wall time that exists twice (01:30 on the
 * fall-back day) fires once, at its first occurrence; `@hourly` fires every real hour through both.
 */
import { Cron } from "croner";
import { messageOf, UserError } from "./errors";

/** When a schedule trigger fires. Instants are epoch milliseconds (cheap to compare in a 10,000-trigger tick). */
export type ScheduleSpec =
  | {
      kind: "cron";
      /** A 5- or 6-field cron expression (presets already expanded). */
      cron: string;
      /** IANA time zone the cron fields are read in. */
      timezone: string;
      /** First logical date allowed (inclusive), or null. */
      startMs: number | null;
      /** Last logical date allowed (inclusive), or null. */
      endMs: number | null;
    }
  | {
      kind: "interval";
      everyMs: number;
      /** Ticks are `startMs + k·everyMs` (the Unix epoch when null), bounded by start and end (inclusive). */
      startMs: number | null;
      endMs: number | null;
    }
  | { kind: "once"; atMs: number };

/** The cron expression each preset stands for (fields read in the trigger's time zone). */
export const CRON_PRESETS = {
  "@hourly": "0 * * * *",
  "@daily": "0 0 * * *",
  "@weekly": "0 0 * * 0",
  "@monthly": "0 0 1 * *",
} as const;

/** Whether the text is a preset with a cron meaning (`@once` is not: it is its own kind). */
export function isCronPreset(value: string): value is keyof typeof CRON_PRESETS {
  return Object.prototype.hasOwnProperty.call(CRON_PRESETS, value);
}

/** One run a schedule asks for. */
export interface ScheduledSlot {
  /** Start of the data interval (Airflow's logical date), epoch ms. */
  logicalMs: number;
  /** The data interval `[startMs, endMs)`. */
  interval: { startMs: number; endMs: number };
  /** When the run should start: the end of the interval. */
  dueMs: number;
}

/** A schedule ready to compute with (the cron is parsed once). */
export interface CompiledSchedule {
  readonly spec: ScheduleSpec;
  /** First tick ≥ `ms` (`> ms` when `strict`) within the schedule's bounds, or null when there is none. */
  nextTick(ms: number, strict?: boolean): number | null;
  /** Last tick ≤ `ms` (`< ms` when `strict`) within the bounds, or null. */
  previousTick(ms: number, strict?: boolean): number | null;
  /** The slot whose logical date is the tick `logicalMs`. */
  slotAt(logicalMs: number): ScheduledSlot;
}

/**
 * Whether `zone` is an IANA time zone this runtime knows. Why not trust croner: it only fails when it
 * computes, which would turn a typo into a scheduler error at 3 a.m. instead of a file error at save.
 */
export function isValidTimeZone(zone: string): boolean {
  const known = zoneValidity.get(zone);
  if (known !== undefined) return known;
  let valid: boolean;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    valid = true;
  } catch {
    valid = false;
  }
  if (zoneValidity.size < 10_000) zoneValidity.set(zone, valid);
  return valid;
}

/**
 * Memo tables (pure: same input, same answer). Why: building an `Intl.DateTimeFormat` or a croner `Cron`
 * costs ~0.4–2 ms, which 10,000 triggers at start-up would pay in seconds; the distinct (cron, zone)
 * pairs of a project are few.
 */
const zoneValidity = new Map<string, boolean>();
const cronCache = new Map<string, Cron>();

function cachedCron(expression: string, timezone: string): Cron {
  const key = `${timezone}\u0000${expression}`;
  let cron = cronCache.get(key);
  if (!cron) {
    cron = new Cron(expression, { timezone, paused: true });
    if (cronCache.size >= 10_000) cronCache.clear();
    cronCache.set(key, cron);
  }
  return cron;
}

/**
 * Checks a cron expression the way the scheduler will read it.
 *
 * @returns null when valid, else croner's reason.
 */
export function cronProblem(cron: string, timezone: string): string | null {
  try {
    cachedCron(cron, timezone);
    return null;
  } catch (error) {
    return messageOf(error);
  }
}

/**
 * Parses the schedule once so that later computations are cheap.
 *
 * @throws UserError `invalid_schedule` for a bad cron, time zone or interval.
 */
export function compileSchedule(spec: ScheduleSpec): CompiledSchedule {
  switch (spec.kind) {
    case "cron":
      return compileCron(spec);
    case "interval":
      return compileInterval(spec);
    case "once":
      return compileOnce(spec);
  }
}

function inBounds(ms: number, startMs: number | null, endMs: number | null): boolean {
  return (startMs === null || ms >= startMs) && (endMs === null || ms <= endMs);
}

function compileCron(spec: Extract<ScheduleSpec, { kind: "cron" }>): CompiledSchedule {
  if (!isValidTimeZone(spec.timezone)) throw new UserError("invalid_schedule", `unknown time zone "${spec.timezone}"; use an IANA name such as Europe/London`);
  let cron: Cron;
  try {
    cron = cachedCron(spec.cron, spec.timezone);
  } catch (error) {
    throw new UserError("invalid_schedule", `invalid cron "${spec.cron}": ${messageOf(error)}`);
  }
  const { startMs, endMs } = spec;
  // croner's nextRun(d) is strictly after d, at whole seconds.
  const rawNext = (ms: number, strict: boolean): number | null => cron.nextRun(new Date(strict ? ms : ms - 1))?.getTime() ?? null;
  const rawPrevious = (ms: number, strict: boolean): number | null => cron.previousRuns(1, new Date(strict ? ms : ms + 1))[0]?.getTime() ?? null;
  const compiled: CompiledSchedule = {
    spec,
    nextTick(ms, strict = false) {
      let from = ms;
      let isStrict = strict;
      if (startMs !== null && from < startMs) {
        from = startMs;
        isStrict = false;
      }
      const next = rawNext(from, isStrict);
      return next !== null && inBounds(next, startMs, endMs) ? next : null;
    },
    previousTick(ms, strict = false) {
      let from = ms;
      let isStrict = strict;
      if (endMs !== null && from > endMs) {
        from = endMs;
        isStrict = false;
      }
      const previous = rawPrevious(from, isStrict);
      return previous !== null && inBounds(previous, startMs, endMs) ? previous : null;
    },
    slotAt(logicalMs) {
      const end = rawNext(logicalMs, true) ?? logicalMs;
      return { logicalMs, interval: { startMs: logicalMs, endMs: end }, dueMs: end };
    },
  };
  return compiled;
}

function compileInterval(spec: Extract<ScheduleSpec, { kind: "interval" }>): CompiledSchedule {
  const { everyMs, startMs, endMs } = spec;
  if (!Number.isSafeInteger(everyMs) || everyMs < 1000) throw new UserError("invalid_schedule", `an interval must be at least 1s, got ${everyMs} ms`);
  const anchor = startMs ?? 0;
  return {
    spec,
    nextTick(ms, strict = false) {
      const k = Math.max(0, Math.ceil((ms - anchor) / everyMs));
      let tick = anchor + k * everyMs;
      if (strict && tick <= ms) tick += everyMs;
      return inBounds(tick, startMs, endMs) ? tick : null;
    },
    previousTick(ms, strict = false) {
      let tick = anchor + Math.floor((ms - anchor) / everyMs) * everyMs;
      if (strict && tick >= ms) tick -= everyMs;
      return inBounds(tick, startMs ?? Number.NEGATIVE_INFINITY, endMs) ? tick : null;
    },
    slotAt(logicalMs) {
      const end = logicalMs + everyMs;
      return { logicalMs, interval: { startMs: logicalMs, endMs: end }, dueMs: end };
    },
  };
}

function compileOnce(spec: Extract<ScheduleSpec, { kind: "once" }>): CompiledSchedule {
  const { atMs } = spec;
  return {
    spec,
    nextTick: (ms, strict = false) => (strict ? atMs > ms : atMs >= ms) ? atMs : null,
    previousTick: (ms, strict = false) => (strict ? atMs < ms : atMs <= ms) ? atMs : null,
    slotAt: (logicalMs) => ({ logicalMs, interval: { startMs: logicalMs, endMs: logicalMs }, dueMs: logicalMs }),
  };
}

/** What to do with runs whose due time passed while no scheduler was running. */
export type MissedRunPolicy = "none" | "latest" | "all";

export interface DueOptions {
  /**
   * When the scheduler first saw the trigger (used when the schedule has no start date and nothing was
   * scheduled yet): the interval in progress at that moment is the trigger's first one, so a daily trigger
   * added at 15:00 runs at the next midnight for today, instead of catching up since 1970.
   */
  firstSeenMs?: number;
  /** Under policy `none`, a run due at most this long ago still counts as on time (not missed). Default 60 s. */
  graceMs?: number;
  /** At most this many slots per call (the rest on the next call). Default 1000. */
  limit?: number;
}

export interface DueResult {
  /** The runs to create now, oldest first. */
  due: ScheduledSlot[];
  /** Slots that were due but dropped by the policy. */
  skipped: number;
  /** The newest logical date handled (due or skipped): the trigger's new "last scheduled"; null if none. */
  lastLogicalMs: number | null;
  /** When the next slot after those becomes due (null: the schedule has ended). */
  nextDueMs: number | null;
}

/**
 * The runs a schedule trigger owes at `nowMs`, given the newest logical date already scheduled.
 *
 * Policies, for slots whose due time has passed:
 * - `all`: every one, oldest first (catch-up; at most `limit` per call);
 * - `latest`: only the newest (the others are skipped);
 * - `none`: only the newest, and only if it became due within `graceMs` (a scheduler that was down
 *   does not run what it missed).
 */
export function dueLogicalDates(
  schedule: CompiledSchedule,
  lastScheduledMs: number | null,
  nowMs: number,
  policy: MissedRunPolicy,
  options: DueOptions = {},
): DueResult {
  const graceMs = options.graceMs ?? 60_000;
  const limit = options.limit ?? 1000;
  let first: number | null;
  if (lastScheduledMs !== null) first = schedule.nextTick(lastScheduledMs, true);
  else {
    const start = startOf(schedule.spec);
    if (start !== null) first = schedule.nextTick(start);
    else {
      const seen = options.firstSeenMs ?? nowMs;
      first = schedule.previousTick(seen) ?? schedule.nextTick(seen);
    }
  }

  if (first === null) return { due: [], skipped: 0, lastLogicalMs: lastScheduledMs, nextDueMs: null };
  const firstSlot = schedule.slotAt(first);
  if (firstSlot.dueMs > nowMs) return { due: [], skipped: 0, lastLogicalMs: lastScheduledMs, nextDueMs: firstSlot.dueMs };

  if (policy === "all") {
    const due: ScheduledSlot[] = [firstSlot];
    let next: number | null = schedule.nextTick(first, true);
    while (next !== null && due.length < limit) {
      const slot = schedule.slotAt(next);
      if (slot.dueMs > nowMs) return { due, skipped: 0, lastLogicalMs: due[due.length - 1].logicalMs, nextDueMs: slot.dueMs };
      due.push(slot);
      next = schedule.nextTick(next, true);
    }
    const last = due[due.length - 1].logicalMs;
    const nextDueMs = next === null ? null : schedule.slotAt(next).dueMs;
    return { due, skipped: 0, lastLogicalMs: last, nextDueMs };
  }

  // latest / none: the newest slot due by now is the one whose logical date is the newest tick with dueMs ≤ now.
  const newest = newestDueSlot(schedule, first, nowMs);
  const skippedBefore = countTicks(schedule, first, newest.logicalMs);
  const after = schedule.nextTick(newest.logicalMs, true);
  const nextDueMs = after === null ? null : schedule.slotAt(after).dueMs;
  const onTime = policy === "latest" || newest.dueMs >= nowMs - graceMs;
  return {
    due: onTime ? [newest] : [],
    skipped: skippedBefore + (onTime ? 0 : 1),
    lastLogicalMs: newest.logicalMs,
    nextDueMs,
  };
}

function startOf(spec: ScheduleSpec): number | null {
  return spec.kind === "once" ? spec.atMs : spec.startMs;
}

/** The newest slot with `dueMs ≤ nowMs`, given that the slot of `first` is due. */
function newestDueSlot(schedule: CompiledSchedule, first: number, nowMs: number): ScheduledSlot {
  const boundary = schedule.previousTick(nowMs);
  if (boundary === null) return schedule.slotAt(first);
  // Usually the newest tick ≤ now closes the newest due interval; when the end bound clipped it, it is itself due.
  const boundarySlot = schedule.slotAt(boundary);
  const candidate = boundarySlot.dueMs <= nowMs ? boundary : schedule.previousTick(boundary, true);
  return candidate !== null && candidate >= first ? schedule.slotAt(candidate) : schedule.slotAt(first);
}

/** Ticks in `[from, to)`: exact for intervals, counted up to 1000 for cron (informational only). */
function countTicks(schedule: CompiledSchedule, from: number, to: number): number {
  if (to <= from) return 0;
  const { spec } = schedule;
  if (spec.kind === "interval") return Math.round((to - from) / spec.everyMs);
  let count = 0;
  let tick: number | null = from;
  while (tick !== null && tick < to && count < 1000) {
    count++;
    tick = schedule.nextTick(tick, true);
  }
  return count;
}

/**
 * The logical dates a backfill of `[startMs, endMs]` (both inclusive) creates: every tick of the
 * schedule in the range, oldest first, whatever the trigger's own start and end dates.
 *
 * @throws UserError `backfill_too_large` beyond `limit` (default 10,000) dates, `invalid_range` when
 *   start is after end, `invalid_schedule` for an `@once` trigger.
 */
export function backfillDates(spec: ScheduleSpec, startMs: number, endMs: number, limit = 10_000): ScheduledSlot[] {
  if (startMs > endMs) throw new UserError("invalid_range", `backfill start ${new Date(startMs).toISOString()} is after its end ${new Date(endMs).toISOString()}`);
  if (spec.kind === "once") throw new UserError("invalid_schedule", "an @once trigger has a single run: backfill a cron or interval trigger");
  const unbounded = compileSchedule({ ...spec, startMs: spec.kind === "interval" ? (spec.startMs ?? 0) : null, endMs: null });
  const slots: ScheduledSlot[] = [];
  let tick = unbounded.nextTick(startMs);
  while (tick !== null && tick <= endMs) {
    if (slots.length >= limit) throw new UserError("backfill_too_large", `the range holds more than ${limit} runs; split it`);
    slots.push(unbounded.slotAt(tick));
    tick = unbounded.nextTick(tick, true);
  }
  return slots;
}

/** The next `count` slots due after `afterMs` (for "next 5 runs" on the triggers page). */
export function upcomingSlots(schedule: CompiledSchedule, afterMs: number, count: number): ScheduledSlot[] {
  const slots: ScheduledSlot[] = [];
  let tick = schedule.previousTick(afterMs);
  if (tick === null) tick = schedule.nextTick(afterMs);
  while (tick !== null && slots.length < count) {
    const slot = schedule.slotAt(tick);
    if (slot.dueMs > afterMs) slots.push(slot);
    tick = schedule.nextTick(tick, true);
  }
  return slots;
}
