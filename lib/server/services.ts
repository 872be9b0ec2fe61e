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
import { recoverOrphanedRuns, RecoveryLoop, type RecoveredRun } from "../scheduler/recovery";
import { leaseSettingsFrom, RunLease, thisProcessOwner } from "../runner/run-lease";
import type { RunOwner } from "../store/metadata/run-store";
import { Scheduler } from "../scheduler/scheduler";
import { OutputStore } from "../store/output-store";
import { openRemoteOutputStore } from "./remote-output-connectors";
import { QueueMonitor } from "../worker/workers-info";
import { PipelineFiles } from "../store/pipeline-files";
import { LiveConnections } from "./live-connections";
import { secretRedactor, type Redactor } from "../io/redact";
import { redactingExecutor, redactingStore, SecretVariables } from "./redacting-sinks";
import { rawEnv, readEnv, type Env } from "./env";
import { messageOf } from "../core/errors";
import { loadChannels } from "../io/channels";
import { Notifier } from "../notify/notifier";
import { CallbackRunner } from "../notify/run-callbacks";

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
  /** `sluice.yaml` and `.env`, re-read when they change; the connections page reads and edits them here. */
  connections: LiveConnections;
  /** Hides secrets (profiles, `.env`, secret environment variables and pipeline variables); every sink uses it. */
  redactor: Redactor;
  /** Schedules from every pipeline's triggers.yaml; `start()` runs its loop (sluice start, sluice scheduler). */
  scheduler: Scheduler;
  /** This process's ownership of the runs it drives: a lease renewed by heartbeat, cancel requests polled. */
  lease: RunLease;
  /** Fails runs whose owner's lease expired (a dead process's); never a live process's. Returns how many. */
  recoverOrphanedRuns(): Promise<number>;
  /** Recovers now and then every lease period until `close()` (server, standalone scheduler). */
  startRecoveryLoop(report: (recovered: RecoveredRun[]) => void): Promise<void>;
  close(): Promise<void>;
}

export interface ServiceOptions {
  projectDir?: string;
  dataDir?: string;
  poolSize?: number;
  defaultTimeoutMs?: number;
  maxParallelBlocks?: number;
  env?: Env;
  /** What this process is, as recorded on the runs it owns (shown when recovery fails them). Default `server`. */
  ownerKind?: RunOwner["kind"];
  /** Re-read `sluice.yaml` and `.env` when they change (default true; a one-off CLI run has no use for it). */
  watchConnections?: boolean;
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
  const redactor = secretRedactor;
  // Registers every profile secret, env_var() value, `.env` value and secret-named environment variable, now
  // and on every reload. `profiles` and `blockEnv` are live objects: a reload updates them in place.
  const connections = await LiveConnections.open({
    projectDir,
    dataDir,
    env: rawEnv,
    redactor,
    onProblem: (problem) => console.error(`connections: ${problem.message}${problem.line === null ? "" : " (the last valid sluice.yaml stays in use)"}`),
  });
  if (options.watchConnections !== false) connections.watch();
  const profiles = connections.profiles;
  const redactText = (text: string): string => redactor.redact(text);
  const secretVariables = new SecretVariables(redactor);
  // Blocks read `.env` through ctx.env like sluice.yaml does; the process environment wins. A block process
  // gets the environment as it was when the process started (a warm process keeps its own).
  const blockEnv = connections.blockEnv;
  const remote = env.SLUICE_OUTPUT_URL ? openRemoteOutputStore(env.SLUICE_OUTPUT_URL, profiles, env.SLUICE_OUTPUT_CONNECTION) : undefined;
  const runs = redactingStore(await createRunStore(env, path.join(dataDir, "sluice.db")), redactor, secretVariables);
  const leaseSettings = leaseSettingsFrom({ leaseMs: env.SLUICE_LEASE_MS, heartbeatMs: env.SLUICE_HEARTBEAT_MS });
  const lease = await RunLease.acquire(runs, thisProcessOwner(options.ownerKind ?? "server"), leaseSettings);
  const outputs = new OutputStore(dataDir, { remote });
  const logs = new LogStore(dataDir, { redact: redactText });
  const prefix = env.SLUICE_QUEUE_PREFIX ?? DEFAULT_QUEUE_PREFIX;
  const workers = queueSetup ? new QueueMonitor(queueSetup.redisUrl, prefix) : null;
  const executor: RunScopedExecutor = redactingExecutor<RunScopedExecutor>(queueSetup
    ? new QueueExecutor({ redisUrl: queueSetup.redisUrl, prefix, projectDir, outputsDir: outputs.outputsDir, workerLostAfterMs: leaseSettings.leaseMs })
    : new LocalExecutor({
        projectDir,
        cacheDir: path.join(dataDir, "cache"),
        poolSize,
        blockMemoryBytes: env.SLUICE_BLOCK_MEMORY,
        defaultTimeoutMs: options.defaultTimeoutMs ?? DEFAULT_BLOCK_TIMEOUT_MS,
        profiles,
        dataDir,
        env: blockEnv,
      }), redactor);
  const runner = new Runner({
    projectDir,
    // Learning a pipeline's secret variables as the runner reads it, before the run is recorded.
    pipelines: {
      read: async (name) => {
        const loaded = await files.read(name);
        secretVariables.learn(loaded.pipeline);
        return loaded;
      },
    },
    store: lease.ownedStore(runs),
    outputs,
    logs,
    executor,
    maxParallelBlocks: options.maxParallelBlocks ?? poolSize,
    defaultTimeoutMs: options.defaultTimeoutMs ?? DEFAULT_BLOCK_TIMEOUT_MS,
    connections: () => ({ file: profiles.file ?? path.join(projectDir, "sluice.yaml"), names: Object.keys(profiles.connections) }),
  });
  runner.events.redactWith(redactText);
  // Notifications and callbacks listen beside the run; `close()` waits for what they are still sending.
  const publicUrl = rawEnv().SLUICE_PUBLIC_URL?.replace(/\/+$/, "");
  const notifier = new Notifier({
    channels: await loadChannels(projectDir, rawEnv()),
    pipelines: files,
    runs,
    findTrigger: (pipeline, name) => new TriggerFiles(files.root).find(pipeline, name),
    runLink: (runId) => (publicUrl ? `${publicUrl}/runs/${encodeURIComponent(runId)}` : null),
    report: (message) => console.error(message),
    redact: redactText,
    callbacks: new CallbackRunner({
      projectDir,
      cacheDir: path.join(dataDir, "cache"),
      env: blockEnv ?? rawEnv(),
      appendLog: (runId, name, line) => logs.append(runId, name, 1, line),
    }),
  });
  notifier.listen(runner.events);
  const reportProblem = (where: string) => (error: unknown) => console.error(`${where}: ${messageOf(error)}`);
  lease.watch({ cancel: (runId) => runner.cancel(runId), onError: (error, where) => reportProblem(where)(error) });
  let recoveryLoop: RecoveryLoop | null = null;
  const scheduler = new Scheduler({
    store: runs.triggers,
    source: new TriggerFiles(files.root),
    startRun: (request) => runner.start(request),
    cancelRun: (runId) => runner.cancel(runId),
    onError: (error, where) => console.error(`scheduler: ${where}: ${messageOf(error)}`),
    onSlaMiss: (miss) => notifier.slaMissed(miss),
  });
  return {
    projectDir,
    dataDir,
    files,
    connections,
    runs,
    outputs,
    logs,
    executor,
    workers,
    runner,
    redactor,
    scheduler,
    lease,
    async recoverOrphanedRuns() {
      return (await recoverOrphanedRuns(runs, new Date(), { isLive: (runId) => runner.isActive(runId) })).length;
    },
    async startRecoveryLoop(report) {
      recoveryLoop ??= new RecoveryLoop(
        () => recoverOrphanedRuns(runs, new Date(), { isLive: (runId) => runner.isActive(runId) }),
        leaseSettings.leaseMs,
        report,
        reportProblem("recovery"),
      );
      await recoveryLoop.start();
    },
    async close() {
      await notifier.drain();
      await recoveryLoop?.stop();
      await scheduler.stop();
      await executor.close();
      await workers?.close();
      await logs.close();
      await outputs.close();
      // After the executor closed: whatever run is still unfinished is orphaned now, and recoverable at once.
      await lease.release();
      await runs.close();
    },
  };
}
