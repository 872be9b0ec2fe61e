/**
 * `sluice worker` as a run owner: it holds a lease in the metadata store, the block runs it executes carry
 * its id, and a worker that dies or stops never leaves a run or a block run `running` once leases expired.
 *
 * Real processes (`sluice worker` via lib/cli/worker-process-main.ts), real Redis, real PostgreSQL (a schema of
 * this test's, shared by the workers through DATABASE_URL's search_path). The driving process — what
 * `sluice start` does — runs here: a Runner on a leased store with the QueueExecutor. Short leases
 * (SLUICE_LEASE_MS) and short job locks keep the waits short. The pipeline reads a real NYC taxi file.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Client } from "pg";
import { QueueExecutor } from "../../lib/executors/queue-executor";
import { closeRedis, openRedis } from "../../lib/executors/queue-redis";
import { leaseSettingsFrom, RunLease, thisProcessOwner } from "../../lib/runner/run-lease";
import { Runner } from "../../lib/runner/runner";
import { LogStore } from "../../lib/store/log-store";
import { dropSchema, freshSchemaName, TEST_DATABASE_URL } from "../../lib/store/metadata/pg-test-database";
import { PostgresRunStore } from "../../lib/store/metadata/postgres-run-store";
import { OutputStore } from "../../lib/store/output-store";
import { PipelineFiles } from "../../lib/store/pipeline-files";
import { spawnWorker, type SpawnedWorker } from "../../lib/worker/spawn-worker";
import { listWorkers } from "../../lib/worker/workers-info";
import { REDIS_URL, deleteRedisPrefix, uniquePrefix, waitFor, writePipeline } from "../distributed/helpers";
import { taxiDataDir } from "../taxi-data";

const LEASE_MS = 3000;
/** Job lock and stalled check of the workers: BullMQ re-delivers a dead worker's job within about 3 s. */
const WORKER_ARGS = ["--lock-duration", "2000", "--stalled-interval", "1000", "--grace", "500"];

/**
 * `trips` (SQL over the January 2024 green taxi file) → `nap` → `after`. `nap` ticks a file every 100 ms,
 * for `nap_ms` on its first start and 500 ms on any later one (a re-delivery or a retry).
 */
function writeTickingProject(projectDir: string, napRetries: number): void {
  const parquet = path.join(taxiDataDir(), "green_tripdata_2024-01.parquet");
  writePipeline(
    projectDir,
    "taxi_ticks",
    `version: 1
name: taxi_ticks
blocks:
  - { name: trips, type: loader, language: sql, upstream: [] }
  - { name: nap, type: transformer, language: ts, upstream: [trips], retries: { count: ${napRetries}, delay: 0 } }
  - { name: after, type: transformer, language: ts, upstream: [nap] }
`,
    {
      "trips.sql": `SELECT * FROM read_parquet('${parquet.replace(/'/g, "''")}')\n`,
      "nap.ts": `import fs from "node:fs";
export default async function nap(trips, ctx) {
  if (trips.schema.fields.length !== 20) throw new Error("expected the 20 taxi columns, got " + trips.schema.fields.length);
  const starts = ctx.variables.ticks + ".starts";
  const first = !fs.existsSync(starts);
  fs.appendFileSync(starts, "s");
  const until = Date.now() + (first ? Number(ctx.variables.nap_ms) : 500);
  while (Date.now() < until) {
    fs.appendFileSync(ctx.variables.ticks, "t");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return trips.slice(0, 100);
}
`,
      "after.ts": `export default async function after(input) {\n  return input;\n}\n`,
    },
  );
}

describe("sluice worker run ownership", () => {
  let projectDir: string;
  let dataDir: string;
  let schema: string;
  let prefix: string;
  let store: PostgresRunStore;
  let pg: Client;
  let lease: RunLease;
  let executor: QueueExecutor;
  let runner: Runner;
  let outputs: OutputStore;
  let logs: LogStore;
  let workers: SpawnedWorker[];
  let ticks: string;
  const redis = openRedis(REDIS_URL);

  beforeEach(async () => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-worker-own-"));
    dataDir = path.join(projectDir, ".sluice");
    ticks = path.join(projectDir, "ticks.txt");
    fs.writeFileSync(ticks, "");
    schema = freshSchemaName("sluice_worker_own");
    prefix = uniquePrefix("worker-own");
    store = await PostgresRunStore.open(TEST_DATABASE_URL, { schema, maxConnections: 4 });
    pg = new Client({ connectionString: TEST_DATABASE_URL });
    await pg.connect();
    outputs = new OutputStore(dataDir);
    logs = new LogStore(dataDir);
    // The driving process, as `sluice start` wires it: a leased store, cancel requests reach the runner.
    const settings = leaseSettingsFrom({ leaseMs: LEASE_MS });
    lease = await RunLease.acquire(store, thisProcessOwner("server"), settings);
    executor = new QueueExecutor({ redisUrl: REDIS_URL, prefix, projectDir, outputsDir: outputs.outputsDir, reconcileAfterMs: 300, workerLostAfterMs: LEASE_MS });
    runner = new Runner({
      projectDir,
      pipelines: new PipelineFiles(path.join(projectDir, "pipelines")),
      store: lease.ownedStore(store),
      outputs,
      logs,
      executor,
      maxParallelBlocks: 2,
      defaultTimeoutMs: 120_000,
    });
    lease.watch({ cancel: (runId) => runner.cancel(runId) });
    workers = [];
  });

  afterEach(async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill("SIGKILL");
    await Promise.all(workers.map((w) => w.exited));
    await executor.close();
    await lease.release();
    await logs.close();
    await outputs.close();
    await store.close();
    await pg.end();
    await dropSchema(schema);
    await deleteRedisPrefix(redis, prefix);
    fs.rmSync(projectDir, { recursive: true, force: true });
  });

  afterAll(async () => {
    await closeRedis(redis);
  });

  function startWorker(): Promise<SpawnedWorker> {
    const env = {
      REDIS_URL,
      SLUICE_PROJECT_DIR: projectDir,
      SLUICE_HOME: dataDir,
      DATABASE_URL: `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      SLUICE_LEASE_MS: String(LEASE_MS),
    };
    const started = spawnWorker({ args: ["--prefix", prefix, ...WORKER_ARGS], env });
    return started.then((w) => {
      workers.push(w);
      return w;
    });
  }

  /** The owner recorded on a block run (the store's API does not return it: read the table). */
  async function blockOwner(runId: string, block: string): Promise<string | null> {
    const { rows } = await pg.query(`SELECT owner_id FROM "${schema}".block_runs WHERE run_id = $1 AND block = $2`, [runId, block]);
    return rows[0]?.owner_id ?? null;
  }

  async function ownerRows(): Promise<Array<{ id: string; kind: string }>> {
    const { rows } = await pg.query(`SELECT id, kind FROM "${schema}".run_owners ORDER BY id`);
    return rows;
  }

  async function unfinished(): Promise<string[]> {
    const runs = (await store.findRunsInState(["queued", "running"])).map((r) => `run ${r.id}: ${r.state}`);
    const { rows } = await pg.query(`SELECT run_id, block, state FROM "${schema}".block_runs WHERE state IN ('queued', 'running')`);
    return [...runs, ...rows.map((r: { run_id: string; block: string; state: string }) => `block run ${r.run_id}/${r.block}: ${r.state}`)];
  }

  /** Waits until `nap` runs on one of `candidates` and its block run names that worker as its owner. */
  async function napOn(runId: string, ...candidates: SpawnedWorker[]): Promise<SpawnedWorker> {
    const worker = await waitFor(
      "nap stamped with a worker's id",
      async () => {
        const owner = await blockOwner(runId, "nap");
        return candidates.find((w) => w.id === owner);
      },
      60_000,
      100,
    );
    await waitFor("nap ticking", () => (fs.statSync(ticks).size > 0 ? true : undefined), 30_000);
    return worker;
  }

  it("registers as a worker owner; a SIGKILLed worker's block runs again on the other; the run succeeds; nothing stays running", async () => {
    writeTickingProject(projectDir, 0);
    const both = await Promise.all([startWorker(), startWorker()]);
    expect(await ownerRows()).toEqual(expect.arrayContaining(both.map((w) => ({ id: w.id, kind: "worker" }))));
    const started = await runner.start({ pipeline: "taxi_ticks", variables: { nap_ms: 60_000, ticks } });
    const first = await napOn(started.runId, ...both);
    const second = both.find((w) => w !== first)!;

    first.child.kill("SIGKILL");
    expect(await first.exited).toBe("SIGKILL");
    const outcome = await started.done;
    expect(outcome.blocks.map((b) => [b.name, b.state, b.attempt])).toEqual([
      ["trips", "success", 1],
      ["nap", "success", 1],
      ["after", "success", 1],
    ]);
    expect(outcome.state).toBe("success");
    // BullMQ's re-delivery ran it, and the record names the worker that finished it.
    expect(await blockOwner(started.runId, "nap")).toBe(second.id);
    const lines = (await logs.read(started.runId, "nap")).map((l) => l.message);
    expect(lines.some((m) => m.includes(`delivery 2 on worker ${second.id}`))).toBe(true);

    // Once the dead worker's lease expired, the live worker's recovery forgets it; nothing is left running.
    await waitFor("the dead worker's owner row to go", async () => ((await ownerRows()).some((o) => o.id === first.id) ? undefined : true), 4 * LEASE_MS + 5000, 200);
    expect((await ownerRows()).map((o) => o.id)).toContain(second.id);
    expect(await unfinished()).toEqual([]);

    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
    expect((await ownerRows()).map((o) => o.id)).not.toContain(second.id); // released on the way out, not left to expire
  }, 180_000);

  it("no worker takes a SIGKILLed worker's job up: after the lease the attempt fails naming it, and the retry succeeds on a later worker", async () => {
    writeTickingProject(projectDir, 1);
    const first = await startWorker();
    const started = await runner.start({ pipeline: "taxi_ticks", variables: { nap_ms: 60_000, ticks } });
    await napOn(started.runId, first);
    first.child.kill("SIGKILL");
    await first.exited;
    const killedAt = Date.now();

    // The first attempt ends failed (retryable) with the dead worker named; the runner queues the retry.
    const failedAttempt = await waitFor(
      "nap's first attempt to fail",
      async () => (await store.listAttempts(started.runId, "nap")).find((a) => a.attempt === 1 && a.state !== "running"),
      60_000,
      200,
    );
    const lostAfterMs = Date.now() - killedAt;
    expect(failedAttempt.error?.code).toBe("worker_lost");
    expect(failedAttempt.error?.message).toContain(`worker ${first.id} (host ${os.hostname()}, pid ${first.pid}) stopped while running job ${started.runId}:nap:1`);
    // Its heartbeat expires (6 s), then one lease passes without another delivery.
    expect(lostAfterMs).toBeGreaterThanOrEqual(LEASE_MS);
    expect(lostAfterMs).toBeLessThan(6000 + LEASE_MS + 5000);
    // The retry is what the record shows now: attempt 2, waiting for a worker.
    await waitFor("nap's retry", async () => {
      const nap = (await store.getRun(started.runId))?.blockRuns.find((b) => b.block === "nap");
      return nap?.state === "running" && nap.attempt === 2 ? true : undefined;
    }, 10_000, 100);

    const second = await startWorker();
    const outcome = await started.done;
    expect(outcome.state).toBe("success");
    expect(outcome.blocks.find((b) => b.name === "nap")).toMatchObject({ state: "success", attempt: 2 });
    expect((await store.listAttempts(started.runId, "nap")).map((a) => [a.attempt, a.state])).toEqual([
      [1, "up_for_retry"],
      [2, "success"],
    ]);
    expect(await blockOwner(started.runId, "nap")).toBe(second.id);
    expect(await unfinished()).toEqual([]);
  }, 180_000);

  it("SIGTERM hands the running block back after the grace, releases the lease at once and exits 0; another worker finishes it", async () => {
    writeTickingProject(projectDir, 0);
    const first = await startWorker();
    const started = await runner.start({ pipeline: "taxi_ticks", variables: { nap_ms: 60_000, ticks } });
    await napOn(started.runId, first);

    const stoppedAt = Date.now();
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(15_000); // grace 500 ms, not the 60 s nap
    expect(first.output()).toContain(`worker ${first.id} stopped`);
    expect((await ownerRows()).map((o) => o.id)).not.toContain(first.id);
    // Handed back: still running for the run, held by no worker until one takes the job.
    expect((await store.getRun(started.runId))?.blockRuns.find((b) => b.block === "nap")?.state).toBe("running");
    expect(await blockOwner(started.runId, "nap")).toBeNull();

    const second = await startWorker();
    const outcome = await started.done;
    expect(outcome.state).toBe("success");
    expect(outcome.blocks.find((b) => b.name === "nap")).toMatchObject({ state: "success", attempt: 1 });
    expect(await blockOwner(started.runId, "nap")).toBe(second.id);
    expect(fs.readFileSync(`${ticks}.starts`, "utf8")).toBe("ss"); // handed back once, finished on the second worker
    expect(await unfinished()).toEqual([]);
  }, 180_000);

  it("a cancel request on a run whose block runs on a worker stops that block within 2 s", async () => {
    writeTickingProject(projectDir, 0);
    const worker = await startWorker();
    const started = await runner.start({ pipeline: "taxi_ticks", variables: { nap_ms: 60_000, ticks } });
    await napOn(started.runId, worker);

    const requestedAt = Date.now();
    expect(await store.requestCancel(started.runId, new Date(requestedAt).toISOString())).toBe(true);
    const outcome = await started.done;
    expect(outcome.state).toBe("cancelled");
    expect(outcome.blocks.map((b) => [b.name, b.state])).toEqual([
      ["trips", "success"],
      ["nap", "cancelled"],
      ["after", "cancelled"],
    ]);
    // The block itself stopped on the worker: its ticks end within 2 s of the request.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, requestedAt + 2000 - Date.now())));
    const sizeAt2s = fs.statSync(ticks).size;
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(fs.statSync(ticks).size).toBe(sizeAt2s);
    await waitFor("the worker to drop the job", async () => {
      const live = await listWorkers(redis, prefix);
      return live.length === 1 && live[0].currentJobs.length === 0 ? true : undefined;
    }, 10_000, 200);
    expect(await unfinished()).toEqual([]);
    worker.child.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
  }, 180_000);
});
