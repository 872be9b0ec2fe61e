/**
 * A Sluice worker: pulls block jobs from BullMQ queues and runs each with a
 * `LocalExecutor`, the very runtime `sluice run` uses (block processes under a memory limit for
 * TypeScript, DuckDB for SQL): a block over its limit fails alone, the worker lives on.
 *
 * - Inputs are the upstreams' persisted files in the shared output store (in-memory IPC never crosses
 *   processes); a SQL block reads SQL upstreams from their Parquet files. The per-run DuckDB database of
 *   the local runtime lives here per run and is freed on the executor's `end_run` message (or when idle).
 * - Heartbeats into Redis every couple of seconds (`workers-info.ts`).
 * - Lock tuning: the job lock lasts `lockDurationMs` (renewed at half of it) and every worker checks for
 *   stalled jobs every `stalledIntervalMs`, so the job of a SIGKILLed worker runs again elsewhere within
 *   about lockDuration + stalledInterval (8 s with the defaults).
 * - `close()` finishes running blocks; after `graceMs` it aborts them and hands their jobs back to the
 *   queue (`moveToWait`) for another worker.
 * - With a metadata store (`metadata`) the worker is a run owner of kind `worker`: it holds a lease renewed by
 *   heartbeat, stamps the block runs it executes with its id (the same id as its Redis heartbeat, so the
 *   executor can name it), and recovers runs whose owner's lease expired, at start-up and every lease period.
 *   A block run whose worker died is not left to this worker's lease: the driving process's executor fails
 *   the attempt (`worker_lost`) once no worker took the job up again within a lease.
 * - At most one delivery of a job runs its block to the end, even when Redis goes away for longer than
 *   the job lock: every delivery is settled by the job ledger (`job-ledger.ts`) before the block runs.
 */
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { UnrecoverableError, WaitingError, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import { messageOf, OperationalError, UserError } from "../core/errors";
import { LocalExecutor } from "../executors/local-executor";
import {
  CANCELLED_BY_RUN,
  DEFAULT_QUEUE,
  DEFAULT_QUEUE_PREFIX,
  QUEUE_NAME_PATTERN,
  blockJobSchema,
  parseControlMessage,
  queueKeys,
  relocateOutput,
  toRemoteError,
  type BlockJob,
  type BlockJobResult,
  type ReplyMessage,
} from "../executors/queue-protocol";
import { bullConnection, closeRedis, openRedis } from "../executors/queue-redis";
import type { BlockRunRequest, LogLine, Progress } from "../executors/types";
import { DEFAULT_LEASE_SETTINGS, RunLease, thisProcessOwner, type LeaseSettings, type LeaseStore } from "../runner/run-lease";
import { RecoveryLoop, recoverOrphanedRuns, type RecoveredRun, type RecoveryStore } from "../scheduler/recovery";
import { OutputStore } from "../store/output-store";
import type { RemoteOutputStore } from "../store/remote-output-store";
import { JobLedger } from "./job-ledger";
import { removeHeartbeat, writeHeartbeat, type WorkerHeartbeat } from "./workers-info";

/** The store calls of a worker that takes part in run ownership. */
export type WorkerMetadataStore = LeaseStore & RecoveryStore;

/** Run ownership of a worker: see the file comment. */
export interface WorkerMetadata {
  /** The run metadata store (PostgreSQL, or the shared SQLite of a single-machine setup). Closed by the caller. */
  store: WorkerMetadataStore;
  /** Default: 30 s leases renewed every 5 s (`SLUICE_LEASE_MS`, `SLUICE_HEARTBEAT_MS`). */
  lease?: LeaseSettings;
  /** Runs this worker's recovery ended (their owner's lease expired). */
  onRecovered?: (recovered: RecoveredRun[]) => void;
}

export interface BlockWorkerOptions {
  redisUrl: string;
  /** BullMQ key prefix, the executor's. Default `sluice`. */
  prefix?: string;
  /** Queues to pull; default `["default"]`. */
  queues?: readonly string[];
  /** Blocks run at once, per queue. Default 1. */
  concurrency?: number;
  /** Project root on this machine (pipeline folders are resolved against it). */
  projectDir: string;
  /** Data directory on this machine: the shared output store is `<dataDir>/outputs`. */
  dataDir: string;
  /**
   * The object-store mirror of the outputs (`SLUICE_OUTPUT_URL`) when machines share no disk: outputs are
   * uploaded after they are written, missing upstreams downloaded before a block reads them. Closed with
   * the worker.
   */
  remoteOutputs?: RemoteOutputStore;
  /** Default 6000 ms. */
  lockDurationMs?: number;
  /** Default 2000 ms. */
  stalledIntervalMs?: number;
  /** Times a job may be recovered from a dead worker before it fails. Default 3. */
  maxStalledCount?: number;
  /** Default 2000 ms. */
  heartbeatIntervalMs?: number;
  /** A run database unused this long is closed even without `end_run`. Default 10 min. */
  idleRunMs?: number;
  /** Environment visible to block code; default this process's. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Memory limit of a TypeScript block without `memory:` (bytes; `SLUICE_BLOCK_MEMORY`, default 2 GiB). */
  blockMemoryBytes?: number;
  /** Run ownership (lease, block-run owner, recovery); without it the worker only uses Redis. */
  metadata?: WorkerMetadata;
  /** Diagnostics (connection errors, invalid jobs). Default: nothing. */
  log?: (message: string) => void;
}

interface CurrentJob {
  job: Job;
  queue: string;
  runId: string;
  block: string;
  delivery: number;
  startedAt: string;
}

/** One worker process's BullMQ workers, runtime and heartbeat. Start with `BlockWorker.start`. */
export class BlockWorker {
  readonly id: string;
  readonly host = os.hostname();
  readonly pid = process.pid;
  readonly queues: readonly string[];
  readonly concurrency: number;
  private readonly prefix: string;
  private readonly keys: ReturnType<typeof queueKeys>;
  private readonly executor: LocalExecutor;
  private readonly outputs: OutputStore;
  private readonly cacheDir: string;
  private readonly workers: Worker[] = [];
  private readonly current = new Map<string, CurrentJob>();
  /** Deliveries running in this process, by job id: a re-delivery of one of them shares its result. */
  private readonly executions = new Map<string, Promise<BlockJobResult>>();
  private readonly runsUsedAt = new Map<string, number>();
  private readonly startedAt = new Date().toISOString();
  private readonly commands: Redis;
  private readonly subscriber: Redis;
  private readonly ledger: JobLedger;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private lease: RunLease | null = null;
  private recovery: RecoveryLoop | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private state: WorkerHeartbeat["state"] = "running";
  private handingBack = false;
  private jobsDone = 0;
  private closing: Promise<void> | null = null;

  private constructor(private readonly options: BlockWorkerOptions) {
    this.id = `${os.hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
    this.prefix = options.prefix ?? DEFAULT_QUEUE_PREFIX;
    this.keys = queueKeys(this.prefix);
    this.queues = options.queues && options.queues.length > 0 ? [...new Set(options.queues)] : [DEFAULT_QUEUE];
    for (const queue of this.queues) {
      if (!QUEUE_NAME_PATTERN.test(queue)) throw new UserError("invalid_queue", `queue ${JSON.stringify(queue)} may use letters, digits, _ and - only`);
    }
    this.concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) throw new UserError("invalid_concurrency", `concurrency must be a whole number ≥ 1, got ${this.concurrency}`);
    this.outputs = new OutputStore(options.dataDir, { cacheOnWrite: false, remote: options.remoteOutputs });
    // Per worker: the run databases' temp folders are named by run id, and two workers on one machine may
    // hold the same run.
    this.cacheDir = path.join(path.resolve(options.dataDir), "cache", "workers", this.id);
    this.executor = new LocalExecutor({
      projectDir: options.projectDir,
      cacheDir: this.cacheDir,
      poolSize: this.concurrency * this.queues.length,
      env: options.env,
      blockMemoryBytes: options.blockMemoryBytes,
    });
    this.commands = openRedis(options.redisUrl);
    this.subscriber = openRedis(options.redisUrl);
    this.ledger = new JobLedger({ commands: this.commands, prefix: this.prefix, workerId: this.id, heartbeatIntervalMs: options.heartbeatIntervalMs ?? 2000 });
  }

  /** Connects, subscribes to control messages, starts pulling jobs and heartbeating. */
  static async start(options: BlockWorkerOptions): Promise<BlockWorker> {
    const worker = new BlockWorker(options);
    try {
      await worker.begin();
    } catch (error) {
      await worker.close(0).catch(() => undefined);
      throw error;
    }
    return worker;
  }

  private async begin(): Promise<void> {
    const log = this.options.log ?? (() => undefined);
    this.commands.on("error", (error: Error) => log(`redis: ${error.message}`));
    this.subscriber.on("error", (error: Error) => log(`redis: ${error.message}`));
    this.subscriber.on("message", (_channel: string, text: string) => this.onControl(text));
    await this.subscriber.subscribe(this.keys.control);
    await this.heartbeat();
    const heartbeatMs = this.options.heartbeatIntervalMs ?? 2000;
    this.heartbeatTimer = setInterval(() => void this.heartbeat().catch((error: unknown) => log(`heartbeat: ${String(error)}`)), heartbeatMs);
    this.sweepTimer = setInterval(() => void this.sweepIdleRuns(), 60_000);
    this.sweepTimer.unref();
    await this.joinRunOwnership(log);
    for (const queue of this.queues) {
      const worker = new Worker(queue, (job, token, signal) => this.process(queue, job, token, signal), {
        connection: bullConnection(this.options.redisUrl),
        prefix: this.prefix,
        name: this.id,
        concurrency: this.concurrency,
        lockDuration: this.options.lockDurationMs ?? 6000,
        stalledInterval: this.options.stalledIntervalMs ?? 2000,
        maxStalledCount: this.options.maxStalledCount ?? 3,
        drainDelay: 1,
        autorun: false,
      });
      worker.on("error", (error: Error) => log(`worker ${queue}: ${error.message}`));
      this.workers.push(worker);
    }
    for (const worker of this.workers) {
      void worker.run().catch((error: unknown) => log(`worker: ${String(error)}`));
    }
    await Promise.all(this.workers.map((worker) => worker.waitUntilReady()));
  }

  /** Registers this worker as a run owner and starts recovering dead owners' runs (with a metadata store). */
  private async joinRunOwnership(log: (message: string) => void): Promise<void> {
    const metadata = this.options.metadata;
    if (!metadata) return;
    // The owner id is the worker id: block runs, heartbeats and the executor's messages all name one worker.
    this.lease = await RunLease.acquire(metadata.store, { ...thisProcessOwner("worker"), id: this.id }, metadata.lease ?? DEFAULT_LEASE_SETTINGS);
    // A worker drives no runs of its own, so it has nothing to cancel: cancels reach its jobs from their executor.
    this.lease.watch({ cancel: () => undefined, onError: (error, where) => log(`${where}: ${messageOf(error)}`) });
    this.recovery = new RecoveryLoop(
      () => recoverOrphanedRuns(metadata.store, new Date()),
      this.lease.settings.leaseMs,
      (recovered) => metadata.onRecovered?.(recovered),
      (error) => log(`recovery: ${messageOf(error)}`),
    );
    await this.recovery.start();
  }

  /**
   * Records this worker as the executor of the job's block run, so the record names who runs it now (after
   * a lost worker: the one that took the job up again), or no one (`null`: handed back to the queue). Only
   * while the block run is `running` at this attempt: one the runner already moved on (cancelled, retried)
   * keeps its state. Store errors are logged, not fatal: the block still runs.
   */
  private async stampBlockRun(data: BlockJob, ownerId: string | null = this.id): Promise<boolean> {
    const store = this.options.metadata?.store;
    if (!store || !this.lease) return false;
    try {
      const blockRun = (await store.getRun(data.runId))?.blockRuns.find((b) => b.block === data.block.name);
      if (blockRun?.state !== "running" || blockRun.attempt !== data.attempt) return false;
      await store.updateBlockRun(data.runId, data.block.name, { state: "running", ownerId });
      return true;
    } catch (error) {
      this.options.log?.(`run ${data.runId} block ${data.block.name}: could not record this worker as its owner: ${messageOf(error)}`);
      return false;
    }
  }

  /**
   * The job was cancelled while this worker stamped its block run: the runner's `cancelled` may have landed
   * between our read and our write (the executor marks the job before the runner records the cancel), so
   * put it back rather than leave the block run `running` in a finished run.
   */
  private async restoreCancelled(data: BlockJob): Promise<void> {
    const store = this.options.metadata?.store;
    if (!store) return;
    try {
      const blockRun = (await store.getRun(data.runId))?.blockRuns.find((b) => b.block === data.block.name);
      if (blockRun?.state !== "running" || blockRun.attempt !== data.attempt) return;
      await store.updateBlockRun(data.runId, data.block.name, { state: "cancelled", endedAt: new Date().toISOString() });
    } catch (error) {
      this.options.log?.(`run ${data.runId} block ${data.block.name}: could not record its cancel: ${messageOf(error)}`);
    }
  }

  /** Jobs running now. */
  get runningJobs(): number {
    return this.current.size;
  }

  private async process(queue: string, job: Job, token: string | undefined, signal: AbortSignal | undefined): Promise<BlockJobResult> {
    const parsed = blockJobSchema.safeParse(job.data);
    if (!parsed.success) {
      // Not ours, or from an incompatible version: running it again would not help.
      throw new UnrecoverableError(`invalid block job ${job.id ?? "?"}: ${parsed.error.message}`);
    }
    const data = parsed.data;
    const jobId = job.id ?? "";
    const delivery = Math.max(1, job.attemptsStarted);
    const here = this.executions.get(jobId);
    if (here) return here; // its lock expired while Redis was away, and BullMQ handed it back to us
    const verdict = await this.ledger.settle(jobId, delivery, (message) => this.tell(data, jobId, message));
    if ("result" in verdict) return verdict.result;
    const running = this.executions.get(jobId); // a delivery to this process claimed it meanwhile
    if (running) return running;
    const execution = this.execute(queue, job, token, signal, data, jobId, delivery);
    this.executions.set(jobId, execution);
    try {
      return await execution;
    } finally {
      if (this.executions.get(jobId) === execution) this.executions.delete(jobId);
    }
  }

  /** A log line for the block's log on the executor's side. */
  private tell(data: BlockJob, jobId: string, message: string): void {
    const reply: ReplyMessage = { type: "log", jobId, line: { at: new Date().toISOString(), level: "warn", message } };
    void this.commands.publish(data.replyChannel, JSON.stringify(reply)).catch(() => 0);
  }

  private async execute(queue: string, job: Job, token: string | undefined, signal: AbortSignal | undefined, data: BlockJob, jobId: string, delivery: number): Promise<BlockJobResult> {
    const startedAt = Date.now();
    const stamped = await this.stampBlockRun(data);
    const cancelled = await this.commands.get(this.keys.cancelled(jobId));
    if (cancelled !== null) {
      if (stamped && cancelled === CANCELLED_BY_RUN) await this.restoreCancelled(data);
      return this.failure(startedAt, delivery, new UserError("cancelled", `block ${data.block.name} was cancelled`, { block: data.block.name }));
    }
    this.current.set(jobId, { job, queue, runId: data.runId, block: data.block.name, delivery, startedAt: new Date(startedAt).toISOString() });
    this.runsUsedAt.set(data.runId, startedAt);
    let lastPublish: Promise<unknown> = Promise.resolve();
    const reply = (message: ReplyMessage): void => {
      lastPublish = this.commands.publish(data.replyChannel, JSON.stringify(message)).catch(() => 0);
    };
    reply({ type: "started", jobId, workerId: this.id, host: this.host, pid: this.pid, delivery, at: startedAt });
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(new UserError("cancelled", `block ${data.block.name} was cancelled`, { block: data.block.name }));
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      await this.fetchInputs(data);
      const result = await this.executor.execute(this.request(data, jobId, controller.signal, reply));
      await lastPublish;
      return await this.ledger.record(jobId, { ok: true, output: result.output, sensorResult: result.sensorResult, writes: result.writes, tests: result.tests, workerId: this.id, startedAt, endedAt: Date.now(), delivery });
    } catch (error) {
      if (this.handingBack && controller.signal.aborted && token !== undefined) {
        // Shutting down past the grace period: give the job back for another worker, which need not wait for us.
        await this.stampBlockRun(data, null);
        await this.ledger.release(jobId);
        await job.moveToWait(token);
        throw new WaitingError();
      }
      await lastPublish;
      return await this.ledger.record(jobId, this.failure(startedAt, delivery, error));
    } finally {
      signal?.removeEventListener("abort", onAbort);
      this.current.delete(jobId);
      this.runsUsedAt.set(data.runId, Date.now());
      this.jobsDone += 1;
    }
  }

  /** Upstream outputs this machine lacks come from the mirror (or the job fails saying where it looked). */
  private async fetchInputs(data: BlockJob): Promise<void> {
    for (const input of data.inputs) {
      const { runId, block } = input.output.ref;
      if (await this.outputs.ensureLocal(runId, block, input.output.summary.bytes)) continue;
      const where = this.outputs.remoteUrl
        ? `in neither ${this.outputs.outputsDir} nor ${this.outputs.remoteUrl}`
        : `not in ${this.outputs.outputsDir} (mount the shared output store there, or set SLUICE_OUTPUT_URL when workers share no disk)`;
      throw new OperationalError("upstream_output_missing", `block ${data.block.name}: the output of upstream ${block} (run ${runId}) is ${where}`, { block: data.block.name });
    }
  }

  private request(data: BlockJob, jobId: string, signal: AbortSignal, reply: (message: ReplyMessage) => void): BlockRunRequest {
    const projectDir = path.resolve(this.options.projectDir);
    return {
      runId: data.runId,
      pipelineName: data.pipelineName,
      pipelineDir: path.resolve(projectDir, data.pipelineDir),
      projectDir,
      block: data.block,
      inputs: data.inputs.map((input) => ({ name: input.name, output: relocateOutput(input.output, this.outputs.outputsDir) })),
      variables: data.variables,
      logicalDate: data.logicalDate,
      dataInterval: data.dataInterval,
      attempt: data.attempt,
      timeoutMs: data.timeoutMs,
      ...(data.item !== undefined ? { item: data.item } : {}),
      ...(data.sql !== undefined ? { sql: data.sql } : {}),
      signal,
      outputs: this.outputs,
      onLog: (line: LogLine) => reply({ type: "log", jobId, line }),
      onProgress: (progress: Progress) => reply({ type: "progress", jobId, progress }),
    };
  }

  private failure(startedAt: number, delivery: number, error: unknown): BlockJobResult {
    return { ok: false, error: toRemoteError(error), workerId: this.id, startedAt, endedAt: Date.now(), delivery };
  }

  private onControl(text: string): void {
    const message = parseControlMessage(text);
    if (!message) return;
    switch (message.type) {
      case "cancel":
        for (const worker of this.workers) worker.cancelJob(message.jobId, message.reason);
        return;
      case "end_run":
        void this.endRun(message.runId);
        return;
    }
  }

  private async endRun(runId: string): Promise<void> {
    for (const job of this.current.values()) if (job.runId === runId) return; // still in use here; the sweep frees it later
    this.runsUsedAt.delete(runId);
    await this.executor.endRun(runId).catch(() => undefined);
  }

  private async sweepIdleRuns(): Promise<void> {
    const idleMs = this.options.idleRunMs ?? 10 * 60_000;
    const now = Date.now();
    for (const [runId, usedAt] of [...this.runsUsedAt]) if (now - usedAt > idleMs) await this.endRun(runId);
  }

  /** What the workers page shows for this worker. */
  snapshot(): WorkerHeartbeat {
    return {
      id: this.id,
      host: this.host,
      pid: this.pid,
      queues: [...this.queues],
      concurrency: this.concurrency,
      state: this.state,
      startedAt: this.startedAt,
      lastHeartbeat: new Date().toISOString(),
      currentJobs: [...this.current.entries()].map(([jobId, job]) => ({
        jobId,
        queue: job.queue,
        runId: job.runId,
        block: job.block,
        delivery: job.delivery,
        startedAt: job.startedAt,
      })),
      jobsDone: this.jobsDone,
    };
  }

  private async heartbeat(): Promise<void> {
    const interval = this.options.heartbeatIntervalMs ?? 2000;
    await writeHeartbeat(this.commands, this.prefix, this.snapshot(), interval * 3);
  }

  /**
   * Stops pulling jobs and waits for running blocks; after `graceMs` aborts them and hands their jobs
   * back to the queue. Idempotent.
   */
  close(graceMs = 30_000): Promise<void> {
    this.closing ??= this.shutdown(graceMs);
    return this.closing;
  }

  private async shutdown(graceMs: number): Promise<void> {
    this.state = "stopping";
    await this.heartbeat().catch(() => undefined);
    const closed = Promise.all(this.workers.map((worker) => worker.close()));
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<"grace_over">((resolve) => {
      timer = setTimeout(() => resolve("grace_over"), graceMs);
    });
    if ((await Promise.race([closed, graceOver])) === "grace_over") {
      this.handingBack = true;
      for (const worker of this.workers) worker.cancelAllJobs("worker shutting down");
      await closed;
    }
    clearTimeout(timer);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    // Its jobs finished or went back to the queue: nothing runs under this owner any more.
    await this.recovery?.stop();
    await this.lease?.release();
    await removeHeartbeat(this.commands, this.prefix, this.id).catch(() => undefined);
    await this.executor.close();
    await this.outputs.close();
    await closeRedis(this.subscriber);
    await closeRedis(this.commands);
    await rm(this.cacheDir, { recursive: true, force: true }).catch(() => undefined);
  }
}
