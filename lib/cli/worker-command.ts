import path from "node:path";
import { DEFAULT_QUEUE, DEFAULT_QUEUE_PREFIX } from "../executors/queue-protocol";
import { checkQueueSetup } from "../executors/queue-setup";
import { loadProfiles } from "../io/profiles";
import { leaseSettingsFrom } from "../runner/run-lease";
import { rawEnv, readEnv, type Env } from "../server/env";
import { createRunStore } from "../store/metadata/open-run-store";
import { openRemoteOutputStore } from "../server/remote-output-connectors";
import { BlockWorker } from "../worker/block-worker";
import { defineWorkerCommand, type WorkerOptions } from "./command-definitions";
import { parseCommandLine } from "./command-line";
import type { CliIo } from "./run-command";

export interface WorkerCommandDeps {
  env?: Env;
  /** Resolves when the process is asked to stop; default: SIGTERM or SIGINT. */
  stopSignal?: Promise<unknown>;
}

function processStop(): Promise<string> {
  return new Promise((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
}

/**
 * `sluice worker`: pulls block jobs from the queues and runs them until SIGTERM/SIGINT, then finishes the
 * running blocks (or hands them back after `--grace`). Prints `worker <id> ready …` once pulling.
 */
export async function workerCommand(argv: string[], io: CliIo, deps: WorkerCommandDeps = {}): Promise<number> {
  const { options: values } = parseCommandLine<WorkerOptions>("worker", defineWorkerCommand, argv);
  const env = deps.env ?? readEnv();
  const singleMachine = (values.local ?? false) || (env.SLUICE_WORKERS_LOCAL ?? false);
  const setup = checkQueueSetup({ redisUrl: env.REDIS_URL, databaseUrl: env.DATABASE_URL, singleMachine, who: "sluice worker" });
  const projectDir = path.resolve(env.SLUICE_PROJECT_DIR ?? process.cwd());
  const dataDir = path.resolve(projectDir, env.SLUICE_HOME ?? ".sluice");
  const queues = (values.queue ?? [DEFAULT_QUEUE]).flatMap((q) => q.split(",")).filter((q) => q.length > 0);
  const concurrency = values.concurrency ?? 1;
  const grace = values.grace ?? 30_000;
  const remoteOutputs = env.SLUICE_OUTPUT_URL
    ? openRemoteOutputStore(env.SLUICE_OUTPUT_URL, await loadProfiles(projectDir, rawEnv()), env.SLUICE_OUTPUT_CONNECTION)
    : undefined;
  const lockDurationMs = values.lockDuration ?? 6000;
  const stalledIntervalMs = values.stalledInterval ?? 2000;
  // The server's metadata store: the worker holds a run-owner lease there, stamps the block runs it executes
  // and recovers dead owners' runs (PostgreSQL, or this machine's SQLite file in a single-machine setup).
  const runs = await createRunStore(env, path.join(dataDir, "sluice.db"));
  let worker: BlockWorker;
  try {
    worker = await BlockWorker.start({
      redisUrl: setup.redisUrl,
      prefix: values.prefix ?? env.SLUICE_QUEUE_PREFIX ?? DEFAULT_QUEUE_PREFIX,
      remoteOutputs,
      queues,
      concurrency,
      projectDir,
      dataDir,
      blockMemoryBytes: env.SLUICE_BLOCK_MEMORY,
      lockDurationMs,
      stalledIntervalMs,
      metadata: {
        store: runs,
        lease: leaseSettingsFrom({ leaseMs: env.SLUICE_LEASE_MS, heartbeatMs: env.SLUICE_HEARTBEAT_MS }),
        onRecovered: (recovered) => {
          for (const run of recovered) io.stdout.write(`recovered run ${run.runId} (${run.pipeline}): ${run.previousState} → ${run.state}: ${run.reason}\n`);
        },
      },
      log: (message) => io.stderr.write(`worker: ${message}\n`),
    });
  } catch (error) {
    await runs.close();
    throw error;
  }
  const outputsAt = remoteOutputs ? `, outputs mirrored to ${remoteOutputs.url}` : "";
  io.stdout.write(`worker ${worker.id} ready: queues ${worker.queues.join(",")}, concurrency ${worker.concurrency}, pid ${process.pid}${outputsAt}\n`);
  const why = await (deps.stopSignal ?? processStop());
  io.stdout.write(`worker ${worker.id} stopping (${String(why)}): finishing ${worker.runningJobs} running block(s)…\n`);
  await worker.close(grace);
  await runs.close();
  io.stdout.write(`worker ${worker.id} stopped\n`);
  return 0;
}
