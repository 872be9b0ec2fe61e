import type { MetadataStore } from "../store/metadata/run-store";
import { SqliteRunStore } from "../store/metadata/sqlite-run-store";
import { recoverOrphanedRuns } from "./recovery";
import { cleanOldRuns } from "./retention";

const base = { pipeline: "etl", trigger: "manual" as const, logicalDate: "2024-01-01T00:00:00.000Z", variables: {}, mode: "pipeline" as const };

const OWNER = { kind: "cli" as const, host: "box", processStartedAt: "2024-01-01T00:00:00.000Z" };
const T_START = "2024-01-01T00:00:01.000Z";
const LEASE_END = "2024-01-01T00:00:31.000Z";

describe("recoverOrphanedRuns", () => {
  let store: MetadataStore;
  beforeEach(async () => (store = await SqliteRunStore.open(":memory:")));
  afterEach(() => store.close());

  it("fails the runs of an owner whose lease expired, ending unfinished block runs through the transition rules", async () => {
    await store.registerOwner({ ...OWNER, id: "dead", pid: 11 }, { at: T_START, leaseExpiresAt: LEASE_END });
    await store.registerOwner({ ...OWNER, id: "live", pid: 12 }, { at: T_START, leaseExpiresAt: "2024-01-03T00:00:00.000Z" });
    const running = await store.createRun({ ...base, blocks: ["a", "b", "c", "d", "e"], ownerId: "dead" });
    await store.updateRunState(running.id, "running", { at: T_START });
    await store.updateBlockRun(running.id, "a", { state: "success" });
    await store.updateBlockRun(running.id, "b", { state: "running", attempt: 1 });
    await store.updateBlockRun(running.id, "c", { state: "queued" });
    await store.updateBlockRun(running.id, "d", { state: "up_for_retry", attempt: 1 });
    const queued = await store.createRun({ ...base, blocks: ["a"], ownerId: "dead" });
    const done = await store.createRun({ ...base, blocks: ["a"], ownerId: "dead" });
    await store.updateRunState(done.id, "success", { at: T_START });
    const live = await store.createRun({ ...base, blocks: ["a"], ownerId: "live" });
    await store.updateRunState(live.id, "running", { at: T_START });
    await store.updateBlockRun(live.id, "a", { state: "running", attempt: 1 });

    // Within the lease, the dead owner is indistinguishable from a slow one: nothing is touched.
    expect(await recoverOrphanedRuns(store, new Date("2024-01-01T00:00:30Z"))).toEqual([]);

    const recovered = await recoverOrphanedRuns(store, new Date("2024-01-02T00:00:00Z"));
    expect(recovered.map((r) => r.runId).sort()).toEqual([running.id, queued.id].sort());
    const after = await store.getRun(running.id);
    expect(after?.run).toMatchObject({ state: "failed", endedAt: "2024-01-02T00:00:00.000Z" });
    expect(after?.run.error).toBe(`orphaned: owner box:11 (cli) stopped heartbeating at ${T_START}; its lease expired at ${LEASE_END}`);
    expect(after?.blockRuns.map((b) => [b.block, b.state])).toEqual([
      ["a", "success"],
      ["b", "failed"],
      ["c", "failed"],
      ["d", "cancelled"],
      ["e", "cancelled"],
    ]);
    expect(after?.blockRuns[1].error).toMatchObject({ code: "owner_lost", message: expect.stringContaining("box:11") });
    expect((await store.getRun(queued.id))?.run.state).toBe("failed");
    const stillLive = await store.getRun(live.id);
    expect(stillLive?.run).toMatchObject({ state: "running", error: null });
    expect(stillLive?.blockRuns[0].state).toBe("running");
    // The dead owner is forgotten once its runs are ended; the live one keeps its lease.
    expect(await store.renewOwnerLease("dead", { at: T_START, leaseExpiresAt: LEASE_END })).toBe(false);
    expect(await store.renewOwnerLease("live", { at: T_START, leaseExpiresAt: "2024-01-03T00:00:00.000Z" })).toBe(true);
  });

  it("cancels instead of failing a dead owner's run that someone asked to cancel", async () => {
    await store.registerOwner({ ...OWNER, id: "dead", pid: 11 }, { at: T_START, leaseExpiresAt: LEASE_END });
    const run = await store.createRun({ ...base, blocks: ["a", "b"], ownerId: "dead" });
    await store.updateRunState(run.id, "running", { at: T_START });
    await store.updateBlockRun(run.id, "a", { state: "running", attempt: 1 });
    await store.requestCancel(run.id, T_START);
    const [recovered] = await recoverOrphanedRuns(store, new Date("2024-01-02T00:00:00Z"));
    expect(recovered).toMatchObject({ runId: run.id, state: "cancelled", blocks: ["a: running → cancelled", "b: pending → cancelled"] });
    expect((await store.getRun(run.id))?.run.error).toMatch(/^cancelled: owner box:11/);
  });

  it("treats runs without an owner as orphaned, but spares what this process says is live", async () => {
    const unowned = await store.createRun({ ...base, blocks: ["a"] });
    const mine = await store.createRun({ ...base, blocks: ["a"] });
    const recovered = await recoverOrphanedRuns(store, new Date("2024-01-02T00:00:00Z"), { isLive: (id) => id === mine.id });
    expect(recovered.map((r) => r.runId)).toEqual([unowned.id]);
    expect((await store.getRun(unowned.id))?.run.error).toMatch(/no owner recorded/);
    expect((await store.getRun(mine.id))?.run.state).toBe("queued");
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
      // Block a's latest successful output is kept however old: a `--block` run reads it as a cached upstream.
      expect((await store.getRun(old.id))?.blockRuns[0].output).not.toBeNull();
      expect(await store.latestSuccessfulOutput("etl", "a")).not.toBeNull();
      expect(await store.getRun(veryOld.id)).toBeNull(); // older than the 90-day floor
      expect(await store.getRun(oldActive.id)).not.toBeNull();
      expect(await store.getRun(recent.id)).not.toBeNull();
    } finally {
      await store.close();
    }
  });
});
