/**
 * The contract every `TriggerStore` passes, run against SQLite and PostgreSQL. Same fixture
 * shape as the run store contract: `open()` may be called several times for several stores on one database.
 */
import type { RunStoreFixture } from "./run-store.contract";
import type { MetadataStore } from "./run-store";

export interface MetadataStoreFixture extends Omit<RunStoreFixture, "open"> {
  open(): Promise<MetadataStore>;
}

const T0 = "2024-05-01T10:00:00.000Z";
const T1 = "2024-05-01T11:00:00.000Z";
const T2 = "2024-05-01T12:00:00.000Z";

export function triggerStoreContract(name: string, makeFixture: () => Promise<MetadataStoreFixture>): void {
  describe(`TriggerStore contract: ${name}`, () => {
    let fixture: MetadataStoreFixture;
    let store: MetadataStore;
    const extra: MetadataStore[] = [];

    beforeEach(async () => {
      fixture = await makeFixture();
      store = await fixture.open();
    });

    afterEach(async () => {
      // Clean up even when opening failed (no store), so no database or schema is left behind.
      try {
        await store?.close();
        for (const other of extra.splice(0)) await other.close();
      } finally {
        await fixture.cleanup();
      }
    });

    async function another(): Promise<MetadataStore> {
      const other = await fixture.open();
      extra.push(other);
      return other;
    }

    it("syncs triggers from a file: insert, update, forget the cached next due on a changed schedule, delete", async () => {
      const triggers = store.triggers;
      await triggers.syncTriggers(
        "etl",
        [
          { triggerId: "nightly", kind: "schedule", enabled: true, fingerprint: "f1" },
          { triggerId: "hook", kind: "api", enabled: true, fingerprint: "api" },
        ],
        T0,
      );
      await triggers.syncTriggers("other", [{ triggerId: "x", kind: "schedule", enabled: false, fingerprint: "fx" }], T0);
      await triggers.advanceTrigger("etl", "nightly", T0, T1);
      expect(await triggers.listTriggerStates("etl")).toEqual([
        { pipeline: "etl", triggerId: "hook", kind: "api", enabled: true, fingerprint: "api", lastScheduled: null, nextDue: null, firstSeenAt: T0, updatedAt: T0 },
        { pipeline: "etl", triggerId: "nightly", kind: "schedule", enabled: true, fingerprint: "f1", lastScheduled: T0, nextDue: T1, firstSeenAt: T0, updatedAt: T0 },
      ]);
      // Same fingerprint, disabled: next due kept.
      await triggers.syncTriggers("etl", [{ triggerId: "nightly", kind: "schedule", enabled: false, fingerprint: "f1" }, { triggerId: "hook", kind: "api", enabled: true, fingerprint: "api" }], T1);
      expect((await triggers.listTriggerStates("etl")).find((t) => t.triggerId === "nightly")).toMatchObject({ enabled: false, nextDue: T1, lastScheduled: T0, firstSeenAt: T0, updatedAt: T1 });
      // New schedule: next due forgotten, last scheduled kept; hook deleted from the file.
      await triggers.syncTriggers("etl", [{ triggerId: "nightly", kind: "schedule", enabled: true, fingerprint: "f2" }], T2);
      expect(await triggers.listTriggerStates("etl")).toEqual([
        { pipeline: "etl", triggerId: "nightly", kind: "schedule", enabled: true, fingerprint: "f2", lastScheduled: T0, nextDue: null, firstSeenAt: T0, updatedAt: T2 },
      ]);
      expect(await triggers.deleteTriggersOfOtherPipelines(["etl"])).toBe(1);
      expect((await triggers.listTriggerStates()).map((t) => t.pipeline)).toEqual(["etl"]);
      await triggers.syncTriggers("etl", [], T2);
      expect(await triggers.listTriggerStates()).toEqual([]);
    });

    it("syncs thousands of triggers in one call", async () => {
      const many = Array.from({ length: 2500 }, (_, i) => ({ triggerId: `t${i}`, kind: "schedule" as const, enabled: true, fingerprint: "f" }));
      await store.triggers.syncTriggers("big", many, T0);
      expect(await store.triggers.listTriggerStates("big")).toHaveLength(2500);
    });

    it("only moves last scheduled forward", async () => {
      const triggers = store.triggers;
      await triggers.syncTriggers("etl", [{ triggerId: "t", kind: "schedule", enabled: true, fingerprint: "f" }], T0);
      await triggers.advanceTrigger("etl", "t", T1, T2);
      await triggers.advanceTrigger("etl", "t", T0, T2);
      expect((await triggers.listTriggerStates("etl"))[0]).toMatchObject({ lastScheduled: T1, nextDue: T2 });
      await triggers.advanceTrigger("etl", "t", null, null);
      expect((await triggers.listTriggerStates("etl"))[0]).toMatchObject({ lastScheduled: T1, nextDue: null });
    });

    it("lets exactly one of many concurrent claims of a slot through, across stores", async () => {
      const other = await another();
      const slots = Array.from({ length: 10 }, (_, i) => `2024-05-01T${String(i).padStart(2, "0")}:00:00.000Z`);
      const attempts = [store, other].flatMap((s) =>
        slots.flatMap((logicalDate) => [1, 2, 3].map(() => s.triggers.claimScheduledRun({ pipeline: "etl", triggerId: "t", logicalDate, at: T0 }))),
      );
      const won = (await Promise.all(attempts)).filter(Boolean);
      expect(won).toHaveLength(slots.length);
      // Another trigger or pipeline with the same date is another slot.
      expect(await store.triggers.claimScheduledRun({ pipeline: "etl", triggerId: "u", logicalDate: slots[0], at: T0 })).toBe(true);
      expect(await store.triggers.claimScheduledRun({ pipeline: "etl2", triggerId: "t", logicalDate: slots[0], at: T0 })).toBe(true);
      expect(await store.triggers.claimScheduledRun({ pipeline: "etl", triggerId: "t", logicalDate: slots[0], at: T1, status: "skipped" })).toBe(false);
    });

    it.each([1, 2])("admits exactly max_active_runs %i of many concurrent claims for different dates, across stores", async (max) => {
      const stores = [store, await another(), await another()];
      const dates = Array.from({ length: 12 }, (_, i) => `2024-05-01T${String(i).padStart(2, "0")}:00:00.000Z`);
      const attempts = stores.flatMap((s) =>
        dates.map((logicalDate) => s.triggers.claimScheduledRunWithinLimit({ pipeline: "etl", triggerId: "limited", logicalDate, at: T0, maxActiveRuns: max, onFull: "wait" })),
      );
      const outcomes = await Promise.all(attempts);
      expect(outcomes.filter((o) => o === "claimed")).toHaveLength(max);
      expect(outcomes.every((o) => o === "claimed" || o === "full" || o === "taken")).toBe(true);
      const claims = await store.triggers.listScheduledRuns("etl", "limited");
      expect(claims).toHaveLength(max);
      expect(claims.every((c) => c.status === "claimed")).toBe(true);
      // Skip policy, racing the same way: still only `max` active; every other date recorded as skipped once.
      const skipping = await Promise.all(
        stores.flatMap((s) =>
          dates.map((logicalDate) => s.triggers.claimScheduledRunWithinLimit({ pipeline: "etl", triggerId: "skipper", logicalDate, at: T0, maxActiveRuns: max, onFull: "skip" })),
        ),
      );
      expect(skipping.filter((o) => o === "claimed")).toHaveLength(max);
      expect(skipping.filter((o) => o === "skipped")).toHaveLength(dates.length - max);
      const recorded = await store.triggers.listScheduledRuns("etl", "skipper");
      expect(recorded.filter((c) => c.status === "skipped")).toHaveLength(dates.length - max);
    });

    it("counts a trigger's active runs and unstarted claims for max_active_runs, and frees the slot when the run ends", async () => {
      const t = store.triggers;
      const D = (hour: number) => `2024-06-01T${String(hour).padStart(2, "0")}:00:00.000Z`;
      const claim = (logicalDate: string, maxActiveRuns = 1) => t.claimScheduledRunWithinLimit({ pipeline: "etl", triggerId: "t", logicalDate, at: T0, maxActiveRuns, onFull: "wait" });
      const startRun = async (logicalDate: string) => {
        const run = await store.createRun({ pipeline: "etl", trigger: "schedule", triggerId: "t", logicalDate, variables: {}, mode: "pipeline", blocks: ["a"] });
        return run.id;
      };
      expect(await claim(D(0))).toBe("claimed");
      expect(await claim(D(0))).toBe("taken");
      // Claimed, run not recorded yet: the claim holds the slot.
      expect(await claim(D(1))).toBe("full");
      // The run recorded but its claim not yet marked started: counted once, not twice.
      const first = await startRun(D(0));
      expect(await claim(D(1))).toBe("full");
      expect(await claim(D(1), 2)).toBe("claimed");
      await t.releaseClaim("etl", "t", D(1));
      await t.finishClaim("etl", "t", D(0), { status: "started", runId: first });
      await store.updateRunState(first, "running", { at: T1 });
      expect(await claim(D(1))).toBe("full");
      // Manual runs of the pipeline do not count; the run ending frees the slot.
      await store.createRun({ pipeline: "etl", trigger: "manual", triggerId: "t", logicalDate: D(9), variables: {}, mode: "pipeline", blocks: ["a"] });
      await store.updateRunState(first, "failed", { at: T2 });
      expect(await claim(D(1))).toBe("claimed");
      const second = await startRun(D(1));
      await t.finishClaim("etl", "t", D(1), { status: "started", runId: second });
      await store.updateRunState(second, "cancelled", { at: T2 });
      // A claim released after a failed start frees its slot too.
      expect(await claim(D(2))).toBe("claimed");
      await t.releaseClaim("etl", "t", D(2));
      // A run retried in place is active again: it holds the slot although it was admitted long ago.
      expect(await store.reopenRun(first)).not.toBeNull();
      expect(await claim(D(2))).toBe("full");
      await store.updateRunState(first, "success", { at: T2 });
      expect(await claim(D(2))).toBe("claimed");
      // Another trigger, or the same trigger name in another pipeline, has its own limit.
      expect(await t.claimScheduledRunWithinLimit({ pipeline: "etl", triggerId: "u", logicalDate: D(2), at: T0, maxActiveRuns: 1, onFull: "wait" })).toBe("claimed");
      expect(await t.claimScheduledRunWithinLimit({ pipeline: "etl2", triggerId: "t", logicalDate: D(2), at: T0, maxActiveRuns: 1, onFull: "wait" })).toBe("claimed");
    });

    it("admits a backfill's slots up to its concurrency under concurrent claims, and more as runs end", async () => {
      const slots = Array.from({ length: 8 }, (_, i) => ({ logicalDate: `2024-05-0${i + 1}T00:00:00.000Z`, intervalEnd: `2024-05-0${i + 2}T00:00:00.000Z` }));
      const backfill = await store.triggers.createBackfill({ pipeline: "etl", triggerId: "t", rangeStart: T0, rangeEnd: T2, concurrency: 2, slots, createdAt: T0 });
      const stores = [store, await another()];
      const outcomes = await Promise.all(stores.flatMap((s) => slots.map((slot) => s.triggers.claimBackfillRunWithinLimit(backfill.id, slot.logicalDate, T0, 2))));
      expect(outcomes.filter((o) => o === "claimed")).toHaveLength(2);
      const claimed = await store.triggers.listBackfillRuns(backfill.id);
      expect(claimed).toHaveLength(2);
      const run = await store.createRun({ pipeline: "etl", trigger: "backfill", triggerId: "t", logicalDate: claimed[0].logicalDate, variables: {}, mode: "pipeline", blocks: ["a"] });
      await store.triggers.setBackfillRunId(backfill.id, claimed[0].logicalDate, run.id);
      const free = slots.find((s) => !claimed.some((c) => c.logicalDate === s.logicalDate));
      if (!free) throw new Error("no free slot");
      expect(await store.triggers.claimBackfillRunWithinLimit(backfill.id, free.logicalDate, T0, 2)).toBe("full");
      await store.updateRunState(run.id, "success", { at: T1 });
      expect(await store.triggers.claimBackfillRunWithinLimit(backfill.id, free.logicalDate, T0, 2)).toBe("claimed");
      expect(await store.triggers.claimBackfillRunWithinLimit(backfill.id, free.logicalDate, T0, 2)).toBe("taken");
    });

    it("records what became of claims; releases failed starts and stale claims", async () => {
      const t = store.triggers;
      const claim = (logicalDate: string, at = T0, status: "claimed" | "skipped" = "claimed") => t.claimScheduledRun({ pipeline: "etl", triggerId: "t", logicalDate, at, status });
      expect(await claim(T0)).toBe(true);
      await t.finishClaim("etl", "t", T0, { status: "started", runId: "run-1" });
      expect(await claim(T1)).toBe(true);
      await t.finishClaim("etl", "t", T1, { status: "failed", error: "pipeline.yaml is broken" });
      expect(await claim(T2, T0, "skipped")).toBe(true);
      expect((await t.listScheduledRuns("etl", "t")).map((r) => [r.logicalDate, r.status, r.runId, r.error])).toEqual([
        [T2, "skipped", null, null],
        [T1, "failed", null, "pipeline.yaml is broken"],
        [T0, "started", "run-1", null],
      ]);
      // Release only touches claims still `claimed`.
      await t.releaseClaim("etl", "t", T0);
      expect(await t.listScheduledRuns("etl", "t")).toHaveLength(3);
      expect(await claim("2024-06-01T00:00:00.000Z", T0)).toBe(true);
      expect(await claim("2024-06-02T00:00:00.000Z", T2)).toBe(true);
      await t.releaseClaim("etl", "t", "2024-06-02T00:00:00.000Z");
      expect(await claim("2024-06-02T00:00:00.000Z", T2)).toBe(true);
      // A stale claim whose run exists (died after starting it) is completed, not released.
      expect(await claim("2024-06-03T00:00:00.000Z", T0)).toBe(true);
      const run = await store.createRun({ pipeline: "etl", trigger: "schedule", triggerId: "t", logicalDate: "2024-06-03T00:00:00.000Z", variables: {}, mode: "pipeline", blocks: ["a"] });
      expect((await t.releaseStaleClaims(T1)).map((r) => r.logicalDate)).toEqual(["2024-06-01T00:00:00.000Z"]);
      expect((await t.listScheduledRuns("etl", "t")).find((r) => r.logicalDate === "2024-06-03T00:00:00.000Z")).toMatchObject({ status: "started", runId: run.id });
      expect(await claim("2024-06-01T00:00:00.000Z", T2)).toBe(true);
    });

    it("lists the active runs of a trigger", async () => {
      const base = { pipeline: "etl", logicalDate: T0, variables: {}, mode: "pipeline" as const, blocks: ["a"] };
      const r1 = await store.createRun({ ...base, trigger: "schedule", triggerId: "t" });
      const r2 = await store.createRun({ ...base, trigger: "backfill", triggerId: "t" });
      const r3 = await store.createRun({ ...base, trigger: "schedule", triggerId: "t" });
      await store.createRun({ ...base, trigger: "manual", triggerId: "t" });
      await store.createRun({ ...base, trigger: "schedule", triggerId: "u" });
      await store.updateRunState(r2.id, "running", { at: T1 });
      await store.updateRunState(r3.id, "success", { at: T1 });
      expect(await store.triggers.listActiveRuns("etl", "t")).toEqual([
        { id: r1.id, state: "queued", createdAt: expect.any(String), startedAt: null },
        { id: r2.id, state: "running", createdAt: expect.any(String), startedAt: T1 },
      ]);
    });

    it("stores backfills, claims their slots once and joins the state of their runs", async () => {
      const t = store.triggers;
      const slots = [
        { logicalDate: T0, intervalEnd: T1 },
        { logicalDate: T1, intervalEnd: T2 },
      ];
      const backfill = await t.createBackfill({ pipeline: "etl", triggerId: "t", rangeStart: T0, rangeEnd: T1, concurrency: 2, slots, variables: { x: 1 }, createdAt: T0 });
      expect(backfill).toMatchObject({ pipeline: "etl", triggerId: "t", state: "running", total: 2, concurrency: 2, slots, variables: { x: 1 }, endedAt: null });
      expect(await t.getBackfill(backfill.id)).toEqual(backfill);
      expect(await t.getBackfill("nope")).toBeNull();
      const other = await another();
      const claims = await Promise.all([t.claimBackfillRun(backfill.id, T0, T0), other.triggers.claimBackfillRun(backfill.id, T0, T0)]);
      expect(claims.filter(Boolean)).toHaveLength(1);
      const run = await store.createRun({ pipeline: "etl", trigger: "backfill", triggerId: "t", logicalDate: T0, variables: {}, mode: "pipeline", blocks: ["a"] });
      await t.setBackfillRunId(backfill.id, T0, run.id);
      expect(await t.claimBackfillRun(backfill.id, T1, T0)).toBe(true);
      await t.releaseBackfillRun(backfill.id, T1);
      await t.releaseBackfillRun(backfill.id, T0); // has a run: kept
      expect(await t.listBackfillRuns(backfill.id)).toEqual([{ logicalDate: T0, runId: run.id, runState: "queued", claimedAt: T0 }]);
      // Stale claims without a run: released; with a run created since the claim: linked.
      expect(await t.claimBackfillRun(backfill.id, T1, T0)).toBe(true);
      expect(await t.releaseStaleBackfillRuns(backfill.id, T2)).toBe(1);
      expect(await t.claimBackfillRun(backfill.id, T1, T0)).toBe(true);
      const late = await store.createRun({ pipeline: "etl", trigger: "backfill", triggerId: "t", logicalDate: T1, variables: {}, mode: "pipeline", blocks: ["a"], createdAt: T1 });
      expect(await t.releaseStaleBackfillRuns(backfill.id, T2)).toBe(0);
      expect((await t.listBackfillRuns(backfill.id)).map((r) => r.runId)).toEqual([run.id, late.id]);
      expect(await t.setBackfillState(backfill.id, "cancelled", T2)).toBe(true);
      expect(await t.setBackfillState(backfill.id, "success", T2)).toBe(false);
      expect(await t.getBackfill(backfill.id)).toMatchObject({ state: "cancelled", endedAt: T2 });
      const empty = await t.createBackfill({ pipeline: "etl", triggerId: "t", rangeStart: T0, rangeEnd: T0, concurrency: 1, slots: [], createdAt: T1 });
      expect(empty.state).toBe("success");
      expect((await t.listBackfills({ pipeline: "etl" })).map((b) => b.id)).toEqual([empty.id, backfill.id]);
      expect((await t.listBackfills({ state: "cancelled" })).map((b) => b.id)).toEqual([backfill.id]);
      await expect(t.createBackfill({ pipeline: "etl", triggerId: "t", rangeStart: T0, rangeEnd: T0, concurrency: 0, slots: [], createdAt: T1 })).rejects.toMatchObject({ code: "invalid_value" });
    });

    it("stores, rotates and deletes API token hashes", async () => {
      const t = store.triggers;
      expect(await t.getTokenHash("etl", "hook")).toBeNull();
      await t.setTokenHash("etl", "hook", "aa", T0);
      await t.setTokenHash("etl", "hook", "bb", T1);
      expect(await t.getTokenHash("etl", "hook")).toBe("bb");
      expect(await t.deleteToken("etl", "hook")).toBe(true);
      expect(await t.deleteToken("etl", "hook")).toBe(false);
    });
  });
}
