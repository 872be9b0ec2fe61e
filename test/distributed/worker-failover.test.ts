/**
 * Issue 6, "done when": two `sluice worker` processes, a 50-block pipeline through the QueueExecutor and
 * the Runner, one worker SIGKILLed mid-run — right after the Postgres exporter committed, before its job
 * completed. Every block ends succeeded exactly once, the exporter's job runs again on the other worker
 * within ~10 s (noted in its log), and the export table (no unique key: a duplicate would show) holds each
 * row exactly once thanks to delete-then-insert by run id in one transaction.
 *
 * Real Redis, real Postgres, real processes; the run metadata is in PostgreSQL (PostgresRunStore, a
 * schema of its own), the workers run as they would on other machines (DATABASE_URL, no --local) and
 * share the output store directory.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Client } from "pg";
import { QueueExecutor } from "../../lib/executors/queue-executor";
import { closeRedis, openRedis } from "../../lib/executors/queue-redis";
import { Runner } from "../../lib/runner/runner";
import { LogStore } from "../../lib/store/log-store";
import { dropSchema, freshSchemaName } from "../../lib/store/metadata/pg-test-database";
import { PostgresRunStore } from "../../lib/store/metadata/postgres-run-store";
import { OutputStore } from "../../lib/store/output-store";
import { PipelineFiles } from "../../lib/store/pipeline-files";
import { spawnWorker, type SpawnedWorker } from "../../lib/worker/spawn-worker";
import { listWorkers } from "../../lib/worker/workers-info";
import { POSTGRES_URL, REDIS_URL, deleteRedisPrefix, uniquePrefix, waitFor, writePipeline } from "./helpers";

const ROWS = 20;
const LANES = 12;

const SOURCE = `
import { tableFromArrays } from "apache-arrow";
export default async function load() {
  const ids = Int32Array.from({ length: ${ROWS} }, (_, i) => i + 1);
  return tableFromArrays({ row_id: ids, value: Array.from(ids, (i) => "v" + i) });
}`;

const SLOW_PASS = `
export default async function pass(input) {
  await new Promise((resolve) => setTimeout(resolve, 300));
  return input;
}`;

/** Idempotent per run: delete-then-insert by run id in one transaction. Lingers after the commit on its first start only. */
const EXPORTER = `
import pg from "pg";
export default async function save(input, ctx) {
  const table = ctx.variables.export_table;
  const client = new pg.Client(ctx.env("SLUICE_TEST_PG"));
  await client.connect();
  let first = false;
  try {
    // The block runs in a child process of the worker: its parent is the \`sluice worker\` process.
    await client.query("INSERT INTO " + table + "_starts (run_id, pid) VALUES ($1, $2)", [ctx.runId, process.ppid]);
    const starts = await client.query("SELECT count(*)::int AS n FROM " + table + "_starts WHERE run_id = $1", [ctx.runId]);
    first = starts.rows[0].n === 1;
    const ids = input.getChild("row_id").toArray();
    const values = input.getChild("value").toArray();
    await client.query("BEGIN");
    await client.query("DELETE FROM " + table + " WHERE run_id = $1", [ctx.runId]);
    await client.query(
      "INSERT INTO " + table + " (run_id, row_id, value) SELECT $1, * FROM unnest($2::int[], $3::text[])",
      [ctx.runId, Array.from(ids), Array.from(values)],
    );
    await client.query("COMMIT");
  } finally {
    await client.end();
  }
  ctx.log.info("committed " + input.numRows + " rows");
  // Work after the commit (say, a notification): the test kills this worker here on the first start.
  if (first) await new Promise((resolve) => setTimeout(resolve, 5000));
}`;

function writeFiftyBlocks(projectDir: string): number {
  // The exporter comes first among src's downstreams, so the runner queues it before the lanes.
  const blocks: string[] = ["  - { name: src, type: loader, language: ts, upstream: [] }", "  - { name: to_pg, type: exporter, language: ts, upstream: [src] }"];
  const files: Record<string, string> = { "src.ts": SOURCE, "to_pg.ts": EXPORTER };
  for (let lane = 0; lane < LANES; lane++) {
    const id = String(lane).padStart(2, "0");
    // TS → SQL → SQL → TS: the SQL → SQL step crosses processes through the persisted Parquet file.
    blocks.push(`  - { name: a_${id}, type: transformer, language: ts, upstream: [src] }`);
    blocks.push(`  - { name: b_${id}, type: transformer, language: sql, upstream: [a_${id}] }`);
    blocks.push(`  - { name: c_${id}, type: transformer, language: sql, upstream: [b_${id}] }`);
    blocks.push(`  - { name: d_${id}, type: transformer, language: ts, upstream: [c_${id}] }`);
    files[`a_${id}.ts`] = SLOW_PASS;
    files[`b_${id}.sql`] = `SELECT row_id, value FROM a_${id} ORDER BY row_id`;
    files[`c_${id}.sql`] = `SELECT row_id, value FROM b_${id} ORDER BY row_id`;
    files[`d_${id}.ts`] = SLOW_PASS;
  }
  writePipeline(projectDir, "fifty", `version: 1\nname: fifty\ndescription: 50 blocks\nblocks:\n${blocks.join("\n")}\n`, files);
  return blocks.length;
}

describe("distributed workers: a worker SIGKILLed mid-run", () => {
  const prefix = uniquePrefix("failover");
  const table = `sluice_failover_${process.pid}_${Date.now()}`;
  let projectDir: string;
  let dataDir: string;
  let pg: Client;
  let workers: SpawnedWorker[] = [];
  let runs: PostgresRunStore;
  const schema = freshSchemaName("sluice_failover");
  let logs: LogStore;
  let outputs: OutputStore;
  let executor: QueueExecutor;

  beforeAll(async () => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-failover-"));
    dataDir = path.join(projectDir, ".sluice");
    pg = new Client(POSTGRES_URL);
    await pg.connect();
    await pg.query(`CREATE TABLE ${table} (run_id text NOT NULL, row_id int NOT NULL, value text)`); // no unique key on purpose
    await pg.query(`CREATE TABLE ${table}_starts (run_id text NOT NULL, pid int NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    // Workers as on other machines: DATABASE_URL (PostgreSQL metadata, this test's schema), no --local.
    runs = await PostgresRunStore.open(POSTGRES_URL, { schema });
    const databaseUrl = `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    const env = { REDIS_URL, SLUICE_PROJECT_DIR: projectDir, SLUICE_HOME: dataDir, SLUICE_TEST_PG: POSTGRES_URL, DATABASE_URL: databaseUrl };
    const args = ["--concurrency", "3", "--prefix", prefix];
    workers = await Promise.all([spawnWorker({ args, env }), spawnWorker({ args, env })]);
  });

  afterAll(async () => {
    await executor?.close();
    for (const worker of workers) if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill("SIGKILL");
    await Promise.all(workers.map((w) => w.exited));
    const redis = openRedis(REDIS_URL);
    await deleteRedisPrefix(redis, prefix);
    await closeRedis(redis);
    await pg?.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    await pg?.query(`DROP TABLE IF EXISTS ${table}_starts`).catch(() => undefined);
    await pg?.end();
    await logs?.close();
    await outputs?.close();
    await runs?.close();
    await dropSchema(schema, POSTGRES_URL).catch(() => undefined);
    fs.rmSync(projectDir, { recursive: true, force: true });
  });

  it("re-runs the lost jobs on the other worker; every block succeeds once; the export holds each row once", async () => {
    const blockCount = writeFiftyBlocks(projectDir);
    expect(blockCount).toBe(50);
    outputs = new OutputStore(dataDir);
    logs = new LogStore(dataDir);
    executor = new QueueExecutor({ redisUrl: REDIS_URL, prefix, projectDir, outputsDir: outputs.outputsDir });
    const runner = new Runner({
      projectDir,
      pipelines: new PipelineFiles(path.join(projectDir, "pipelines")),
      store: runs,
      outputs,
      logs,
      executor,
      maxParallelBlocks: 8,
      defaultTimeoutMs: 60_000,
    });
    const redis0 = openRedis(REDIS_URL);
    const live = await listWorkers(redis0, prefix);
    await closeRedis(redis0);
    expect(live.map((w) => w.pid).sort()).toEqual(workers.map((w) => w.pid).sort());
    expect(live.every((w) => w.concurrency === 3 && w.queues.join() === "default" && w.state === "running")).toBe(true);

    const started = await runner.start({ pipeline: "fifty", variables: { export_table: table } });

    // The exporter committed on its first start and now lingers: kill the worker that runs it.
    await waitFor("the exporter's commit", async () => {
      const { rows } = await pg.query(`SELECT count(*)::int AS n FROM ${table} WHERE run_id = $1`, [started.runId]);
      return rows[0].n === ROWS ? true : undefined;
    });
    const redis = openRedis(REDIS_URL);
    try {
      // The exporter recorded the pid of the worker process that runs it.
      const { rows: firstStart } = await pg.query(`SELECT pid FROM ${table}_starts WHERE run_id = $1`, [started.runId]);
      const victim = workers.find((w) => w.pid === firstStart[0].pid);
      expect(victim).toBeDefined();
      const killedAt = Date.now();
      victim!.child.kill("SIGKILL");
      const atKill = await runs.getRun(started.runId);
      const doneAtKill = atKill?.blockRuns.filter((b) => b.state === "success").length ?? 0;
      expect(doneAtKill).toBeLessThan(45); // mid-run: blocks still waiting or running
      const survivor = workers.find((w) => w !== victim)!;

      const outcome = await started.done;
      expect(outcome.blocks.filter((b) => b.state !== "success").map((b) => `${b.name}: ${b.state} ${b.error?.message ?? ""}`)).toEqual([]);
      expect(outcome.state).toBe("success");
      expect(outcome.blocks).toHaveLength(50);
      expect(outcome.blocks.every((b) => b.attempt === 1)).toBe(true);

      // Exactly one recorded attempt per block, and it succeeded.
      const attempts = await runs.listAttempts(started.runId);
      expect(attempts).toHaveLength(50);
      expect(attempts.every((a) => a.attempt === 1 && a.state === "success")).toBe(true);

      // The exporter started twice (killed worker, then the survivor), within ~10 s of the kill.
      const starts = await pg.query(`SELECT pid, extract(epoch FROM at) * 1000 AS at FROM ${table}_starts WHERE run_id = $1 ORDER BY at`, [started.runId]);
      expect(starts.rows).toHaveLength(2);
      expect(starts.rows[0].pid).not.toBe(starts.rows[1].pid);
      const rerunAfterMs = Number(starts.rows[1].at) - killedAt;
      expect(rerunAfterMs).toBeLessThan(12_000);

      // Each row exactly once.
      const exported = await pg.query(`SELECT row_id, count(*)::int AS n FROM ${table} WHERE run_id = $1 GROUP BY row_id ORDER BY row_id`, [started.runId]);
      expect(exported.rows).toHaveLength(ROWS);
      expect(exported.rows.every((r: { n: number }) => r.n === 1)).toBe(true);

      // The lost delivery is in the exporter's log.
      const lines = (await logs.read(started.runId, "to_pg")).map((l) => l.message);
      expect(lines.some((m) => /delivery 2 on worker /.test(m))).toBe(true);

      // The dead worker's heartbeat expires; the survivor stops gracefully on SIGTERM.
      await waitFor("the dead worker to leave the workers list", async () => {
        const live = await listWorkers(redis, prefix);
        return live.length === 1 && live[0].pid === survivor.pid ? true : undefined;
      });
      survivor.child.kill("SIGTERM");
      expect(await survivor.exited).toBe(0);
      expect(await listWorkers(redis, prefix)).toEqual([]);
    } finally {
      await closeRedis(redis);
    }
  }, 90_000);
});
