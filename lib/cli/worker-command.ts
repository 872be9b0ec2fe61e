import path from "node:path";
import { parseArgs } from "node:util";
import { UserError } from "../core/errors";
import { DEFAULT_QUEUE, DEFAULT_QUEUE_PREFIX } from "../executors/queue-protocol";
import { checkQueueSetup } from "../executors/queue-setup";
import { loadProfiles } from "../io/profiles";
import { rawEnv, readEnv, type Env } from "../server/env";
import { openRemoteOutputStore } from "../store/remote-output-connectors";
import { BlockWorker } from "../worker/block-worker";
import type { CliIo } from "./run-command";

export const WORKER_USAGE = `usage: sluice worker [--concurrency N] [--queue q]... [--prefix p] [--local]
                     [--lock-duration ms] [--stalled-interval ms] [--grace ms]
  needs REDIS_URL, and DATABASE_URL unless --local (every worker on this machine, sharing its data directory);
  SLUICE_QUEUE_PREFIX is the default --prefix; SLUICE_OUTPUT_URL=s3://… or gs://… mirrors outputs for workers
  that share no disk (client settings from the sluice.yaml connection SLUICE_OUTPUT_CONNECTION)`;

export interface WorkerCommandDeps {
  env?: Env;
  /** Resolves when the process is asked to stop; default: SIGTERM or SIGINT. */
  stopSignal?: Promise<unknown>;
}

function positiveInt(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UserError("usage", `--${flag}: "${value}" is not a whole number ≥ 1\n${WORKER_USAGE}`);
  return n;
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
  const { values } = parseArgs({
    args: argv,
    options: {
      concurrency: { type: "string" },
      queue: { type: "string", multiple: true },
      prefix: { type: "string" },
      local: { type: "boolean", default: false },
      "lock-duration": { type: "string" },
      "stalled-interval": { type: "string" },
      grace: { type: "string" },
    },
  });
  const env = deps.env ?? readEnv();
  const setup = checkQueueSetup({ redisUrl: env.REDIS_URL, databaseUrl: env.DATABASE_URL, singleMachine: values.local ?? false, who: "sluice worker" });
  const projectDir = path.resolve(env.SLUICE_PROJECT_DIR ?? process.cwd());
  const dataDir = path.resolve(projectDir, env.SLUICE_HOME ?? ".sluice");
  const queues = (values.queue ?? [DEFAULT_QUEUE]).flatMap((q) => q.split(",")).filter((q) => q.length > 0);
  const concurrency = positiveInt("concurrency", values.concurrency, 1);
  const grace = positiveInt("grace", values.grace, 30_000);
  const remoteOutputs = env.SLUICE_OUTPUT_URL
    ? openRemoteOutputStore(env.SLUICE_OUTPUT_URL, await loadProfiles(projectDir, rawEnv()), env.SLUICE_OUTPUT_CONNECTION)
    : undefined;
  const worker = await BlockWorker.start({
    redisUrl: setup.redisUrl,
    prefix: values.prefix ?? env.SLUICE_QUEUE_PREFIX ?? DEFAULT_QUEUE_PREFIX,
    remoteOutputs,
    queues,
    concurrency,
    projectDir,
    dataDir,
    lockDurationMs: positiveInt("lock-duration", values["lock-duration"], 6000),
    stalledIntervalMs: positiveInt("stalled-interval", values["stalled-interval"], 2000),
    log: (message) => io.stderr.write(`worker: ${message}\n`),
  });
  const outputsAt = remoteOutputs ? `, outputs mirrored to ${remoteOutputs.url}` : "";
  io.stdout.write(`worker ${worker.id} ready: queues ${worker.queues.join(",")}, concurrency ${worker.concurrency}, pid ${process.pid}${outputsAt}\n`);
  const why = await (deps.stopSignal ?? processStop());
  io.stdout.write(`worker ${worker.id} stopping (${String(why)}): finishing ${worker.runningJobs} running block(s)…\n`);
  await worker.close(grace);
  io.stdout.write(`worker ${worker.id} stopped\n`);
  return 0;
}
