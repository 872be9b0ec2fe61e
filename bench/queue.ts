import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { LocalExecutor } from "../lib/executors/local-executor";
import { QueueExecutor } from "../lib/executors/queue-executor";
import { closeRedis, openRedis } from "../lib/executors/queue-redis";
import type { BlockRunRequest, BlockRunResult, RunScopedExecutor } from "../lib/executors/types";
import { Runner } from "../lib/runner/runner";
import { LogStore } from "../lib/store/log-store";
import { SqliteRunStore } from "../lib/store/metadata/sqlite-run-store";
import { OutputStore } from "../lib/store/output-store";
import { PipelineFiles } from "../lib/store/pipeline-files";
import { spawnWorker, type SpawnedWorker } from "../lib/worker/spawn-worker";
import { ms, type BenchRow } from "./report";

const REDIS_URL = "redis://127.0.0.1:6379";
const BLOCKS = 100;
const RUNS = 10; // 1,000 block runs
const WORKERS = 2;
const CONCURRENCY = 4;
const PARALLEL = 16;

const TRIVIAL = `import { tableFromArrays } from "apache-arrow";
export default async function t(ctx) { ctx.log.info("start"); return tableFromArrays({ x: Int32Array.from([1]) }); }`;

function writeProject(dir: string): void {
  const pipelineDir = path.join(dir, "pipelines", "wide");
  fs.mkdirSync(pipelineDir, { recursive: true });
  const blocks = Array.from({ length: BLOCKS }, (_, i) => `  - { name: b${i}, type: loader, language: ts, upstream: [] }`);
  fs.writeFileSync(path.join(pipelineDir, "pipeline.yaml"), `version: 1\nname: wide\ndescription: ${BLOCKS} independent trivial blocks\nblocks:\n${blocks.join("\n")}\n`);
  for (let i = 0; i < BLOCKS; i++) fs.writeFileSync(path.join(pipelineDir, `b${i}.ts`), TRIVIAL);
}

/** Wraps an executor to time "handed to the executor" → "block code started" (its first log line). */
class TimedExecutor implements RunScopedExecutor {
  readonly latencies: number[] = [];
  constructor(private readonly inner: RunScopedExecutor) {}
  execute(request: BlockRunRequest): Promise<BlockRunResult> {
    const handedAt = Date.now();
    let first = true;
    return this.inner.execute({
      ...request,
      onLog: (line) => {
        if (first) {
          first = false;
          this.latencies.push(Date.parse(line.at) - handedAt);
        }
        request.onLog(line);
      },
    });
  }
  endRun(runId: string): Promise<void> {
    return this.inner.endRun(runId);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

interface Measured {
  blockRunsPerSecond: number;
  p50: number;
  p95: number;
}

async function measure(dir: string, label: string, executor: RunScopedExecutor, outputs: OutputStore): Promise<Measured> {
  const dataDir = path.join(dir, `.data-${label}`);
  const runs = await SqliteRunStore.open(path.join(dataDir, "sluice.db"));
  const logs = new LogStore(dataDir);
  const timed = new TimedExecutor(executor);
  const runner = new Runner({ projectDir: dir, pipelines: new PipelineFiles(path.join(dir, "pipelines")), store: runs, outputs, logs, executor: timed, maxParallelBlocks: PARALLEL, defaultTimeoutMs: 60_000 });
  try {
    // Warm-up: compile every block on every worker (each worker keeps its own compile cache).
    for (let i = 0; i < 2; i++) await runner.run({ pipeline: "wide" });
    timed.latencies.length = 0;
    const started = performance.now();
    for (let i = 0; i < RUNS; i++) {
      const outcome = await runner.run({ pipeline: "wide" });
      if (outcome.state !== "success") throw new Error(`${label}: run ${outcome.state}`);
    }
    const seconds = (performance.now() - started) / 1000;
    return { blockRunsPerSecond: (BLOCKS * RUNS) / seconds, p50: percentile(timed.latencies, 50), p95: percentile(timed.latencies, 95) };
  } finally {
    await logs.close();
    await runs.close();
  }
}

/**
 * 1,000 trivial block runs (10 runs of 100 independent blocks, 16 in flight) through the queue executor and
 * 2 worker processes (4 slots each), beside the local executor (8 threads) in the same process. Latency is
 * "runner hands the block to the executor" → "block code starts" (its first log line), the same for both.
 */
export async function benchQueue(): Promise<BenchRow[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-bench-queue-"));
  writeProject(dir);
  const dataDir = path.join(dir, ".sluice");
  const outputs = new OutputStore(dataDir);
  const prefix = `sluice-bench-${randomBytes(4).toString("hex")}`;
  let workers: SpawnedWorker[] = [];
  try {
    const local = new LocalExecutor({ projectDir: dir, cacheDir: path.join(dataDir, "cache"), poolSize: WORKERS * CONCURRENCY });
    const baseline = await measure(dir, "local", local, outputs).finally(() => local.close());

    const env = { REDIS_URL, SLUICE_PROJECT_DIR: dir, SLUICE_HOME: dataDir, DATABASE_URL: "" };
    const args = ["--concurrency", String(CONCURRENCY), "--prefix", prefix, "--local"];
    workers = await Promise.all(Array.from({ length: WORKERS }, () => spawnWorker({ args, env })));
    const queue = new QueueExecutor({ redisUrl: REDIS_URL, prefix, projectDir: dir, outputsDir: outputs.outputsDir });
    const queued = await measure(dir, "queue", queue, outputs).finally(() => queue.close());

    const bench = `${BLOCKS * RUNS} trivial block runs`;
    return [
      {
        bench,
        metric: `throughput, queue: ${WORKERS} workers × ${CONCURRENCY} slots`,
        value: `${queued.blockRunsPerSecond.toFixed(0)} runs/s`,
        baseline: `${baseline.blockRunsPerSecond.toFixed(0)} runs/s (local, ${WORKERS * CONCURRENCY} threads)`,
        target: "—",
      },
      { bench, metric: "enqueue → start, p50", value: ms(queued.p50), baseline: `${ms(baseline.p50)} (local)`, target: "—" },
      { bench, metric: "enqueue → start, p95", value: ms(queued.p95), baseline: `${ms(baseline.p95)} (local)`, target: "—" },
    ];
  } finally {
    for (const worker of workers) worker.child.kill("SIGTERM");
    await Promise.all(workers.map((w) => w.exited));
    const redis = openRedis(REDIS_URL);
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", "1000");
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== "0");
    await closeRedis(redis);
    await outputs.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
