/**
 * The queue executor and workers beyond the runner contract: heartbeats and queue counts for the workers
 * page, a graceful shutdown that hands a running job back to another worker, the per-pipeline cap, queue
 * routing, and idempotent re-enqueueing of an attempt (a restarted executor gets the finished job's result,
 * the block does not run again). Real Redis; the workers run in this process.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { QueueExecutor, type QueueJobInfo } from "../../lib/executors/queue-executor";
import { closeRedis, openRedis } from "../../lib/executors/queue-redis";
import type { BlockRunRequest } from "../../lib/executors/types";
import type { BlockSpec } from "../../lib/core/model";
import { OutputStore } from "../../lib/store/output-store";
import { BlockWorker } from "../../lib/worker/block-worker";
import { listWorkers, queueCounts } from "../../lib/worker/workers-info";
import { REDIS_URL, deleteRedisPrefix, uniquePrefix, waitFor, writePipeline } from "./helpers";

const SLEEPER = `
import { tableFromArrays } from "apache-arrow";
import fs from "node:fs";
export default async function load(ctx) {
  fs.appendFileSync(ctx.variables.counter, ctx.block + "\\n");
  await new Promise((resolve) => setTimeout(resolve, ctx.variables.sleep_ms));
  return tableFromArrays({ x: Int32Array.from([1, 2]) });
}`;

function spec(name: string, queue: string | null = null): BlockSpec {
  return { name, type: "loader", language: "ts", upstream: [], retries: { count: 0, delayMs: 0, backoff: "constant", maxDelayMs: 0 }, timeoutMs: null, connection: null, queue };
}

describe("queue executor and workers", () => {
  const prefix = uniquePrefix("lifecycle");
  const redis = openRedis(REDIS_URL);
  let projectDir: string;
  let dataDir: string;
  let outputs: OutputStore;
  let counter: string;
  const started: BlockWorker[] = [];
  const executors: QueueExecutor[] = [];

  function request(block: string, runId: string, sleepMs: number, queue: string | null = null, attempt = 1): BlockRunRequest {
    return {
      runId,
      pipelineName: "sleepers",
      pipelineDir: path.join(projectDir, "pipelines", "sleepers"),
      projectDir,
      block: spec(block, queue),
      inputs: [],
      variables: { counter, sleep_ms: sleepMs },
      logicalDate: "2026-01-01T00:00:00.000Z",
      dataInterval: { start: "2026-01-01T00:00:00.000Z", end: "2026-01-01T00:00:00.000Z" },
      attempt,
      timeoutMs: 30_000,
      signal: new AbortController().signal,
      onLog: () => undefined,
      onProgress: () => undefined,
      outputs,
    };
  }

  async function worker(queues: string[] = ["default"], concurrency = 1): Promise<BlockWorker> {
    const w = await BlockWorker.start({ redisUrl: REDIS_URL, prefix, queues, concurrency, projectDir, dataDir, heartbeatIntervalMs: 200 });
    started.push(w);
    return w;
  }

  function executor(extra: { maxPerPipeline?: number; onJobDone?: (info: QueueJobInfo) => void } = {}): QueueExecutor {
    const e = new QueueExecutor({ redisUrl: REDIS_URL, prefix, projectDir, outputsDir: outputs.outputsDir, reconcileAfterMs: 500, ...extra });
    executors.push(e);
    return e;
  }

  const runs = (): string[] => fs.readFileSync(counter, "utf8").split("\n").filter(Boolean);

  beforeAll(() => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-lifecycle-"));
    dataDir = path.join(projectDir, ".sluice");
    counter = path.join(projectDir, "counter.txt");
    fs.writeFileSync(counter, "");
    writePipeline(projectDir, "sleepers", "version: 1\nname: sleepers\nblocks: []\n", {
      "s1.ts": SLEEPER,
      "s2.ts": SLEEPER,
      "s3.ts": SLEEPER,
      "heavy.ts": SLEEPER,
      "again.ts": SLEEPER,
    });
    outputs = new OutputStore(dataDir);
  });

  afterAll(async () => {
    for (const e of executors) await e.close();
    for (const w of started) await w.close(100);
    await deleteRedisPrefix(redis, prefix);
    await closeRedis(redis);
    await outputs.close();
    fs.rmSync(projectDir, { recursive: true, force: true });
  });

  it("heartbeats list running jobs; queue counts show them; a closing worker hands its job back to another", async () => {
    const first = await worker();
    const exec = executor();
    const logs: string[] = [];
    const req = { ...request("s1", "run-handback", 2500), onLog: (line: { message: string }) => logs.push(line.message) };
    const result = exec.execute(req);
    const holder = await waitFor("the job in a heartbeat", async () => {
      const live = await listWorkers(redis, prefix);
      return live.find((w) => w.currentJobs.some((j) => j.jobId === "run-handback:s1:1"));
    });
    expect(holder).toMatchObject({ id: first.id, pid: process.pid, concurrency: 1, queues: ["default"], state: "running" });
    expect(await queueCounts(redis, prefix)).toEqual([{ queue: "default", waiting: 0, active: 1, delayed: 0, completed: 0, failed: 0 }]);

    await waitFor("the block to start", () => (runs().includes("s1") ? true : undefined));
    const second = await worker();
    await first.close(200); // grace over before the block ends: the job goes back to the queue
    const output = await result;
    expect(output.output?.summary.rows).toBe(2);
    expect(runs().filter((b) => b === "s1")).toHaveLength(2);
    expect(logs.some((m) => m.includes(`delivery 2 on worker ${second.id}`))).toBe(true);
    const live = await listWorkers(redis, prefix);
    expect(live.map((w) => w.id)).toEqual([second.id]);
  });

  it("cancel reaches the worker: the running block is aborted and its slot freed", async () => {
    const w = await worker(["cancel_q"]);
    const exec = executor();
    const controller = new AbortController();
    const running = exec.execute({ ...request("s2", "run-cancel", 60_000, "cancel_q"), signal: controller.signal });
    await waitFor("the block to start", () => (runs().includes("s2") ? true : undefined));
    controller.abort();
    await expect(running).rejects.toThrow(/cancelled/);
    await waitFor("the worker to drop the job", () => (w.runningJobs === 0 ? true : undefined), 5000);
  });

  it("caps jobs per pipeline: three blocks of one pipeline on three free slots run one at a time", async () => {
    await worker(["default"], 3);
    const done: QueueJobInfo[] = [];
    const exec = executor({ maxPerPipeline: 1, onJobDone: (info) => done.push(info) });
    await Promise.all(["s1", "s2", "s3"].map((b) => exec.execute(request(b, "run-cap", 150))));
    const spans = done.map((d) => [d.startedAt, d.endedAt] as const).sort((a, b) => a[0] - b[0]);
    expect(spans).toHaveLength(3);
    for (let i = 1; i < spans.length; i++) expect(spans[i][0]).toBeGreaterThanOrEqual(spans[i - 1][1]);
  });

  it("routes a block to its queue: only a worker of that queue runs it", async () => {
    const heavy = await worker(["heavy"]);
    const done: QueueJobInfo[] = [];
    const exec = executor({ onJobDone: (info) => done.push(info) });
    await exec.execute(request("heavy", "run-route", 10, "heavy"));
    expect(done).toMatchObject([{ queue: "heavy", workerId: heavy.id }]);
    await expect(exec.execute(request("heavy", "run-route2", 10, "bad:queue"))).rejects.toThrow(/queue "bad:queue" may use letters/);
  });

  it("re-enqueueing a finished attempt (a restarted executor) returns its result without running the block again", async () => {
    const before = runs().filter((b) => b === "again").length;
    const one = await executor().execute(request("again", "run-again", 10));
    const two = await executor().execute(request("again", "run-again", 10));
    expect(two.output?.ref.path).toBe(one.output?.ref.path);
    expect(runs().filter((b) => b === "again").length - before).toBe(1);
  });
});
