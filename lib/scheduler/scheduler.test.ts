import { OperationalError, UserError } from "../core/errors";
import type { ScheduleSpec } from "../core/schedule";
import type { MetadataStore } from "../store/metadata/run-store";
import { SqliteRunStore } from "../store/metadata/sqlite-run-store";
import { Scheduler, type SchedulerOptions } from "./scheduler";
import { StaticTriggerSource } from "./static-trigger-source";
import { recordingStartRun, scheduleTrigger } from "./test-helpers";

const ms = (iso: string) => Date.parse(iso);
const HOURLY: ScheduleSpec = { kind: "cron", cron: "0 * * * *", timezone: "UTC", startMs: ms("2024-01-01T00:00:00Z"), endMs: null };

describe("Scheduler.tick (injected clock, real SQLite store)", () => {
  let store: MetadataStore;
  let clock: number;
  beforeEach(async () => {
    store = await SqliteRunStore.open(":memory:");
    clock = ms("2024-01-01T00:30:00Z");
  });
  afterEach(() => store.close());

  function make(source: StaticTriggerSource, extra: Partial<SchedulerOptions> = {}) {
    const recorder = recordingStartRun(store);
    const errors: unknown[] = [];
    const scheduler = new Scheduler({
      store: store.triggers,
      source,
      startRun: recorder.startRun,
      now: () => clock,
      onError: (error) => errors.push(error),
      ...extra,
    });
    return { scheduler, requests: recorder.requests, errors };
  }

  it("starts one run per slot when it is due, with the logical date and data interval, and never twice", async () => {
    const source = new StaticTriggerSource({ etl: [scheduleTrigger("hourly", HOURLY, { variables: { v: 1 } })] });
    const { scheduler, requests } = make(source);
    let report = await scheduler.tick();
    expect(report).toMatchObject({ evaluated: 1, started: [], nextDueMs: ms("2024-01-01T01:00:00Z") });
    clock = ms("2024-01-01T01:00:00.200Z");
    report = await scheduler.tick();
    expect(report.started).toHaveLength(1);
    expect(requests).toEqual([
      {
        pipeline: "etl",
        trigger: "schedule",
        triggerId: "hourly",
        logicalDate: "2024-01-01T00:00:00.000Z",
        dataInterval: { start: "2024-01-01T00:00:00.000Z", end: "2024-01-01T01:00:00.000Z" },
        variables: { v: 1 },
      },
    ]);
    await scheduler.tick();
    clock = ms("2024-01-01T01:59:59Z");
    await scheduler.tick();
    expect(requests).toHaveLength(1);
    clock = ms("2024-01-01T02:00:00Z");
    await scheduler.tick();
    expect(requests.map((r) => r.logicalDate)).toEqual(["2024-01-01T00:00:00.000Z", "2024-01-01T01:00:00.000Z"]);
    const runs = await store.listRuns({ pipeline: "etl" });
    expect(runs.map((r) => [r.trigger, r.triggerId, r.logicalDate])).toEqual([
      ["schedule", "hourly", "2024-01-01T01:00:00.000Z"],
      ["schedule", "hourly", "2024-01-01T00:00:00.000Z"],
    ]);
    expect((await store.triggers.listScheduledRuns("etl", "hourly")).map((c) => c.status)).toEqual(["started", "started"]);
    expect(scheduler.upcoming("etl", "hourly", 2).map((s) => new Date(s.dueMs).toISOString())).toEqual(["2024-01-01T03:00:00.000Z", "2024-01-01T04:00:00.000Z"]);
  });

  it("applies missed-run policies after downtime", async () => {
    const source = new StaticTriggerSource({
      etl: [
        scheduleTrigger("all", HOURLY, { missedRunPolicy: "all" }),
        scheduleTrigger("latest", HOURLY, { missedRunPolicy: "latest" }),
        scheduleTrigger("none", HOURLY, { missedRunPolicy: "none" }),
      ],
    });
    clock = ms("2024-01-01T04:30:00Z");
    const { scheduler, requests } = make(source);
    await scheduler.tick();
    const by = (id: string) => requests.filter((r) => r.triggerId === id).map((r) => r.logicalDate.slice(11, 16));
    expect(by("all")).toEqual(["00:00", "01:00", "02:00", "03:00"]);
    expect(by("latest")).toEqual(["03:00"]);
    expect(by("none")).toEqual([]);
    clock = ms("2024-01-01T05:00:01Z");
    await scheduler.tick();
    expect(by("none")).toEqual(["04:00"]);
    expect(by("latest")).toEqual(["03:00", "04:00"]);
  });

  it("max_active_runs: skip drops the slot, wait starts it once a run ends", async () => {
    const source = new StaticTriggerSource({
      etl: [
        scheduleTrigger("skipper", HOURLY, { maxActiveRuns: 1, onMaxActive: "skip" }),
        scheduleTrigger("waiter", HOURLY, { maxActiveRuns: 1, onMaxActive: "wait" }),
      ],
    });
    clock = ms("2024-01-01T02:00:00Z");
    const { scheduler, requests } = make(source);
    await scheduler.tick();
    const by = (id: string) => requests.filter((r) => r.triggerId === id).map((r) => r.logicalDate.slice(11, 16));
    expect(by("skipper")).toEqual(["00:00"]);
    expect(by("waiter")).toEqual(["00:00"]);
    expect((await store.triggers.listScheduledRuns("etl", "skipper")).map((c) => [c.logicalDate.slice(11, 16), c.status])).toEqual([
      ["01:00", "skipped"],
      ["00:00", "started"],
    ]);
    clock += 1500;
    await scheduler.tick();
    expect(by("waiter")).toEqual(["00:00"]);
    const waiting = (await store.triggers.listActiveRuns("etl", "waiter"))[0];
    await store.updateRunState(waiting.id, "success", { at: new Date(clock).toISOString() });
    clock += 1500;
    await scheduler.tick();
    expect(by("waiter")).toEqual(["00:00", "01:00"]);
    expect(by("skipper")).toEqual(["00:00"]);
  });

  it("records a broken pipeline on the claim and moves on; retries an operational failure", async () => {
    const source = new StaticTriggerSource({ etl: [scheduleTrigger("hourly", HOURLY)] });
    let failure: Error | null = new UserError("invalid_value", "pipeline.yaml:3:1: bad");
    const recorder = recordingStartRun(store);
    const errors: unknown[] = [];
    const scheduler = new Scheduler({
      store: store.triggers,
      source,
      now: () => clock,
      onError: (e) => errors.push(e),
      startRun: async (request) => {
        if (failure) throw failure;
        return recorder.startRun(request);
      },
    });
    clock = ms("2024-01-01T01:00:00Z");
    await scheduler.tick();
    expect(await store.triggers.listScheduledRuns("etl", "hourly")).toMatchObject([{ status: "failed", error: "pipeline.yaml:3:1: bad" }]);
    failure = new OperationalError("db_down", "connection refused");
    clock = ms("2024-01-01T02:00:00Z");
    await scheduler.tick();
    expect(await store.triggers.listScheduledRuns("etl", "hourly")).toHaveLength(1); // released, not recorded
    failure = null;
    clock += 6000;
    await scheduler.tick();
    expect(recorder.requests.map((r) => r.logicalDate)).toEqual(["2024-01-01T01:00:00.000Z"]);
    expect(errors).toHaveLength(2);
  });

  it("forgets a trigger removed from the file but keeps its history; a disabled trigger does not fire", async () => {
    const source = new StaticTriggerSource({ etl: [scheduleTrigger("hourly", HOURLY), scheduleTrigger("off", HOURLY, { enabled: false })] });
    clock = ms("2024-01-01T01:00:00Z");
    const { scheduler, requests } = make(source);
    await scheduler.tick();
    expect(requests.map((r) => r.triggerId)).toEqual(["hourly"]);
    source.set("etl", []);
    await scheduler.tick();
    expect(await store.triggers.listTriggerStates()).toEqual([]);
    expect(await store.triggers.listScheduledRuns("etl", "hourly")).toHaveLength(1);
    expect(await store.listRuns()).toHaveLength(1);
  });

  it("cancels runs past their run_timeout", async () => {
    const cancelled: string[] = [];
    const source = new StaticTriggerSource({ etl: [scheduleTrigger("hourly", HOURLY, { runTimeoutMs: 10 * 60_000 })] });
    clock = ms("2024-01-01T01:00:00Z");
    const { scheduler } = make(source, { cancelRun: (id) => void cancelled.push(id) });
    const { started } = await scheduler.tick();
    await store.updateRunState(started[0].runId, "running", { at: new Date(clock).toISOString() });
    clock += 5 * 60_000;
    await scheduler.tick();
    expect(cancelled).toEqual([]);
    clock += 6 * 60_000;
    await scheduler.tick();
    expect(cancelled).toEqual([started[0].runId]);
  });

  it("re-starts a slot whose claim was left by a scheduler that died before starting it", async () => {
    const source = new StaticTriggerSource({ etl: [scheduleTrigger("hourly", HOURLY)] });
    await store.triggers.claimScheduledRun({ pipeline: "etl", triggerId: "hourly", logicalDate: "2024-01-01T00:00:00.000Z", at: "2024-01-01T01:00:00.000Z" });
    clock = ms("2024-01-01T01:00:30Z");
    const { scheduler, requests } = make(source);
    await scheduler.tick();
    expect(requests).toEqual([]); // claimed by the dead one
    clock = ms("2024-01-01T01:07:00Z");
    await scheduler.tick();
    expect(requests.map((r) => r.logicalDate)).toEqual(["2024-01-01T00:00:00.000Z"]);
  });
});

describe("Scheduler.start (real clock)", () => {
  it("starts a due run less than a second late and stops cleanly", async () => {
    const store = await SqliteRunStore.open(":memory:");
    try {
      const recorder = recordingStartRun(store);
      const startedAt: number[] = [];
      const source = new StaticTriggerSource({ p: [scheduleTrigger("every_second", { kind: "interval", everyMs: 1000, startMs: null, endMs: null }, { missedRunPolicy: "none" })] });
      const scheduler = new Scheduler({
        store: store.triggers,
        source,
        startRun: async (request) => {
          startedAt.push(Date.now() - Date.parse(request.dataInterval.end));
          return recorder.startRun(request);
        },
      });
      scheduler.start();
      await new Promise((resolve) => setTimeout(resolve, 3300));
      await scheduler.stop();
      expect(startedAt.length).toBeGreaterThanOrEqual(2);
      for (const lateness of startedAt) expect(lateness).toBeLessThan(1000);
      const logical = recorder.requests.map((r) => r.logicalDate);
      expect(new Set(logical).size).toBe(logical.length);
    } finally {
      await store.close();
    }
  });
});
