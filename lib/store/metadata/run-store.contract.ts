/**
 * The contract every `RunStore` passes (one suite per interface, run against every implementation). Run it from a `*.test.ts` with
 * a fixture that opens stores on one fresh database: `open()` may be called several times to get several
 * stores on the same database, as the server, the CLI and the scheduler have.
 */
import { UserError } from "../../core/errors";
import type { OutputRecord } from "../../core/output-types";
import type { RunStore } from "./run-store";

/** A fresh database for one test, on which several stores can be opened. */
export interface RunStoreFixture {
  /** A new store on the fixture's database (each call a separate connection/instance). */
  open(): Promise<RunStore>;
  /** Drops the database (files, schema) once every store is closed. */
  cleanup(): Promise<void>;
}

const T0 = "2024-05-01T10:00:00.000Z";
const T1 = "2024-05-01T10:00:01.000Z";
const T2 = "2024-05-01T10:00:02.000Z";

function output(runId: string, block: string, rows: number): OutputRecord {
  return {
    ref: { runId, block, format: "arrow", path: `/data/outputs/${runId}/${block}.arrow` },
    summary: {
      rows,
      bytes: 1234,
      columns: [
        { name: "id", type: "Int64", nulls: 0, min: 1, max: rows, distinct: rows },
        { name: "name", type: "Utf8", nulls: 2, min: "a", max: "z", distinct: 7 },
        { name: "ok", type: "Bool", nulls: 0, min: false, max: true, distinct: 2 },
        { name: "empty", type: "Null", nulls: rows, min: null, max: null, distinct: 0 },
      ],
    },
  };
}

function baseRun(pipeline = "etl", blocks: string[] = ["load", "clean", "save"]) {
  return {
    pipeline,
    trigger: "manual" as const,
    logicalDate: T0,
    variables: { months: [10, 11, 12], nested: { a: "x", b: null, c: true } },
    mode: "pipeline" as const,
    blocks,
  };
}

/** Registers the RunStore contract tests (a `describe` block) for one implementation. */
export function runStoreContract(name: string, makeStore: () => Promise<RunStoreFixture>): void {
  describe(`RunStore contract: ${name}`, () => {
    let fixture: RunStoreFixture;
    let store: RunStore;
    const extra: RunStore[] = [];

    beforeEach(async () => {
      fixture = await makeStore();
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

    async function another(): Promise<RunStore> {
      const other = await fixture.open();
      extra.push(other);
      return other;
    }

    it("creates a queued run with one pending block run per block, in order", async () => {
      const run = await store.createRun({ ...baseRun(), triggerId: null, block: null });
      expect(run).toMatchObject({ pipeline: "etl", state: "queued", trigger: "manual", triggerId: null, mode: "pipeline", block: null });
      expect(run.variables).toEqual({ months: [10, 11, 12], nested: { a: "x", b: null, c: true } });
      expect(run.startedAt).toBeNull();
      expect(run.endedAt).toBeNull();
      expect(Number.isNaN(Date.parse(run.createdAt))).toBe(false);

      const stored = await store.getRun(run.id);
      expect(stored?.run).toEqual(run);
      expect(stored?.blockRuns.map((b) => [b.block, b.state, b.attempt])).toEqual([
        ["load", "pending", 0],
        ["clean", "pending", 0],
        ["save", "pending", 0],
      ]);
      for (const blockRun of stored?.blockRuns ?? []) {
        expect(blockRun).toMatchObject({ runId: run.id, queuedAt: null, startedAt: null, endedAt: null, error: null, output: null, rows: null, durationMs: null });
      }
    });

    it("adds block runs (dynamic instances) after the existing ones, once each", async () => {
      const run = await store.createRun({ ...baseRun(), triggerId: null, block: null });
      await store.addBlockRuns(run.id, ["clean[0]", "clean[1]"]);
      await store.addBlockRuns(run.id, ["clean[1]", "clean[2]"]);
      await store.updateBlockRun(run.id, "clean[1]", { state: "queued" });
      const stored = await store.getRun(run.id);
      expect(stored?.blockRuns.map((b) => [b.block, b.state])).toEqual([
        ["load", "pending"],
        ["clean", "pending"],
        ["save", "pending"],
        ["clean[0]", "pending"],
        ["clean[1]", "queued"],
        ["clean[2]", "pending"],
      ]);
      await expect(store.addBlockRuns("no-such-run", ["x[0]"])).rejects.toThrow("there is no run no-such-run");
    });

    it("keeps a caller's run id, trigger id and target block; rejects bad ids and duplicate blocks", async () => {
      const run = await store.createRun({ ...baseRun(), id: "my-run_1", trigger: "schedule", triggerId: "nightly", mode: "block", block: "clean", blocks: ["clean"] });
      expect(run).toMatchObject({ id: "my-run_1", trigger: "schedule", triggerId: "nightly", mode: "block", block: "clean" });
      await expect(store.createRun({ ...baseRun(), id: "../etc" })).rejects.toBeInstanceOf(UserError);
      await expect(store.createRun({ ...baseRun(), blocks: ["a", "a"] })).rejects.toMatchObject({ code: "duplicate_block" });
      expect(await store.getRun("nope")).toBeNull();
    });

    it("gives sortable ids: later runs sort after earlier ones", async () => {
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) ids.push((await store.createRun(baseRun())).id);
      expect([...ids].sort()).toEqual(ids);
      expect(new Set(ids).size).toBe(20);
    });

    it("updates run state with start and end times and errors", async () => {
      const { id } = await store.createRun(baseRun());
      let run = await store.updateRunState(id, "running", { at: T0 });
      expect(run).toMatchObject({ state: "running", startedAt: T0, endedAt: null, error: null });
      run = await store.updateRunState(id, "running", { at: T1 });
      expect(run.startedAt).toBe(T0);
      run = await store.updateRunState(id, "failed", { at: T1, error: "block clean failed" });
      expect(run).toMatchObject({ state: "failed", startedAt: T0, endedAt: T1, error: "block clean failed" });
      run = await store.updateRunState(id, "queued", { at: T2 });
      expect(run).toMatchObject({ state: "queued", endedAt: null, error: "block clean failed" });
      run = await store.updateRunState(id, "success", { at: T2, error: null });
      expect(run).toMatchObject({ state: "success", endedAt: T2, error: null });
      expect((await store.getRun(id))?.run).toEqual(run);
      await expect(store.updateRunState("missing", "running", { at: T0 })).rejects.toMatchObject({ code: "run_not_found" });
    });

    it("patches block runs: omitted fields stay, null clears, JSON fields round-trip", async () => {
      const { id } = await store.createRun(baseRun());
      let blockRun = await store.updateBlockRun(id, "load", { state: "queued", queuedAt: T0 });
      expect(blockRun).toMatchObject({ state: "queued", queuedAt: T0, attempt: 0 });
      blockRun = await store.updateBlockRun(id, "load", { state: "running", attempt: 1, startedAt: T1 });
      expect(blockRun).toMatchObject({ state: "running", attempt: 1, queuedAt: T0, startedAt: T1 });
      const error = { code: "boom", kind: "operational" as const, message: "connection reset", stack: "Error: connection reset\n    at load.ts:3:9" };
      blockRun = await store.updateBlockRun(id, "load", { state: "up_for_retry", endedAt: T2, error });
      expect(blockRun.error).toEqual(error);
      const record = output(id, "load", 3_000_000_000);
      blockRun = await store.updateBlockRun(id, "load", {
        state: "success",
        attempt: 2,
        error: null,
        output: record,
        rows: 3_000_000_000,
        durationMs: 1500,
        endedAt: T2,
      });
      expect(blockRun).toMatchObject({ state: "success", attempt: 2, error: null, rows: 3_000_000_000, durationMs: 1500, queuedAt: T0 });
      expect(blockRun.output).toEqual(record);
      const stored = await store.getRun(id);
      expect(stored?.blockRuns[0]).toEqual(blockRun);
      expect(stored?.blockRuns[1].state).toBe("pending");
      blockRun = await store.updateBlockRun(id, "load", { state: "success", output: null, rows: null });
      expect(blockRun).toMatchObject({ output: null, rows: null, durationMs: 1500 });
      await expect(store.updateBlockRun(id, "nope", { state: "queued" })).rejects.toMatchObject({ code: "block_run_not_found" });
      await expect(store.updateBlockRun("missing", "load", { state: "queued" })).rejects.toBeInstanceOf(UserError);
    });

    it("records attempts, replacing the row of the same attempt", async () => {
      const { id } = await store.createRun(baseRun());
      await store.recordAttempt({ runId: id, block: "load", attempt: 1, state: "running", startedAt: T0, endedAt: null, error: null });
      await store.recordAttempt({
        runId: id,
        block: "load",
        attempt: 1,
        state: "failed",
        startedAt: T0,
        endedAt: T1,
        error: { code: "timeout", message: "timed out after 10m" },
      });
      await store.recordAttempt({ runId: id, block: "load", attempt: 2, state: "success", startedAt: T1, endedAt: T2, error: null });
      await store.recordAttempt({ runId: id, block: "clean", attempt: 1, state: "success", startedAt: T2, endedAt: T2, error: null });
      const load = await store.listAttempts(id, "load");
      expect(load).toEqual([
        { runId: id, block: "load", attempt: 1, state: "failed", startedAt: T0, endedAt: T1, error: { code: "timeout", message: "timed out after 10m" } },
        { runId: id, block: "load", attempt: 2, state: "success", startedAt: T1, endedAt: T2, error: null },
      ]);
      expect((await store.listAttempts(id)).map((a) => `${a.block}#${a.attempt}`)).toEqual(["clean#1", "load#1", "load#2"]);
    });

    it("lists runs newest first, filtered and paged", async () => {
      const a1 = await store.createRun(baseRun("a"));
      const b1 = await store.createRun(baseRun("b"));
      const a2 = await store.createRun({ ...baseRun("a"), createdAt: "2030-01-01T00:00:00.000Z" });
      const a3 = await store.createRun(baseRun("a"));
      await store.updateRunState(a2.id, "running", { at: T0 });
      await store.updateRunState(a3.id, "failed", { at: T0 });

      expect((await store.listRuns()).map((r) => r.id)).toEqual([a3.id, a2.id, b1.id, a1.id]);
      expect((await store.listRuns({ pipeline: "a" })).map((r) => r.id)).toEqual([a3.id, a2.id, a1.id]);
      expect((await store.listRuns({ state: "queued" })).map((r) => r.id)).toEqual([b1.id, a1.id]);
      expect((await store.listRuns({ state: ["running", "failed"] })).map((r) => r.id)).toEqual([a3.id, a2.id]);
      expect(await store.listRuns({ state: [] })).toEqual([]);
      const page1 = await store.listRuns({ limit: 2 });
      expect(page1.map((r) => r.id)).toEqual([a3.id, a2.id]);
      const page2 = await store.listRuns({ limit: 2, before: page1[1].id });
      expect(page2.map((r) => r.id)).toEqual([b1.id, a1.id]);
      expect((await store.listRuns({ createdBefore: "2029-01-01T00:00:00.000Z" })).map((r) => r.id)).toEqual([a3.id, b1.id, a1.id]);
    });

    it("finds the newest successful output of a block in a pipeline", async () => {
      expect(await store.latestSuccessfulOutput("etl", "load")).toBeNull();
      const r1 = await store.createRun(baseRun());
      await store.updateBlockRun(r1.id, "load", { state: "success", output: output(r1.id, "load", 1), endedAt: T0 });
      const r2 = await store.createRun(baseRun());
      await store.updateBlockRun(r2.id, "load", { state: "success", output: output(r2.id, "load", 2), endedAt: T1 });
      const r3 = await store.createRun(baseRun());
      await store.updateBlockRun(r3.id, "load", { state: "failed", output: output(r3.id, "load", 3), endedAt: T2 });
      const r4 = await store.createRun(baseRun());
      await store.updateBlockRun(r4.id, "load", { state: "success", output: null, endedAt: T2 });
      const other = await store.createRun(baseRun("other"));
      await store.updateBlockRun(other.id, "load", { state: "success", output: output(other.id, "load", 9), endedAt: T2 });

      expect(await store.latestSuccessfulOutput("etl", "load")).toEqual(output(r2.id, "load", 2));
      expect(await store.latestSuccessfulOutput("etl", "clean")).toBeNull();
      expect(await store.latestSuccessfulOutput("other", "load")).toEqual(output(other.id, "load", 9));
    });

    it("finds runs in given states, oldest first", async () => {
      const r1 = await store.createRun(baseRun());
      const r2 = await store.createRun(baseRun());
      const r3 = await store.createRun(baseRun());
      await store.updateRunState(r1.id, "running", { at: T0 });
      await store.updateRunState(r2.id, "success", { at: T0 });
      expect((await store.findRunsInState(["queued", "running"])).map((r) => r.id)).toEqual([r1.id, r3.id]);
      expect(await store.findRunsInState([])).toEqual([]);
    });

    it("deletes a run with its block runs and attempts", async () => {
      const keep = await store.createRun(baseRun());
      const gone = await store.createRun(baseRun());
      await store.recordAttempt({ runId: gone.id, block: "load", attempt: 1, state: "success", startedAt: T0, endedAt: T1, error: null });
      await store.updateBlockRun(gone.id, "load", { state: "success", output: output(gone.id, "load", 1) });
      expect(await store.deleteRun(gone.id)).toBe(true);
      expect(await store.deleteRun(gone.id)).toBe(false);
      expect(await store.getRun(gone.id)).toBeNull();
      expect(await store.listAttempts(gone.id)).toEqual([]);
      expect(await store.latestSuccessfulOutput("etl", "load")).toBeNull();
      expect((await store.getRun(keep.id))?.blockRuns).toHaveLength(3);
    });

    it("sees what another store on the same database wrote, and survives reopening", async () => {
      const other = await another();
      const run = await other.createRun(baseRun());
      await other.updateBlockRun(run.id, "clean", { state: "running", attempt: 1 });
      expect((await store.getRun(run.id))?.blockRuns[1]).toMatchObject({ state: "running", attempt: 1 });
      await other.close();
      const reopened = await another();
      expect((await reopened.getRun(run.id))?.run.id).toBe(run.id);
    });

    it("lets two stores on the same database write concurrently without losing anything", async () => {
      const other = await another();
      const stores = [store, other];
      const runsPerStore = 25;
      const created = await Promise.all(
        stores.flatMap((s, k) =>
          Array.from({ length: runsPerStore }, async (_, i) => {
            const run = await s.createRun({ ...baseRun(`p${k}`, ["load", "clean"]), variables: { i } });
            await s.updateRunState(run.id, "running", { at: T0 });
            await s.updateBlockRun(run.id, "load", { state: "running", attempt: 1, startedAt: T0 });
            await s.recordAttempt({ runId: run.id, block: "load", attempt: 1, state: "success", startedAt: T0, endedAt: T1, error: null });
            await s.updateBlockRun(run.id, "load", { state: "success", endedAt: T1, rows: i, output: output(run.id, "load", i) });
            await s.updateRunState(run.id, "success", { at: T1 });
            return run.id;
          }),
        ),
      );
      expect(new Set(created).size).toBe(2 * runsPerStore);
      // Both stores hammer the same block run too: every write lands without an error.
      const shared = created[0];
      await Promise.all(
        Array.from({ length: 40 }, (_, i) => stores[i % 2].updateBlockRun(shared, "clean", { state: "running", attempt: i + 1 })),
      );
      for (const s of stores) {
        const all = await s.listRuns({ limit: 1000 });
        expect(all).toHaveLength(2 * runsPerStore);
        expect(all.every((r) => r.state === "success")).toBe(true);
        expect(await s.findRunsInState(["queued", "running"])).toEqual([]);
      }
      for (const id of created) {
        const stored = await other.getRun(id);
        expect(stored?.blockRuns[0]).toMatchObject({ state: "success", rows: stored?.run.variables.i });
        expect(await store.listAttempts(id)).toHaveLength(1);
      }
      // Concurrent writes over different connections commit in no defined order (PostgreSQL pools them):
      // one of them is the final value; a write issued after they all settled wins.
      const final = (await store.getRun(shared))?.blockRuns[1].attempt ?? 0;
      expect(final).toBeGreaterThanOrEqual(1);
      expect(final).toBeLessThanOrEqual(40);
      await other.updateBlockRun(shared, "clean", { state: "running", attempt: 41 });
      expect((await store.getRun(shared))?.blockRuns[1].attempt).toBe(41);
    });

    it("keeps a run's data interval and the earlier outputs it read; counts a sensor's pokes", async () => {
      const cached = output("older_run", "load", 5);
      const run = await store.createRun({
        ...baseRun(),
        logicalDate: "2026-10-01T00:00:00.000Z",
        dataInterval: { start: "2026-10-01T00:00:00.000Z", end: "2026-10-02T00:00:00.000Z" },
        cachedInputs: { load: cached, exported: null },
        blocks: ["clean", "save"],
      });
      const found = await store.getRun(run.id);
      expect(found?.run.dataInterval).toEqual({ start: "2026-10-01T00:00:00.000Z", end: "2026-10-02T00:00:00.000Z" });
      expect(found?.run.cachedInputs).toEqual({ load: cached, exported: null });
      const plain = await store.createRun({ ...baseRun(), logicalDate: T0 });
      expect((await store.getRun(plain.id))?.run.dataInterval).toEqual({ start: T0, end: T0 });
      expect((await store.getRun(plain.id))?.blockRuns[0]).toMatchObject({ pokes: 0, lastPokeAt: null });
      await store.updateBlockRun(plain.id, "load", { state: "running", pokes: 3, lastPokeAt: T1 });
      expect((await store.getRun(plain.id))?.blockRuns[0]).toMatchObject({ state: "running", pokes: 3, lastPokeAt: T1 });
    });

    it("finds the latest success of a block even without output (an exporter)", async () => {
      const first = await store.createRun({ ...baseRun(), createdAt: T0 });
      await store.updateBlockRun(first.id, "save", { state: "success", endedAt: T1 });
      await store.updateBlockRun(first.id, "load", { state: "success", endedAt: T1, output: output(first.id, "load", 3) });
      expect(await store.latestSuccess("etl", "save")).toEqual({ runId: first.id, output: null });
      expect(await store.latestSuccess("etl", "load")).toEqual({ runId: first.id, output: output(first.id, "load", 3) });
      expect(await store.latestSuccess("etl", "clean")).toBeNull();
    });

    it("keeps an exporter's writes and a block's test outcome; null clears them", async () => {
      const run = await store.createRun(baseRun());
      expect((await store.getRun(run.id))?.blockRuns[2]).toMatchObject({ writes: null, tests: null });
      const writes = [
        { connector: "postgres", location: "public.trips", rows: 1200 },
        { connector: "files", location: "exports/trips.parquet", rows: 1200, bytes: 48_213 },
      ];
      await store.updateBlockRun(run.id, "save", { state: "success", writes, tests: { passed: 3 } });
      await store.updateBlockRun(run.id, "clean", { state: "failed", tests: { passed: 1, failed: "fare must be positive" } });
      const stored = await store.getRun(run.id);
      expect(stored?.blockRuns[2]).toMatchObject({ writes, tests: { passed: 3 } });
      expect(stored?.blockRuns[1].tests).toEqual({ passed: 1, failed: "fare must be positive" });
      await store.updateBlockRun(run.id, "save", { state: "pending", writes: null, tests: null });
      expect((await store.getRun(run.id))?.blockRuns[2]).toMatchObject({ writes: null, tests: null });
    });

    it("finds each block's newest block run of a pipeline, and separately its newest output", async () => {
      const older = await store.createRun({ ...baseRun(), createdAt: T0 });
      await store.updateBlockRun(older.id, "load", { state: "success", startedAt: T0, endedAt: T0, output: output(older.id, "load", 3), rows: 3 });
      await store.updateBlockRun(older.id, "clean", { state: "success", startedAt: T0, endedAt: T0, output: output(older.id, "clean", 2), rows: 2 });
      await store.updateBlockRun(older.id, "save", { state: "success", startedAt: T0, endedAt: T0, writes: [{ connector: "files", location: "out.csv", rows: 2 }] });
      // A newer run of one block that failed, and one still waiting (never counts), in the same pipeline.
      const newer = await store.createRun({ ...baseRun("etl", ["clean"]), mode: "block", block: "clean", createdAt: T1 });
      await store.updateBlockRun(newer.id, "clean", { state: "failed", attempt: 1, startedAt: T1, endedAt: T2, error: { code: "test_failed", message: "test failed: x" } });
      await store.createRun({ ...baseRun("etl", ["load"]), createdAt: T2 });
      // Another pipeline's blocks of the same names never show.
      const elsewhere = await store.createRun({ ...baseRun("other"), createdAt: T2 });
      await store.updateBlockRun(elsewhere.id, "load", { state: "success", startedAt: T2, endedAt: T2, output: output(elsewhere.id, "load", 9) });

      const { latest, withOutput } = await store.latestBlockRuns("etl");
      expect(latest.map((l) => [l.blockRun.block, l.run.id, l.blockRun.state])).toEqual([
        ["clean", newer.id, "failed"],
        ["load", older.id, "success"],
        ["save", older.id, "success"],
      ]);
      expect(latest.find((l) => l.blockRun.block === "clean")?.run).toMatchObject({ mode: "block", block: "clean" });
      expect(latest.find((l) => l.blockRun.block === "save")?.blockRun.writes).toEqual([{ connector: "files", location: "out.csv", rows: 2 }]);
      expect(withOutput.map((l) => [l.blockRun.block, l.run.id, l.blockRun.rows])).toEqual([
        ["clean", older.id, 2],
        ["load", older.id, 3],
      ]);
      expect(await store.latestBlockRuns("nothing_ran")).toEqual({ latest: [], withOutput: [] });
    });

    it("reopens a finished run for a retry exactly once, and never a live one", async () => {
      const run = await store.createRun(baseRun());
      expect(await store.reopenRun(run.id)).toBeNull(); // queued: live
      await store.updateRunState(run.id, "running", { at: T0 });
      expect(await store.reopenRun(run.id)).toBeNull();
      await store.updateRunState(run.id, "failed", { at: T1, error: "boom" });
      const other = await another();
      const results = await Promise.all([store.reopenRun(run.id), other.reopenRun(run.id), store.reopenRun(run.id)]);
      expect(results.filter((r) => r !== null)).toHaveLength(1);
      const after = await store.getRun(run.id);
      expect(after?.run).toMatchObject({ state: "queued", endedAt: null, error: null, startedAt: T0 });
      expect(await store.reopenRun("no_such_run")).toBeNull();
    });
  });
}
