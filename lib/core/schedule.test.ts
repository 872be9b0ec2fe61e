import { backfillDates, compileSchedule, dueLogicalDates, upcomingSlots, type ScheduleSpec } from "./schedule";

const ms = (iso: string): number => Date.parse(iso);
const iso = (value: number | null): string | null => (value === null ? null : new Date(value).toISOString());
const cron = (expr: string, timezone = "UTC", start: string | null = null, end: string | null = null): ScheduleSpec => ({
  kind: "cron",
  cron: expr,
  timezone,
  startMs: start === null ? null : ms(start),
  endMs: end === null ? null : ms(end),
});

function nextTicks(spec: ScheduleSpec, from: string, count: number): string[] {
  const schedule = compileSchedule(spec);
  const out: string[] = [];
  let tick = schedule.nextTick(ms(from), true);
  while (tick !== null && out.length < count) {
    out.push(new Date(tick).toISOString());
    tick = schedule.nextTick(tick, true);
  }
  return out;
}

describe("cron ticks in time zones", () => {
  it("reads the fields in the trigger's zone (New York, London, Kolkata)", () => {
    expect(nextTicks(cron("0 9 * * *", "America/New_York"), "2024-01-10T00:00:00Z", 2)).toEqual(["2024-01-10T14:00:00.000Z", "2024-01-11T14:00:00.000Z"]);
    expect(nextTicks(cron("0 9 * * *", "Europe/London"), "2024-07-10T00:00:00Z", 1)).toEqual(["2024-07-10T08:00:00.000Z"]);
    expect(nextTicks(cron("0 9 * * *", "Europe/London"), "2024-01-10T00:00:00Z", 1)).toEqual(["2024-01-10T09:00:00.000Z"]);
    // +05:30, no DST.
    expect(nextTicks(cron("0 0 * * *", "Asia/Kolkata"), "2024-03-30T00:00:00Z", 3)).toEqual([
      "2024-03-30T18:30:00.000Z",
      "2024-03-31T18:30:00.000Z",
      "2024-04-01T18:30:00.000Z",
    ]);
  });

  it("DST gap: 02:30 on the New York spring-forward day fires at 03:00 EDT, once", () => {
    expect(nextTicks(cron("30 2 * * *", "America/New_York"), "2024-03-09T12:00:00Z", 3)).toEqual([
      "2024-03-10T07:00:00.000Z", // 03:00 EDT: 02:30 does not exist
      "2024-03-11T06:30:00.000Z",
      "2024-03-12T06:30:00.000Z",
    ]);
    // London springs forward at 01:00 → 02:00 on 31 March 2024.
    expect(nextTicks(cron("30 1 * * *", "Europe/London"), "2024-03-30T12:00:00Z", 2)).toEqual(["2024-03-31T01:00:00.000Z", "2024-04-01T00:30:00.000Z"]);
  });

  it("DST overlap: 01:30 on the fall-back day fires once (first occurrence); @hourly fires every real hour", () => {
    expect(nextTicks(cron("30 1 * * *", "America/New_York"), "2024-11-02T12:00:00Z", 2)).toEqual(["2024-11-03T05:30:00.000Z", "2024-11-04T06:30:00.000Z"]);
    expect(nextTicks(cron("0 * * * *", "America/New_York"), "2024-11-03T04:30:00Z", 4)).toEqual([
      "2024-11-03T05:00:00.000Z", // 01:00 EDT
      "2024-11-03T06:00:00.000Z", // 01:00 EST
      "2024-11-03T07:00:00.000Z",
      "2024-11-03T08:00:00.000Z",
    ]);
  });

  it("presets expand to cron in the zone; data intervals span DST days correctly", () => {
    const daily = compileSchedule(cron("0 0 * * *", "Europe/London"));
    const slot = daily.slotAt(ms("2024-03-31T00:00:00Z"));
    // The day of the spring-forward change (31 March 2024, 01:00 GMT → 02:00 BST) is 23 hours long.
    expect(slot.interval.endMs - slot.interval.startMs).toBe(23 * 3_600_000);
    expect(iso(slot.dueMs)).toBe("2024-03-31T23:00:00.000Z");
    expect(nextTicks(cron("0 0 * * 0"), "2024-05-01T00:00:00Z", 2)).toEqual(["2024-05-05T00:00:00.000Z", "2024-05-12T00:00:00.000Z"]);
    expect(nextTicks(cron("0 0 1 * *"), "2024-01-15T00:00:00Z", 2)).toEqual(["2024-02-01T00:00:00.000Z", "2024-03-01T00:00:00.000Z"]);
  });

  it("respects start and end dates (inclusive) and finds previous ticks", () => {
    const spec = cron("0 * * * *", "UTC", "2024-01-01T05:00:00Z", "2024-01-01T07:00:00Z");
    const s = compileSchedule(spec);
    expect(iso(s.nextTick(ms("2023-12-31T00:00:00Z")))).toBe("2024-01-01T05:00:00.000Z");
    expect(iso(s.nextTick(ms("2024-01-01T07:00:00Z")))).toBe("2024-01-01T07:00:00.000Z");
    expect(s.nextTick(ms("2024-01-01T07:00:00Z"), true)).toBeNull();
    expect(iso(s.previousTick(ms("2024-01-01T06:30:00Z")))).toBe("2024-01-01T06:00:00.000Z");
    expect(iso(s.previousTick(ms("2024-01-01T06:00:00Z"), true))).toBe("2024-01-01T05:00:00.000Z");
    expect(iso(s.previousTick(ms("2025-01-01T00:00:00Z")))).toBe("2024-01-01T07:00:00.000Z");
    expect(s.previousTick(ms("2024-01-01T04:59:00Z"))).toBeNull();
  });

  it("rejects bad cron and time zones with user errors", () => {
    expect(() => compileSchedule(cron("61 * * * *"))).toThrow(/invalid cron/);
    expect(() => compileSchedule(cron("0 * * * *", "Mars/Olympus"))).toThrow(/unknown time zone/);
  });
});

describe("intervals", () => {
  it("ticks every N from start_date (or the epoch)", () => {
    expect(nextTicks({ kind: "interval", everyMs: 15 * 60_000, startMs: null, endMs: null }, "2024-01-01T00:07:00Z", 3)).toEqual([
      "2024-01-01T00:15:00.000Z",
      "2024-01-01T00:30:00.000Z",
      "2024-01-01T00:45:00.000Z",
    ]);
    const anchored = compileSchedule({ kind: "interval", everyMs: 3_600_000, startMs: ms("2024-01-01T00:20:00Z"), endMs: null });
    expect(iso(anchored.nextTick(ms("2023-01-01T00:00:00Z")))).toBe("2024-01-01T00:20:00.000Z");
    expect(iso(anchored.nextTick(ms("2024-01-01T02:00:00Z")))).toBe("2024-01-01T02:20:00.000Z");
    expect(iso(anchored.previousTick(ms("2024-01-01T02:20:00Z"), true))).toBe("2024-01-01T01:20:00.000Z");
    expect(anchored.previousTick(ms("2024-01-01T00:10:00Z"))).toBeNull();
    expect(anchored.slotAt(ms("2024-01-01T00:20:00Z"))).toEqual({
      logicalMs: ms("2024-01-01T00:20:00Z"),
      interval: { startMs: ms("2024-01-01T00:20:00Z"), endMs: ms("2024-01-01T01:20:00Z") },
      dueMs: ms("2024-01-01T01:20:00Z"),
    });
  });
});

describe("dueLogicalDates (Airflow: logical date = interval start, due at interval end)", () => {
  const hourly = compileSchedule(cron("0 * * * *", "UTC", "2024-01-01T00:00:00Z"));
  const at = (value: string) => ms(value);

  it("nothing is due before the first interval ends", () => {
    const result = dueLogicalDates(hourly, null, at("2024-01-01T00:59:59Z"), "all");
    expect(result.due).toEqual([]);
    expect(iso(result.nextDueMs)).toBe("2024-01-01T01:00:00.000Z");
    expect(result.lastLogicalMs).toBeNull();
  });

  it("the first run at 01:00 has logical date 00:00 and interval [00:00, 01:00)", () => {
    const result = dueLogicalDates(hourly, null, at("2024-01-01T01:00:00Z"), "all");
    expect(result.due.map((s) => [iso(s.logicalMs), iso(s.interval.startMs), iso(s.interval.endMs)])).toEqual([
      ["2024-01-01T00:00:00.000Z", "2024-01-01T00:00:00.000Z", "2024-01-01T01:00:00.000Z"],
    ]);
    expect(iso(result.lastLogicalMs)).toBe("2024-01-01T00:00:00.000Z");
    expect(iso(result.nextDueMs)).toBe("2024-01-01T02:00:00.000Z");
  });

  it("after a 3-hour outage: all catches up, latest runs the newest, none runs nothing", () => {
    const last = at("2024-01-01T00:00:00Z"); // ran at 01:00, then the scheduler was down until 04:30
    const now = at("2024-01-01T04:30:00Z");
    const all = dueLogicalDates(hourly, last, now, "all");
    expect(all.due.map((s) => iso(s.logicalMs))).toEqual(["2024-01-01T01:00:00.000Z", "2024-01-01T02:00:00.000Z", "2024-01-01T03:00:00.000Z"]);
    expect(all.skipped).toBe(0);
    const latest = dueLogicalDates(hourly, last, now, "latest");
    expect(latest.due.map((s) => iso(s.logicalMs))).toEqual(["2024-01-01T03:00:00.000Z"]);
    expect(latest.skipped).toBe(2);
    expect(iso(latest.lastLogicalMs)).toBe("2024-01-01T03:00:00.000Z");
    const none = dueLogicalDates(hourly, last, now, "none");
    expect(none.due).toEqual([]);
    expect(none.skipped).toBe(3);
    expect(iso(none.lastLogicalMs)).toBe("2024-01-01T03:00:00.000Z");
    expect(iso(none.nextDueMs)).toBe("2024-01-01T05:00:00.000Z");
  });

  it("none still runs a slot that became due within the grace period", () => {
    const last = at("2024-01-01T00:00:00Z");
    expect(dueLogicalDates(hourly, last, at("2024-01-01T02:00:30Z"), "none").due.map((s) => iso(s.logicalMs))).toEqual(["2024-01-01T01:00:00.000Z"]);
    expect(dueLogicalDates(hourly, last, at("2024-01-01T02:00:30Z"), "none", { graceMs: 10_000 }).due).toEqual([]);
  });

  it("all is capped per call and resumes where it stopped", () => {
    const first = dueLogicalDates(hourly, null, at("2024-01-02T00:00:00Z"), "all", { limit: 10 });
    expect(first.due).toHaveLength(10);
    const rest = dueLogicalDates(hourly, first.lastLogicalMs, at("2024-01-02T00:00:00Z"), "all", { limit: 100 });
    expect(rest.due).toHaveLength(14);
    expect(iso(rest.due[13].logicalMs)).toBe("2024-01-01T23:00:00.000Z");
  });

  it("without a start date, the interval in progress when the trigger was first seen is the first one", () => {
    const daily = compileSchedule(cron("0 0 * * *", "America/New_York"));
    const seen = at("2024-06-10T19:00:00Z"); // 15:00 EDT
    expect(dueLogicalDates(daily, null, at("2024-06-10T23:00:00Z"), "all", { firstSeenMs: seen }).due).toEqual([]);
    const result = dueLogicalDates(daily, null, at("2024-06-11T04:00:00Z"), "all", { firstSeenMs: seen });
    expect(result.due.map((s) => [iso(s.logicalMs), iso(s.dueMs)])).toEqual([["2024-06-10T04:00:00.000Z", "2024-06-11T04:00:00.000Z"]]);
  });

  it("stops at the end date", () => {
    const bounded = compileSchedule(cron("0 * * * *", "UTC", "2024-01-01T00:00:00Z", "2024-01-01T02:00:00Z"));
    const result = dueLogicalDates(bounded, null, at("2024-01-02T00:00:00Z"), "all");
    expect(result.due.map((s) => iso(s.logicalMs))).toEqual(["2024-01-01T00:00:00.000Z", "2024-01-01T01:00:00.000Z", "2024-01-01T02:00:00.000Z"]);
    expect(result.nextDueMs).toBeNull();
    expect(dueLogicalDates(bounded, ms("2024-01-01T02:00:00Z"), at("2024-01-03T00:00:00Z"), "all")).toMatchObject({ due: [], nextDueMs: null });
    const latest = dueLogicalDates(bounded, null, at("2024-01-02T00:00:00Z"), "latest");
    expect(latest.due.map((s) => iso(s.logicalMs))).toEqual(["2024-01-01T02:00:00.000Z"]);
  });

  it("@once fires once at its start date", () => {
    const once = compileSchedule({ kind: "once", atMs: at("2024-05-01T12:00:00Z") });
    expect(dueLogicalDates(once, null, at("2024-05-01T11:59:59Z"), "all")).toMatchObject({ due: [], nextDueMs: at("2024-05-01T12:00:00Z") });
    const fired = dueLogicalDates(once, null, at("2024-05-01T12:00:00.300Z"), "none");
    expect(fired.due.map((s) => [iso(s.logicalMs), iso(s.interval.endMs)])).toEqual([["2024-05-01T12:00:00.000Z", "2024-05-01T12:00:00.000Z"]]);
    expect(dueLogicalDates(once, fired.lastLogicalMs, at("2024-06-01T00:00:00Z"), "all")).toMatchObject({ due: [], nextDueMs: null });
  });

  it("DST: a daily New York trigger catches up over the spring-forward night with a 23-hour interval", () => {
    const daily = compileSchedule(cron("0 0 * * *", "America/New_York", "2024-03-09T05:00:00Z"));
    const result = dueLogicalDates(daily, null, at("2024-03-11T12:00:00Z"), "all");
    expect(result.due.map((s) => [iso(s.logicalMs), (s.interval.endMs - s.interval.startMs) / 3_600_000])).toEqual([
      ["2024-03-09T05:00:00.000Z", 24],
      ["2024-03-10T05:00:00.000Z", 23],
    ]);
  });

  it("15m intervals with latest after a long outage", () => {
    const every = compileSchedule({ kind: "interval", everyMs: 15 * 60_000, startMs: null, endMs: null });
    const result = dueLogicalDates(every, at("2024-01-01T00:00:00Z"), at("2024-01-01T10:07:00Z"), "latest");
    expect(result.due.map((s) => iso(s.logicalMs))).toEqual(["2024-01-01T09:45:00.000Z"]);
    expect(result.skipped).toBe(38); // 00:15 … 09:30
    expect(iso(result.nextDueMs)).toBe("2024-01-01T10:15:00.000Z");
  });
});

describe("backfillDates", () => {
  it("lists every logical date of a range, both ends inclusive, ignoring the trigger's own bounds", () => {
    const slots = backfillDates(cron("0 0 * * *", "Europe/London", "2025-01-01T00:00:00Z"), ms("2024-03-29T00:00:00Z"), ms("2024-04-01T00:00:00Z"));
    expect(slots.map((s) => iso(s.logicalMs))).toEqual([
      "2024-03-29T00:00:00.000Z",
      "2024-03-30T00:00:00.000Z",
      "2024-03-31T00:00:00.000Z", // still GMT at midnight
      "2024-03-31T23:00:00.000Z", // 1 April 00:00 BST
    ]);
    expect(iso(slots[2].interval.endMs)).toBe("2024-03-31T23:00:00.000Z");
  });

  it("works for intervals and refuses bad ranges, huge ranges and @once", () => {
    const every = { kind: "interval" as const, everyMs: 6 * 3_600_000, startMs: null, endMs: null };
    expect(backfillDates(every, ms("2024-01-01T01:00:00Z"), ms("2024-01-02T00:00:00Z")).map((s) => iso(s.logicalMs))).toEqual([
      "2024-01-01T06:00:00.000Z",
      "2024-01-01T12:00:00.000Z",
      "2024-01-01T18:00:00.000Z",
      "2024-01-02T00:00:00.000Z",
    ]);
    expect(() => backfillDates(every, ms("2024-01-02T00:00:00Z"), ms("2024-01-01T00:00:00Z"))).toThrow(/after its end/);
    expect(() => backfillDates(every, ms("2000-01-01T00:00:00Z"), ms("2024-01-01T00:00:00Z"), 100)).toThrow(/more than 100/);
    expect(() => backfillDates({ kind: "once", atMs: 0 }, 0, 1)).toThrow(/@once/);
  });
});

describe("upcomingSlots", () => {
  it("gives the next due times with their logical dates", () => {
    const slots = upcomingSlots(compileSchedule(cron("0 */6 * * *")), ms("2024-01-01T07:00:00Z"), 3);
    expect(slots.map((s) => [iso(s.logicalMs), iso(s.dueMs)])).toEqual([
      ["2024-01-01T06:00:00.000Z", "2024-01-01T12:00:00.000Z"],
      ["2024-01-01T12:00:00.000Z", "2024-01-01T18:00:00.000Z"],
      ["2024-01-01T18:00:00.000Z", "2024-01-02T00:00:00.000Z"],
    ]);
  });
});
