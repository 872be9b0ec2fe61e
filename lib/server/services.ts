import os from "node:os";
import path from "node:path";
import { LocalExecutor } from "../executors/local-executor";
import { DEFAULT_QUEUE_PREFIX } from "../executors/queue-protocol";
import { QueueExecutor } from "../executors/queue-executor";
import { checkQueueSetup } from "../executors/queue-setup";
import type { RunScopedExecutor } from "../executors/types";
import { Runner } from "../runner/runner";
import { LogStore } from "../store/log-store";
import { createRunStore } from "../store/metadata/open-run-store";
import type { MetadataStore } from "../store/metadata/run-store";
import { TriggerFiles } from "../store/trigger-files";
import { recoverOrphanedRuns } from "../scheduler/recovery";
import { Scheduler } from "../scheduler/scheduler";
import { OutputStore } from "../store/output-store";
import { openRemoteOutputStore } from "../store/remote-output-connectors";
import { QueueMonitor } from "../worker/workers-info";
import { PipelineFiles } from "../store/pipeline-files";
import { loadProfiles } from "../io/profiles";
import { rawEnv, readEnv, type Env } from "./env";

/** Everything a Sluice process needs, wired once (the composition root). */
export interface Services {
  projectDir: string;
  dataDir: string;
  files: PipelineFiles;
  runs: MetadataStore;
  outputs: OutputStore;
  logs: LogStore;
  executor: RunScopedExecutor;
  /** Workers and queues for the workers page; null with the local executor (no Redis). */
  workers: QueueMonitor | null;
  runner: Runner;
  /** Schedules from every pipeline's triggers.yaml; `start()` runs its loop (sluice start, sluice scheduler). */
  scheduler: Scheduler;
  /** Fails runs a dead process left queued or running; call once at start-up, before starting new runs. */
  recoverOrphanedRuns(): Promise<number>;
  close(): Promise<void>;
}

export interface ServiceOptions {
  projectDir?: string;
  dataDir?: string;
  poolSize?: number;
  defaultTimeoutMs?: number;
  maxParallelBlocks?: number;
  env?: Env;
}

const DEFAULT_BLOCK_TIMEOUT_MS = 60 * 60 * 1000;

export async function createServices(options: ServiceOptions = {}): Promise<Services> {
  const env = options.env ?? readEnv();
  const projectDir = path.resolve(options.projectDir ?? env.SLUICE_PROJECT_DIR ?? process.cwd());
  const dataDir = path.resolve(projectDir, options.dataDir ?? env.SLUICE_HOME ?? ".sluice");
  const poolSize = options.poolSize ?? env.SLUICE_POOL_SIZE ?? Math.max(2, os.availableParallelism());
  // Checked before anything opens: a refused setup leaves nothing to close.
  const queueSetup =
    env.SLUICE_EXECUTOR === "queue"
      ? checkQueueSetup({ redisUrl: env.REDIS_URL, databaseUrl: env.DATABASE_URL, singleMachine: env.SLUICE_WORKERS_LOCAL ?? false, who: "executor: queue" })
      : null;
  const files = new PipelineFiles(path.join(projectDir, "pipelines"));
  const profiles = await loadProfiles(projectDir, rawEnv());
  const remote = env.SLUICE_OUTPUT_URL ? openRemoteOutputStore(env.SLUICE_OUTPUT_URL, profiles, env.SLUICE_OUTPUT_CONNECTION) : undefined;
  const runs = await createRunStore(env, path.join(dataDir, "sluice.db"));
  const outputs = new OutputStore(dataDir, { remote });
  const logs = new LogStore(dataDir);
  const prefix = env.SLUICE_QUEUE_PREFIX ?? DEFAULT_QUEUE_PREFIX;
  const workers = queueSetup ? new QueueMonitor(queueSetup.redisUrl, prefix) : null;
  const executor: RunScopedExecutor = queueSetup
    ? new QueueExecutor({ redisUrl: queueSetup.redisUrl, prefix, projectDir, outputsDir: outputs.outputsDir })
    : new LocalExecutor({
        projectDir,
        cacheDir: path.join(dataDir, "cache"),
        poolSize,
        defaultTimeoutMs: options.defaultTimeoutMs ?? DEFAULT_BLOCK_TIMEOUT_MS,
        profiles,
        dataDir,
      });
  const runner = new Runner({
    projectDir,
    pipelines: files,
    store: runs,
    outputs,
    logs,
    executor,
    maxParallelBlocks: options.maxParallelBlocks ?? poolSize,
    defaultTimeoutMs: options.defaultTimeoutMs ?? DEFAULT_BLOCK_TIMEOUT_MS,
  });
  const scheduler = new Scheduler({
    store: runs.triggers,
    source: new TriggerFiles(files.root),
    startRun: (request) => runner.start(request),
    cancelRun: (runId) => runner.cancel(runId),
    onError: (error, where) => console.error(`scheduler: ${where}: ${error instanceof Error ? error.message : String(error)}`),
  });
  return {
    projectDir,
    dataDir,
    files,
    runs,
    outputs,
    logs,
    executor,
    workers,
    runner,
    scheduler,
    async recoverOrphanedRuns() {
      return (await recoverOrphanedRuns(runs, new Date(), { isLive: (runId) => runner.isActive(runId) })).length;
    },
    async close() {
      await scheduler.stop();
      await executor.close();
      await workers?.close();
      await logs.close();
      await outputs.close();
      await runs.close();
    },
  };
}
