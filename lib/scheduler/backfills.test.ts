import type { MetadataStore } from "../store/metadata/run-store";
import { SqliteRunStore } from "../store/metadata/sqlite-run-store";
import { Scheduler } from "./scheduler";
import { StaticTriggerSource } from "./static-trigger-source";
import { apiTrigger, recordingStartRun, scheduleTrigger } from "./test-helpers";

const ms = (iso: string) => Date.parse(iso);

describe("backfills", () => {
  let store: MetadataStore;
  let clock: number;
  let scheduler: Scheduler;
  let requests: ReturnType<typeof recordingStartRun>["requests"];
  const cancelled: string[] = [];

  beforeEach(async () => {
    store = await SqliteRunStore.open(":memory:");
    clock = ms("2024-06-01T12:00:00Z");
    const recorder = recordingStartRun(store);
    requests = recorder.requests;
    cancelled.length = 0;
    const source = new StaticTriggerSource({
      etl: [
        // The trigger itself is disabled: backfills still run.
        scheduleTrigger("daily", { kind: "cron", cron: "0 0 * * *", timezone: "UTC", startMs: null, endMs: null }, { enabled: false, variables: { a: 1, b: 1 } }),
        apiTrigger("hook"),
      ],
    });
    scheduler = new Scheduler({ store: store.triggers, source, startRun: recorder.startRun, cancelRun: (id) => void cancelled.push(id), now: () => clock });
    await scheduler.tick(); // loads the triggers
  });
  afterEach(() => store.close());

  async function finish(state: "success" | "failed") {
    for (const run of await store.listRuns({ state: "queued" })) await store.updateRunState(run.id, state, { at: new Date(clock).toISOString() });
  }

  it("runs one run per logical date, at most `concurrency` at once, and reports progress until done", async () => {
    const backfill = await scheduler.backfills.create({ pipeline: "etl", triggerId: "daily", start: "2024-05-01T00:00:00Z", end: "2024-05-05T00:00:00Z", concurrency: 2, variables: { b: 2 } });
    expect(backfill).toMatchObject({ total: 5, state: "running", concurrency: 2 });
    await scheduler.tick();
    expect(requests.map((r) => [r.trigger, r.logicalDate.slice(0, 10), r.dataInterval.end.slice(0, 10)])).toEqual([
      ["backfill", "2024-05-01", "2024-05-02"],
      ["backfill", "2024-05-02", "2024-05-03"],
    ]);
    expect(requests[0].variables).toEqual({ a: 1, b: 2 });
    await scheduler.tick();
    expect(requests).toHaveLength(2);
    expect(await scheduler.backfills.progress(backfill.id)).toMatchObject({ total: 5, pending: 3, queued: 2, success: 0 });
    await finish("success");
    await scheduler.tick();
    expect(requests).toHaveLength(4);
    await finish("success");
    await scheduler.tick();
    await finish("failed");
    await scheduler.tick();
    expect(requests.map((r) => r.logicalDate.slice(0, 10))).toEqual(["2024-05-01", "2024-05-02", "2024-05-03", "2024-05-04", "2024-05-05"]);
    const progress = await scheduler.backfills.progress(backfill.id);
    expect(progress).toMatchObject({ total: 5, pending: 0, success: 4, failed: 1, backfill: { state: "failed" } });
  });

  it("cancels: no new runs, active ones cancelled", async () => {
    const backfill = await scheduler.backfills.create({ pipeline: "etl", triggerId: "daily", start: "2024-05-01T00:00:00Z", end: "2024-05-10T00:00:00Z", concurrency: 3 });
    await scheduler.tick();
    expect(await scheduler.backfills.cancel(backfill.id)).toBe(true);
    expect(cancelled).toHaveLength(3);
    expect(await scheduler.backfills.cancel(backfill.id)).toBe(false);
    await finish("success");
    await scheduler.tick();
    expect(requests).toHaveLength(3);
    expect((await scheduler.backfills.progress(backfill.id)).backfill.state).toBe("cancelled");
  });

  it("refuses unknown triggers, API triggers and reversed ranges", async () => {
    await expect(scheduler.backfills.create({ pipeline: "etl", triggerId: "nope", start: "2024-05-01T00:00:00Z", end: "2024-05-02T00:00:00Z" })).rejects.toMatchObject({ code: "trigger_not_found" });
    await expect(scheduler.backfills.create({ pipeline: "etl", triggerId: "hook", start: "2024-05-01T00:00:00Z", end: "2024-05-02T00:00:00Z" })).rejects.toMatchObject({ code: "invalid_schedule" });
    await expect(scheduler.backfills.create({ pipeline: "etl", triggerId: "daily", start: "2024-05-03T00:00:00Z", end: "2024-05-02T00:00:00Z" })).rejects.toMatchObject({ code: "invalid_range" });
    await expect(scheduler.backfills.progress("nope")).rejects.toMatchObject({ code: "backfill_not_found" });
  });
});
