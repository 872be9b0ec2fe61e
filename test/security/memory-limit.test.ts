/**
 * A runaway block cannot take the server down. A TypeScript block keeps allocating 64 MiB Buffers (filled,
 * so every page is resident) towards 8 GiB — memory V8's heap limit does not cover. With `memory: 256m` the
 * block's process is killed by the pool's watchdog and the block fails alone with `memory_limit`, naming
 * itself and the limit, after its one retry; a run going on beside it in the same server (real NYC taxi
 * data, 20 columns, SQL → TS → TS) succeeds and the server keeps serving. The same block on a `sluice
 * worker` (queue executor, real Redis) fails the same way while the worker process lives on and runs the
 * next block. The machine has 24 GiB: the 256 MiB limit fires long before it is at risk.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { OperationalError } from "../../lib/core/errors";
import { DEFAULT_RETRY_POLICY, type BlockSpec } from "../../lib/core/model";
import { QueueExecutor } from "../../lib/executors/queue-executor";
import { closeRedis, openRedis } from "../../lib/executors/queue-redis";
import type { BlockRunRequest } from "../../lib/executors/types";
import { OutputStore } from "../../lib/store/output-store";
import { spawnWorker, type SpawnedWorker } from "../../lib/worker/spawn-worker";
import { startSluice, type StartedServer } from "../../e2e/server";
import { REDIS_URL, deleteRedisPrefix, uniquePrefix } from "../distributed/helpers";
import { taxiDataDir } from "../taxi-data";
import { writePipeline } from "../write-pipeline";

jest.setTimeout(600_000);

/** Up to 128 × 64 MiB = 8 GiB, all kept alive. */
const BUFFER_HOG = `
export default async function hog(ctx) {
  const keep = [];
  for (let i = 0; i < 128; i++) {
    keep.push(Buffer.alloc(64 * 1024 * 1024, 1));
    if (i % 8 === 0) ctx.log.info("holding " + (keep.length * 64) + " MiB");
  }
  return [{ held_mib: keep.length * 64 }];
}`;

const TAXI_PARQUET = path.join(taxiDataDir(), "green_tripdata_2024-01.parquet");

/** SQL → TS → TS over a real 20-column taxi file, slow enough to overlap the hog. */
function writeSteadyPipeline(projectDir: string): void {
  writePipeline(
    projectDir,
    "steady",
    `version: 1
name: steady
blocks:
  - { name: trips, type: loader, language: sql, upstream: [] }
  - { name: long_trips, type: transformer, language: ts, upstream: [trips] }
  - { name: check, type: transformer, language: ts, upstream: [long_trips] }
`,
    {
      "trips.sql": `SELECT * FROM read_parquet('${TAXI_PARQUET}')`,
      "long_trips.ts": `export default async function longTrips(input, ctx) {
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const distance = input.getChild("trip_distance");
  const keep = [];
  for (let i = 0; i < input.numRows; i++) if (distance.get(i) > 5) keep.push(i);
  ctx.log.info("columns " + input.numCols + ", rows " + input.numRows + ", long " + keep.length);
  return input;
}`,
      "check.ts": `export default async function check(input) {
  return [{ columns: input.numCols, rows: input.numRows }];
}`,
    },
  );
}

describe("a block over its memory limit fails alone", () => {
  describe("in sluice start (local executor)", () => {
    let projectDir: string;
    let server: StartedServer;

    const call = async (method: string, url: string, body?: unknown) => {
      const response = await fetch(`${server.url}${url}`, {
        method,
        headers: { "Content-Type": "application/json", Origin: server.url },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    };

    interface RunDetail {
      run: { state: string };
      blocks: { block: string; state: string; attempt: number; rows: number | null; error: { code: string; message: string } | null }[];
    }

    const finished = async (runId: string): Promise<RunDetail> => {
      const deadline = Date.now() + 300_000;
      for (;;) {
        const detail = (await call("GET", `/api/runs/${runId}`)).body as unknown as RunDetail;
        if (["success", "failed", "cancelled"].includes(detail.run.state)) return detail;
        if (Date.now() > deadline) throw new Error(`run ${runId} still ${detail.run.state}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    };

    beforeAll(async () => {
      projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-memory-limit-"));
      writePipeline(
        projectDir,
        "runaway",
        `version: 1
name: runaway
blocks:
  - { name: buffer_hog, type: loader, language: ts, upstream: [], memory: 256m, retries: { count: 1, delay: 100ms } }
`,
        { "buffer_hog.ts": BUFFER_HOG },
      );
      writeSteadyPipeline(projectDir);
      server = await startSluice(projectDir);
    }, 600_000);

    afterAll(async () => {
      await server?.stop();
      if (projectDir) fs.rmSync(projectDir, { recursive: true, force: true });
    });

    it("kills the runaway block with memory_limit (after its retry) while a concurrent run succeeds and the server stays up", async () => {
      const steady = await call("POST", "/api/pipelines/steady/runs", {});
      expect(steady.status).toBe(201);
      const runaway = await call("POST", "/api/pipelines/runaway/runs", {});
      expect(runaway.status).toBe(201);

      const [hogRun, steadyRun] = await Promise.all([finished(String(runaway.body.run_id)), finished(String(steady.body.run_id))]);

      expect(hogRun.run.state).toBe("failed");
      const hog = hogRun.blocks.find((b) => b.block === "buffer_hog");
      expect(hog).toMatchObject({ state: "failed", attempt: 2, error: { code: "memory_limit" } });
      expect(hog?.error?.message).toMatch(/^block buffer_hog exceeded its memory limit of 256 MiB \(its process reached [\d.]+ [MG]iB resident\)/);

      expect(steadyRun.run.state).toBe("success");
      expect(steadyRun.blocks.map((b) => [b.block, b.state])).toEqual([
        ["trips", "success"],
        ["long_trips", "success"],
        ["check", "success"],
      ]);
      const page = await call("GET", `/api/runs/${String(steady.body.run_id)}/blocks/check/output?limit=1`);
      expect(page.status).toBe(200);
      expect(JSON.stringify(page.body.rows)).toMatch(/"columns":20/);

      // The server process lives on and still runs blocks.
      expect(server.process.exitCode).toBeNull();
      expect(server.process.signalCode).toBeNull();
      const again = await call("POST", "/api/pipelines/steady/runs", { block: "check", mode: "with_upstream" });
      expect(again.status).toBe(201);
      expect((await finished(String(again.body.run_id))).run.state).toBe("success");
    });
  });

  describe("in sluice worker (queue executor)", () => {
    const prefix = uniquePrefix("memory-limit");
    let projectDir: string;
    let dataDir: string;
    let worker: SpawnedWorker;
    let outputs: OutputStore;
    let executor: QueueExecutor;

    const spec = (name: string, memoryBytes?: number): BlockSpec => ({
      name,
      type: "loader",
      language: "ts",
      upstream: [],
      retries: DEFAULT_RETRY_POLICY,
      timeoutMs: null,
      connection: null,
      queue: null,
      ...(memoryBytes === undefined ? {} : { memoryBytes }),
    });

    const request = (block: BlockSpec, runId: string): BlockRunRequest => ({
      runId,
      pipelineName: "blocks",
      pipelineDir: path.join(projectDir, "pipelines", "blocks"),
      projectDir,
      block,
      inputs: [],
      variables: {},
      logicalDate: "2026-01-01T00:00:00.000Z",
      dataInterval: { start: "2026-01-01T00:00:00.000Z", end: "2026-01-01T00:00:00.000Z" },
      attempt: 1,
      timeoutMs: 300_000,
      signal: new AbortController().signal,
      onLog: () => undefined,
      onProgress: () => undefined,
      outputs,
    });

    beforeAll(async () => {
      projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-memory-limit-worker-"));
      dataDir = path.join(projectDir, ".sluice");
      writePipeline(projectDir, "blocks", "version: 1\nname: blocks\nblocks: []\n", {
        "buffer_hog.ts": BUFFER_HOG,
        // A 20-column taxi table through ctx.sql, returned whole: big enough to cross processes through files.
        "taxi.ts": `export default async function taxi(ctx) {
  await new Promise((resolve) => setTimeout(resolve, 2000));
  return ctx.sql("SELECT * FROM read_parquet('${TAXI_PARQUET}')");
}`,
      });
      worker = await spawnWorker({ args: ["--local", "--concurrency", "2", "--prefix", prefix], env: { REDIS_URL, SLUICE_PROJECT_DIR: projectDir, SLUICE_HOME: dataDir } });
      outputs = new OutputStore(dataDir);
      executor = new QueueExecutor({ redisUrl: REDIS_URL, prefix, projectDir, outputsDir: outputs.outputsDir });
    }, 120_000);

    afterAll(async () => {
      await executor?.close();
      if (worker && worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill("SIGTERM");
      await worker?.exited;
      const redis = openRedis(REDIS_URL);
      await deleteRedisPrefix(redis, prefix);
      await closeRedis(redis);
      await outputs?.close();
      if (projectDir) fs.rmSync(projectDir, { recursive: true, force: true });
    });

    it("fails the runaway block with memory_limit; the worker survives and its other block succeeds", async () => {
      const runId = `memlimit${Date.now()}`;
      const [hog, taxi] = await Promise.allSettled([executor.execute(request(spec("buffer_hog", 256 * 1024 * 1024), runId)), executor.execute(request(spec("taxi"), runId))]);

      expect(hog.status).toBe("rejected");
      const error = hog.status === "rejected" ? hog.reason : null;
      expect(error).toBeInstanceOf(OperationalError);
      expect(error instanceof OperationalError && error.code).toBe("memory_limit");
      expect(String(error instanceof Error && error.message)).toMatch(/^block buffer_hog exceeded its memory limit of 256 MiB/);

      expect(taxi.status).toBe("fulfilled");
      const output = taxi.status === "fulfilled" ? taxi.value.output : null;
      expect(output?.summary.columns).toHaveLength(20);
      expect(output?.summary.rows).toBeGreaterThan(50_000);

      // The worker process is alive and still takes jobs.
      expect(worker.child.exitCode).toBeNull();
      expect(worker.child.signalCode).toBeNull();
      const next = await executor.execute(request(spec("taxi"), `${runId}b`));
      expect(next.output?.summary.columns).toHaveLength(20);
      expect(worker.output()).not.toMatch(/heap out of memory|FATAL/);
    });
  });
});
