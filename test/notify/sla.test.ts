/**
 * `sla:` on a trigger: a run still active past it sends `sla_miss` once — once across ticks, across a
 * restarted scheduler on the same database, and between two schedulers on one PostgreSQL database — to a
 * real webhook receiver through the Notifier.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parsePipelineYaml } from "../../lib/core/pipeline-schema";
import { Notifier } from "../../lib/notify/notifier";
import { Scheduler } from "../../lib/scheduler/scheduler";
import { StaticTriggerSource } from "../../lib/scheduler/static-trigger-source";
import { apiTrigger } from "../../lib/scheduler/test-helpers";
import { dropSchema, freshSchemaName, TEST_DATABASE_URL } from "../../lib/store/metadata/pg-test-database";
import { PostgresRunStore } from "../../lib/store/metadata/postgres-run-store";
import type { MetadataStore } from "../../lib/store/metadata/run-store";
import { SqliteRunStore } from "../../lib/store/metadata/sqlite-run-store";
import { startHttpReceiver } from "./receivers";

const SLA_MS = 45 * 60_000;

describe("trigger sla: sla_miss sent once", () => {
  let http: Awaited<ReturnType<typeof startHttpReceiver>>;
  let dir: string;
  beforeAll(async () => {
    http = await startHttpReceiver();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-notify-sla-"));
  });
  afterAll(async () => {
    await http.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const trigger = apiTrigger("hook", { slaMs: SLA_MS, notify: [{ on: ["sla_miss"], channel: "ops" }] });
  const pipeline = parsePipelineYaml("version: 1\nname: etl\nblocks: []\n", "pipeline.yaml");

  function scheduler(store: MetadataStore, clock: () => number) {
    const notifier = new Notifier({
      channels: { ops: { kind: "webhook", url: `${http.url}/sla` } },
      pipelines: { read: async () => ({ pipeline, dir }) },
      runs: store,
      findTrigger: async () => trigger,
      runLink: () => null,
      report: (message) => {
        throw new Error(message);
      },
      redact: (text) => text,
    });
    const errors: unknown[] = [];
    const s = new Scheduler({
      store: store.triggers,
      source: new StaticTriggerSource({ etl: [trigger] }),
      startRun: async () => ({ runId: "unused" }),
      now: clock,
      onError: (error) => errors.push(error),
      onSlaMiss: (miss) => notifier.slaMissed(miss),
    });
    return { s, notifier, errors };
  }

  function slaNotices(): { run_id: string; event: string; sla: string }[] {
    return http.received.filter((r) => r.path === "/sla").map((r) => JSON.parse(r.body) as { run_id: string; event: string; sla: string });
  }

  test("SQLite: not before the SLA; once after it, also after a restart", async () => {
    const file = path.join(dir, "sluice.db");
    let store = await SqliteRunStore.open(file);
    const late = await store.createRun({ pipeline: "etl", trigger: "api", triggerId: "hook", logicalDate: new Date().toISOString(), variables: {}, mode: "pipeline", blocks: ["a"] });
    const created = Date.parse(late.createdAt);
    const before = http.received.length;

    const first = scheduler(store, () => created + SLA_MS - 1000);
    await first.s.tick();
    await first.notifier.drain();
    expect(http.received.length).toBe(before);

    let clock = created + SLA_MS + 1000;
    const second = scheduler(store, () => clock);
    await second.s.tick();
    clock += 10_000;
    await second.s.tick();
    await second.notifier.drain();
    expect(second.errors).toEqual([]);
    expect(slaNotices()).toEqual([expect.objectContaining({ run_id: late.id, event: "sla_miss", sla: "45m" })]);

    // A restart: a new process, the same database.
    await store.close();
    store = await SqliteRunStore.open(file);
    const restarted = scheduler(store, () => clock + 60_000);
    await restarted.s.tick();
    await restarted.notifier.drain();
    expect(slaNotices()).toHaveLength(1);
    await store.close();
  });

  test("PostgreSQL: two schedulers on one database send it once", async () => {
    const schema = freshSchemaName("notify_sla");
    const a = await PostgresRunStore.open(TEST_DATABASE_URL, { schema });
    const b = await PostgresRunStore.open(TEST_DATABASE_URL, { schema });
    try {
      const run = await a.createRun({ pipeline: "etl", trigger: "api", triggerId: "hook", logicalDate: new Date().toISOString(), variables: {}, mode: "pipeline", blocks: ["a"] });
      const clock = () => Date.parse(run.createdAt) + SLA_MS + 5000;
      const one = scheduler(a, clock);
      const two = scheduler(b, clock);
      await Promise.all([one.s.tick(), two.s.tick()]);
      await Promise.all([one.notifier.drain(), two.notifier.drain()]);
      expect(slaNotices().filter((n) => n.run_id === run.id)).toHaveLength(1);
    } finally {
      await a.close();
      await b.close();
      await dropSchema(schema);
    }
  });
});
