/**
 * Issue 6, faults: "Redis going away and coming back: the run resumes, no block runs twice to success".
 *
 * A private redis-server (persistence as docker-compose.yml runs it: append-only file — see
 * redis-server.ts and docs/distributed.md), two `sluice worker` processes, a 25-block pipeline through the
 * Runner and the QueueExecutor with run metadata in PostgreSQL. Mid-run Redis is SIGKILLed and started
 * again, after 2 s, and after 8 s — longer than the job lock, so BullMQ may hand the running jobs out again
 * while their first workers still run them. The run must end succeeded, every block succeeded with exactly
 * one recorded attempt, and every TypeScript block's code must have run to its end exactly once (each
 * appends a line to a file as its last act).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { QueueExecutor } from "../../lib/executors/queue-executor";
import { Runner } from "../../lib/runner/runner";
import { LogStore } from "../../lib/store/log-store";
import { dropSchema, freshSchemaName } from "../../lib/store/metadata/pg-test-database";
import { PostgresRunStore } from "../../lib/store/metadata/postgres-run-store";
import { OutputStore } from "../../lib/store/output-store";
import { PipelineFiles } from "../../lib/store/pipeline-files";
import { spawnWorker, type SpawnedWorker } from "../../lib/worker/spawn-worker";
import { QueueMonitor } from "../../lib/worker/workers-info";
import { POSTGRES_URL, waitFor, writePipeline } from "./helpers";
import { startPrivateRedis, type PrivateRedis } from "./redis-server";

const LANES = 8;

const SOURCE = `
import { tableFromArrays } from "apache-arrow";
import fs from "node:fs";
export default async function load(ctx) {
  const ids = Int32Array.from({ length: 50 }, (_, i) => i + 1);
  const table = tableFromArrays({ row_id: ids, value: Array.from(ids, (i) => "v" + i) });
  fs.appendFileSync(ctx.variables.executions, ctx.block + " " + process.pid + "\\n");
  return table;
}`;

/** Sleeps, then records that it ran to its end: a second line for a block means it ran twice to success. */
const SLOW_PASS = `
import fs from "node:fs";
export default async function pass(input, ctx) {
  await new Promise((resolve) => setTimeout(resolve, ctx.variables.sleep_ms));
  fs.appendFileSync(ctx.variables.executions, ctx.block + " " + process.pid + "\\n");
  return input;
}`;

function writeLanes(projectDir: string): string[] {
  const blocks = ["  - { name: src, type: loader, language: ts, upstream: [] }"];
  const files: Record<string, string> = { "src.ts": SOURCE };
  const tsBlocks = ["src"];
  for (let lane = 0; lane < LANES; lane++) {
    const id = String(lane).padStart(2, "0");
    blocks.push(`  - { name: a_${id}, type: transformer, language: ts, upstream: [src] }`);
    blocks.push(`  - { name: b_${id}, type: transformer, language: sql, upstream: [a_${id}] }`);
    blocks.push(`  - { name: c_${id}, type: transformer, language: ts, upstream: [b_${id}] }`);
    files[`a_${id}.ts`] = SLOW_PASS;
    files[`b_${id}.sql`] = `SELECT row_id, value FROM a_${id} ORDER BY row_id`;
    files[`c_${id}.ts`] = SLOW_PASS;
    tsBlocks.push(`a_${id}`, `c_${id}`);
  }
  writePipeline(projectDir, "lanes", `version: 1\nname: lanes\nblocks:\n${blocks.join("\n")}\n`, files);
  return tsBlocks;
}

describe("distributed workers: Redis killed and restarted mid-run", () => {
  const prefix = "sluice-restart";
  const schema = freshSchemaName("sluice_redis_restart");
  let redis: PrivateRedis;
  let projectDir: string;
  let dataDir: string;
  let workers: SpawnedWorker[] = [];
  let runs: PostgresRunStore;
  let logs: LogStore;
  let outputs: OutputStore;
  let executor: QueueExecutor;
  let tsBlocks: string[];

  beforeAll(async () => {
    redis = await startPrivateRedis();
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-redis-restart-"));
    dataDir = path.join(projectDir, ".sluice");
    tsBlocks = writeLanes(projectDir);
    // The workers share this test's metadata schema (they hold run-owner leases there).
    runs = await PostgresRunStore.open(POSTGRES_URL, { schema });
    const databaseUrl = `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    const env = { REDIS_URL: redis.url, SLUICE_PROJECT_DIR: projectDir, SLUICE_HOME: dataDir, DATABASE_URL: databaseUrl };
    const args = ["--concurrency", "2", "--prefix", prefix];
    workers = await Promise.all([spawnWorker({ args, env }), spawnWorker({ args, env })]);
    outputs = new OutputStore(dataDir);
    logs = new LogStore(dataDir);
    executor = new QueueExecutor({ redisUrl: redis.url, prefix, projectDir, outputsDir: outputs.outputsDir });
  }, 120_000);

  afterAll(async () => {
    await executor?.close();
    for (const worker of workers) if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill("SIGKILL");
    await Promise.all(workers.map((w) => w.exited));
    await redis?.close();
    await logs?.close();
    await outputs?.close();
    await runs?.close();
    await dropSchema(schema, POSTGRES_URL).catch(() => undefined);
    fs.rmSync(projectDir, { recursive: true, force: true });
  });

  it.each([
    ["2 s, shorter than the job lock", 2000],
    ["8 s, longer than the job lock (6 s)", 8000],
  ])("down %s: the run resumes, every block succeeds once", async (_label, downMs) => {
    const executions = path.join(projectDir, `executions-${downMs}.txt`);
    fs.writeFileSync(executions, "");
    const runner = new Runner({
      projectDir,
      pipelines: new PipelineFiles(path.join(projectDir, "pipelines")),
      store: runs,
      outputs,
      logs,
      executor,
      maxParallelBlocks: 6,
      defaultTimeoutMs: 120_000,
    });
    const started = await runner.start({ pipeline: "lanes", variables: { executions, sleep_ms: 800 } });
    const lines = (): string[] => fs.readFileSync(executions, "utf8").split("\n").filter(Boolean);

    // Mid-run: some blocks done, others queued or running on the workers.
    await waitFor("a few blocks to finish", () => (lines().length >= 4 ? true : undefined), 60_000);
    const before = await runs.getRun(started.runId);
    const doneBefore = before?.blockRuns.filter((b) => b.state === "success").length ?? 0;
    expect(doneBefore).toBeLessThan(20);
    // Kill while a worker holds a job, so the outage overlaps a running block (the case that matters).
    const monitor = new QueueMonitor(redis.url, prefix);
    try {
      await waitFor("a job held by a worker", async () => ((await monitor.snapshot()).queues.some((q) => q.active > 0) ? true : undefined), 30_000);
    } finally {
      await monitor.close();
    }
    await redis.kill();
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await redis.start();

    const outcome = await started.done;
    expect(outcome.blocks.filter((b) => b.state !== "success").map((b) => `${b.name}: ${b.state} ${b.error?.message ?? ""}`)).toEqual([]);
    expect(outcome.state).toBe("success");
    expect(outcome.blocks).toHaveLength(1 + 3 * LANES);

    // One recorded attempt per block, succeeded.
    const attempts = await runs.listAttempts(started.runId);
    expect(attempts).toHaveLength(1 + 3 * LANES);
    expect(attempts.every((a) => a.attempt === 1 && a.state === "success")).toBe(true);

    // Every TypeScript block ran to its end exactly once.
    const counts = new Map<string, number>();
    for (const line of lines()) counts.set(line.split(" ")[0], (counts.get(line.split(" ")[0]) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual([...tsBlocks].sort());
    expect([...counts.entries()].filter(([, n]) => n !== 1)).toEqual([]);

    // Whether BullMQ hands a job out again depends on where its lock stood at the kill; when it does, the later
    // delivery waits for the first or returns its recorded result (lines in the block's log). The invariant
    // above (one attempt, one execution per block) is what must hold either way.
  }, 180_000);

  it("the workers page's monitor says Redis is away while it is, and sees the workers again after", async () => {
    const monitor = new QueueMonitor(redis.url, prefix);
    try {
      expect((await monitor.snapshot()).workers.map((w) => w.pid).sort()).toEqual(workers.map((w) => w.pid).sort());
      await redis.kill();
      await expect(monitor.snapshot()).rejects.toMatchObject({ code: "redis_unreachable" });
      await redis.start();
      const back = await waitFor("the workers' heartbeats after the restart", async () => {
        const snapshot = await monitor.snapshot().catch(() => undefined);
        return snapshot && snapshot.workers.length === 2 ? snapshot : undefined;
      });
      expect(back.queues.map((q) => q.queue)).toEqual(["default"]);
    } finally {
      await monitor.close();
    }
  }, 60_000);
});
