import type { MetadataStore } from "../store/metadata/run-store";
import { SqliteRunStore } from "../store/metadata/sqlite-run-store";
import { recoverOrphanedRuns } from "./recovery";
import { cleanOldRuns } from "./retention";

const base = { pipeline: "etl", trigger: "manual" as const, logicalDate: "2024-01-01T00:00:00.000Z", variables: {}, mode: "pipeline" as const };

describe("recoverOrphanedRuns", () => {
  let store: MetadataStore;
  beforeEach(async () => (store = await SqliteRunStore.open(":memory:")));
  afterEach(() => store.close());

  it("fails runs left running or queued, ending their unfinished block runs through the transition rules", async () => {
    const running = await store.createRun({ ...base, blocks: ["a", "b", "c", "d", "e"] });
    await store.updateRunState(running.id, "running", { at: "2024-01-01T00:00:01.000Z" });
    await store.updateBlockRun(running.id, "a", { state: "success" });
    await store.updateBlockRun(running.id, "b", { state: "running", attempt: 1 });
    await store.updateBlockRun(running.id, "c", { state: "queued" });
    await store.updateBlockRun(running.id, "d", { state: "up_for_retry", attempt: 1 });
    const queued = await store.createRun({ ...base, blocks: ["a"] });
    const done = await store.createRun({ ...base, blocks: ["a"] });
    await store.updateRunState(done.id, "success", { at: "2024-01-01T00:00:01.000Z" });
    const live = await store.createRun({ ...base, blocks: ["a"] });
    await store.updateRunState(live.id, "running", { at: "2024-01-01T00:00:01.000Z" });

    const recovered = await recoverOrphanedRuns(store, new Date("2024-01-02T00:00:00Z"), { isLive: (id) => id === live.id });
    expect(recovered.map((r) => r.runId).sort()).toEqual([running.id, queued.id].sort());
    const after = await store.getRun(running.id);
    expect(after?.run).toMatchObject({ state: "failed", endedAt: "2024-01-02T00:00:00.000Z" });
    expect(after?.run.error).toContain("orphaned");
    expect(after?.blockRuns.map((b) => [b.block, b.state])).toEqual([
      ["a", "success"],
      ["b", "failed"],
      ["c", "failed"],
      ["d", "cancelled"],
      ["e", "cancelled"],
    ]);
    expect(after?.blockRuns[1].error).toMatchObject({ code: "orphaned" });
    expect((await store.getRun(queued.id))?.run.state).toBe("failed");
    expect((await store.getRun(live.id))?.run.state).toBe("running");
    expect(await store.findRunsInState(["queued", "running"])).toHaveLength(1);
  });

  it("spares runs created after the cut-off", async () => {
    const run = await store.createRun({ ...base, blocks: ["a"], createdAt: "2024-01-03T00:00:00.000Z" });
    expect(await recoverOrphanedRuns(store, new Date("2024-01-03T00:00:01Z"), { createdBefore: "2024-01-02T00:00:00.000Z" })).toEqual([]);
    expect((await store.getRun(run.id))?.run.state).toBe("queued");
  });
});

describe("cleanOldRuns", () => {
  it("deletes outputs and logs of old finished runs, unlinks their outputs, keeps recent records", async () => {
    const store = await SqliteRunStore.open(":memory:");
    try {
      const deletedOutputs: string[] = [];
      const deletedLogs: string[] = [];
      const old = await store.createRun({ ...base, blocks: ["a"], createdAt: "2024-02-15T00:00:00.000Z" });
      await store.updateBlockRun(old.id, "a", {
        state: "success",
        output: { ref: { runId: old.id, block: "a", format: "arrow", path: "/x" }, summary: { rows: 1, bytes: 1, columns: [] } },
      });
      await store.updateRunState(old.id, "success", { at: "2024-01-01T00:00:01.000Z" });
      const oldActive = await store.createRun({ ...base, blocks: ["a"], createdAt: "2024-02-15T00:00:00.000Z" });
      const veryOld = await store.createRun({ ...base, blocks: ["a"], createdAt: "2023-01-01T00:00:00.000Z" });
      await store.updateRunState(veryOld.id, "failed", { at: "2023-01-01T00:00:01.000Z" });
      const recent = await store.createRun({ ...base, blocks: ["a"], createdAt: "2024-03-30T00:00:00.000Z" });
      await store.updateRunState(recent.id, "success", { at: "2024-03-30T00:00:01.000Z" });

      const deps = {
        runs: store,
        outputs: { deleteRun: async (id: string) => void deletedOutputs.push(id) },
        logs: { deleteRun: async (id: string) => void deletedLogs.push(id) },
      };
      const report = await cleanOldRuns(deps, { olderThan: 30 * 86_400_000, deleteRecordsOlderThan: 86_400_000, now: new Date("2024-04-01T00:00:00Z") });
      expect(report).toEqual({ filesDeleted: 2, recordsDeleted: 1 });
      expect(deletedOutputs.sort()).toEqual([old.id, veryOld.id].sort());
      expect(deletedLogs.sort()).toEqual([old.id, veryOld.id].sort());
      expect((await store.getRun(old.id))?.blockRuns[0]).toMatchObject({ state: "success", output: null });
      expect(await store.latestSuccessfulOutput("etl", "a")).toBeNull();
      expect(await store.getRun(veryOld.id)).toBeNull(); // older than the 90-day floor
      expect(await store.getRun(oldActive.id)).not.toBeNull();
      expect(await store.getRun(recent.id)).not.toBeNull();
    } finally {
      await store.close();
    }
  });
});
