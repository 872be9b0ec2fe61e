/**
 * Exactly one run per (trigger, logical date): two schedulers on one database ticking the same instants
 * at the same time, then a restart (new schedulers, new connections) — on the embedded SQLite file and on
 * the real PostgreSQL (no mocks: the store under test is the one production uses).
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { dropSchema, freshSchemaName, TEST_DATABASE_URL } from "../../lib/store/metadata/pg-test-database";
import { PostgresRunStore } from "../../lib/store/metadata/postgres-run-store";
import type { MetadataStore } from "../../lib/store/metadata/run-store";
import { SqliteRunStore } from "../../lib/store/metadata/sqlite-run-store";
import { Scheduler } from "../../lib/scheduler/scheduler";
import { StaticTriggerSource } from "../../lib/scheduler/static-trigger-source";
import { recordingStartRun, scheduleTrigger } from "../../lib/scheduler/test-helpers";
import type { Trigger } from "../../lib/core/triggers-schema";

interface Backend {
  name: string;
  setup(): Promise<{ open(): Promise<MetadataStore>; cleanup(): Promise<void> }>;
}

const BACKENDS: Backend[] = [
  {
    name: "sqlite file",
    async setup() {
      const dir = mkdtempSync(path.join(os.tmpdir(), "sluice-sched-"));
      const file = path.join(dir, "sluice.db");
      return { open: () => SqliteRunStore.open(file), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: "postgres",
    async setup() {
      const schema = freshSchemaName("sluice_sched");
      return { open: () => PostgresRunStore.open(TEST_DATABASE_URL, { schema, maxConnections: 5 }), cleanup: () => dropSchema(schema) };
    },
  },
];

const START = Date.parse("2024-01-01T00:00:00Z");
const MINUTE = 60_000;

function triggers(): Trigger[] {
  const list: Trigger[] = [];
  for (let i = 0; i < 8; i++) list.push(scheduleTrigger(`every_${i + 1}m`, { kind: "interval", everyMs: (i + 1) * MINUTE, startMs: START, endMs: null }));
  list.push(scheduleTrigger("cron_ny", { kind: "cron", cron: "*/5 * * * *", timezone: "America/New_York", startMs: START, endMs: null }));
  list.push(scheduleTrigger("latest", { kind: "interval", everyMs: 2 * MINUTE, startMs: START, endMs: null }, { missedRunPolicy: "latest" }));
  return list;
}

/** Slots of `every_Nm` due by `now` (logical dates START + k·N with k·N + N ≤ now - START). */
function expectedSlots(everyMinutes: number, nowMs: number): number {
  return Math.floor((nowMs - START) / (everyMinutes * MINUTE));
}

describe.each(BACKENDS)("exactly-once scheduling on $name", (backend) => {
  it("two schedulers ticking the same instants concurrently create each run once, and so do new ones after a restart", async () => {
    const db = await backend.setup();
    const stores: MetadataStore[] = [];
    try {
      const open = async () => {
        const store = await db.open();
        stores.push(store);
        return store;
      };
      const source = new StaticTriggerSource({ etl: triggers(), other: triggers() });
      let clock = START + 30 * MINUTE + 500; // 30 minutes of catch-up on the first tick
      const make = async () => {
        const store = await open();
        return new Scheduler({ store: store.triggers, source, startRun: recordingStartRun(store).startRun, now: () => clock });
      };
      const [a, b] = [await make(), await make()];
      const instants = [0, 0, 1, 59_000, 60_000, 61_000, 120_000, 180_000, 180_000].map((d) => START + 30 * MINUTE + 500 + d);
      for (const instant of instants) {
        clock = instant;
        await Promise.all([a.tick(), b.tick()]);
      }

      // Restart: both gone, two new schedulers on new connections, time moved on 10 minutes.
      const [c, d] = [await make(), await make()];
      for (const instant of [clock, clock + 5 * MINUTE, clock + 10 * MINUTE, clock + 10 * MINUTE]) {
        clock = instant;
        await Promise.all([c.tick(), d.tick()]);
      }

      const check = await open();
      const runs = await check.listRuns({ limit: 1000 });
      const keys = runs.map((r) => `${r.pipeline}/${r.triggerId}@${r.logicalDate}`);
      expect(new Set(keys).size).toBe(keys.length); // no duplicates
      for (const pipeline of ["etl", "other"]) {
        for (let i = 0; i < 8; i++) {
          const mine = runs.filter((r) => r.pipeline === pipeline && r.triggerId === `every_${i + 1}m`);
          expect(mine).toHaveLength(expectedSlots(i + 1, clock)); // no gaps either
        }
        expect(runs.filter((r) => r.pipeline === pipeline && r.triggerId === "cron_ny")).toHaveLength(expectedSlots(5, clock));
      }
      const claims = await check.triggers.listScheduledRuns("etl", "every_1m", 1000);
      expect(claims.every((c) => c.status === "started" && c.runId !== null)).toBe(true);
      expect(claims).toHaveLength(expectedSlots(1, clock));
    } finally {
      for (const store of stores) await store.close();
      await db.cleanup();
    }
  });
});
