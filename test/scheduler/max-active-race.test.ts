/**
 * max_active_runs with two schedulers racing: two Scheduler loops, each on its own connection to one
 * database (the embedded SQLite file, the real PostgreSQL), both see the same trigger with six overdue
 * logical dates and `max_active_runs: 1`. A third connection polls the runs table the whole time: never
 * more than one active run, and every date runs exactly once in the end. Then the same with two real
 * `sluice scheduler` processes running a pipeline over a real NYC taxi file (SQLite: two processes on one
 * file, where only the database's own locking can keep them apart).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { dropSchema, freshSchemaName, TEST_DATABASE_URL } from "../../lib/store/metadata/pg-test-database";
import { PostgresRunStore } from "../../lib/store/metadata/postgres-run-store";
import type { MetadataStore } from "../../lib/store/metadata/run-store";
import { SqliteRunStore } from "../../lib/store/metadata/sqlite-run-store";
import { Scheduler, type StartRun } from "../../lib/scheduler/scheduler";
import { StaticTriggerSource } from "../../lib/scheduler/static-trigger-source";
import { scheduleTrigger } from "../../lib/scheduler/test-helpers";
import { openSharedStore, spawnSluice, writeNapProject, type SharedStore, type SluiceProcess } from "../ownership/process-helpers";

interface Backend {
  name: string;
  setup(): { open(): Promise<MetadataStore>; cleanup(): Promise<void> };
}

const BACKENDS: Backend[] = [
  {
    name: "sqlite file",
    setup() {
      const dir = mkdtempSync(path.join(os.tmpdir(), "sluice-max-active-"));
      const file = path.join(dir, "sluice.db");
      return { open: () => SqliteRunStore.open(file), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: "postgres",
    setup() {
      const schema = freshSchemaName("sluice_max_active");
      return { open: () => PostgresRunStore.open(TEST_DATABASE_URL, { schema, maxConnections: 4 }), cleanup: () => dropSchema(schema) };
    },
  },
];

const MINUTE = 60_000;
const START = Date.parse("2024-01-01T00:00:00Z");
/** Logical dates 00:00 … 00:05 (the end bound is inclusive): all long overdue, so all due at once. */
const DATES = Array.from({ length: 6 }, (_, i) => new Date(START + i * MINUTE).toISOString());
const PIPELINE = "race";
const TRIGGER = "limited";

/**
 * What `Runner.start` does to the runs table, without executing blocks: record the run queued, then move
 * it to running and to success a little later, on this scheduler's own connection.
 */
function simulatedRunner(store: MetadataStore, runMs: number): { startRun: StartRun; settled: () => Promise<unknown> } {
  const lifecycles: Promise<unknown>[] = [];
  const startRun: StartRun = async (request) => {
    const run = await store.createRun({
      pipeline: request.pipeline,
      trigger: request.trigger,
      triggerId: request.triggerId,
      logicalDate: request.logicalDate,
      dataInterval: request.dataInterval,
      variables: request.variables,
      mode: "pipeline",
      blocks: ["a"],
    });
    lifecycles.push(
      (async () => {
        await sleep(20);
        await store.updateRunState(run.id, "running", { at: new Date().toISOString() });
        await sleep(runMs);
        await store.updateRunState(run.id, "success", { at: new Date().toISOString() });
      })(),
    );
    return { runId: run.id };
  };
  return { startRun, settled: () => Promise.all(lifecycles) };
}

describe.each(BACKENDS)("max_active_runs with two schedulers on $name", (backend) => {
  it("never lets two runs of a max_active_runs 1 trigger be active at once, and runs every date once", async () => {
    const db = backend.setup();
    const stores: MetadataStore[] = [];
    const schedulers: Scheduler[] = [];
    const runners: ReturnType<typeof simulatedRunner>[] = [];
    const errors: unknown[] = [];
    try {
      const trigger = scheduleTrigger(TRIGGER, { kind: "interval", everyMs: MINUTE, startMs: START, endMs: START + 5 * MINUTE }, { maxActiveRuns: 1, onMaxActive: "wait" });
      const source = new StaticTriggerSource({ [PIPELINE]: [trigger] });
      for (let i = 0; i < 2; i++) {
        const store = await db.open();
        stores.push(store);
        const runner = simulatedRunner(store, 150);
        runners.push(runner);
        schedulers.push(new Scheduler({ store: store.triggers, source, startRun: runner.startRun, pollMs: 50, onError: (error) => errors.push(error) }));
      }
      const observer = await db.open();
      stores.push(observer);

      for (const scheduler of schedulers) scheduler.start();
      let mostActive = 0;
      const deadline = Date.now() + 45_000;
      for (;;) {
        const active = await observer.triggers.listActiveRuns(PIPELINE, TRIGGER);
        mostActive = Math.max(mostActive, active.length);
        const runs = await observer.listRuns({ pipeline: PIPELINE, limit: 100 });
        if ((runs.length >= DATES.length && runs.every((r) => r.state === "success")) || Date.now() > deadline) break;
        await sleep(10);
      }
      for (const scheduler of schedulers) await scheduler.stop();
      for (const runner of runners) await runner.settled();

      expect(errors).toEqual([]);
      expect(mostActive).toBe(1);
      const runs = await observer.listRuns({ pipeline: PIPELINE, limit: 100 });
      expect(runs.map((r) => r.logicalDate).sort()).toEqual(DATES);
      expect(runs.every((r) => r.state === "success" && r.triggerId === TRIGGER)).toBe(true);
      // One after the other: each run started only after the previous one ended.
      const byStart = [...runs].sort((a, b) => (a.startedAt ?? "").localeCompare(b.startedAt ?? ""));
      for (let i = 1; i < byStart.length; i++) expect((byStart[i].startedAt ?? "") >= (byStart[i - 1].endedAt ?? "~")).toBe(true);
      const claims = await observer.triggers.listScheduledRuns(PIPELINE, TRIGGER);
      expect(claims.map((c) => c.status)).toEqual(DATES.map(() => "started"));
    } finally {
      for (const scheduler of schedulers) await scheduler.stop();
      for (const store of stores) await store.close();
      await db.cleanup();
    }
  }, 90_000);
});

describe.each(["sqlite", "postgres"] as const)("max_active_runs with two sluice scheduler processes (%s)", (kind) => {
  let dir: string;
  let shared: SharedStore;
  const processes: SluiceProcess[] = [];
  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "sluice-max-active-cli-"));
    writeNapProject(dir, 300);
    // Three overdue minutes (00:00 … 00:02), one run at a time.
    writeFileSync(
      path.join(dir, "pipelines", "taxi_nap", "triggers.yaml"),
      `version: 1
triggers:
  - name: one_at_a_time
    type: schedule
    interval: 1m
    start_date: 2024-01-01T00:00:00Z
    end_date: 2024-01-01T00:02:00Z
    missed_run_policy: all
    max_active_runs: 1
    on_max_active: wait
`,
    );
    shared = await openSharedStore(kind, dir);
  });
  afterEach(async () => {
    for (const p of processes.splice(0)) p.kill();
    await shared.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("never has two runs of the trigger active, and runs all three dates", async () => {
    for (let i = 0; i < 2; i++) processes.push(spawnSluice(dir, ["scheduler"], shared.env));
    const expected = [0, 1, 2].map((m) => new Date(START + m * MINUTE).toISOString());
    let mostActive = 0;
    const deadline = Date.now() + 150_000;
    for (;;) {
      const active = await shared.store.triggers.listActiveRuns("taxi_nap", "one_at_a_time");
      mostActive = Math.max(mostActive, active.length);
      const runs = await shared.store.listRuns({ pipeline: "taxi_nap", limit: 100 });
      const finished = runs.length >= expected.length && runs.every((r) => r.state !== "queued" && r.state !== "running");
      if (finished || Date.now() > deadline || processes.some((p) => p.child.exitCode !== null)) break;
      await sleep(20);
    }
    for (const p of processes) p.child.kill("SIGTERM");
    const exits = await Promise.all(processes.map((p) => p.exited));
    const output = processes.map((p) => p.output()).join("\n");
    expect({ exits, output }).toMatchObject({ exits: [{ code: 0 }, { code: 0 }] });
    expect(mostActive).toBe(1);
    const runs = await shared.store.listRuns({ pipeline: "taxi_nap", limit: 100 });
    expect(runs.map((r) => [r.logicalDate, r.state]).sort()).toEqual(expected.map((d) => [d, "success"]));
    // Each date was started by exactly one of the two processes.
    expect(output.match(/started schedule run/g)).toHaveLength(expected.length);
  }, 240_000);
});
