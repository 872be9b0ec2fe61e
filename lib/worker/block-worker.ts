/**
 * A Sluice worker (DESIGN §7, issue 6): pulls block jobs from BullMQ queues and runs each with a
 * `LocalExecutor`, the very runtime `sluice run` uses (worker threads for TypeScript, DuckDB for SQL).
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
 * - At most one delivery of a job runs its block to the end, even when Redis goes away for longer than
 *   the job lock: the locks of running jobs then expire, and BullMQ hands those jobs to a worker again
 *   although their first worker is still running them. So a worker records a claim when it starts a
 *   job and the job's result before completing it; a later delivery returns the recorded result, or — while
 *   the claiming worker is alive and still running the job — waits for it, and runs the block only when
 *   that worker is gone (heartbeat expired; after a Redis outage, given one heartbeat period to come back).
 */
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { UnrecoverableError, WaitingError, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import { OperationalError, UserError } from "../core/errors";
import { LocalExecutor } from "../executors/local-executor";
import {
  DEFAULT_QUEUE,
  DEFAULT_QUEUE_PREFIX,
  QUEUE_NAME_PATTERN,
  blockJobResultSchema,
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
import { OutputStore } from "../store/output-store";
import type { RemoteOutputStore } from "../store/remote-output-store";
import { readHeartbeat, removeHeartbeat, writeHeartbeat, type WorkerHeartbeat } from "./workers-info";

/** A job's result is kept this long after it finished, for a late re-delivery to return (BullMQ keeps completed jobs 1 h). */
const RESULT_TTL_S = 3600;
/** A claim must outlive any Redis outage a run survives; it only names the worker that started the job. */
const CLAIM_TTL_S = 24 * 3600;
/** KEYS[1] claim key; ARGV: the claimant to replace ("" for none), this worker's id, TTL in seconds. 1 when the claim is now ours. */
const CLAIM_SCRIPT = `
local current = redis.call("GET", KEYS[1])
if current == ARGV[2] then return 1 end
if (current == false and ARGV[1] == "") or current == ARGV[1] then
  redis.call("SET", KEYS[1], ARGV[2], "EX", tonumber(ARGV[3]))
  return 1
end
return 0`;

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
  /** When the command connection last came back after losing Redis (0: never lost). */
  private reconnectedAt = 0;
  private readonly runsUsedAt = new Map<string, number>();
  private readonly startedAt = new Date().toISOString();
  private readonly commands: Redis;
  private readonly subscriber: Redis;
  private heartbeatTimer: NodeJS.Timeout | null = null;
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
    });
    this.commands = openRedis(options.redisUrl);
    this.subscriber = openRedis(options.redisUrl);
    let connectedBefore = false;
    this.commands.on("ready", () => {
      if (connectedBefore) this.reconnectedAt = Date.now();
      connectedBefore = true;
    });
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
    for (;;) {
      const verdict = await this.earlierDelivery(jobId, data, delivery);
      if ("result" in verdict) return verdict.result;
      if (await this.claim(jobId, verdict.replacing)) break;
      // Another delivery claimed the job in between: wait for that one instead.
    }
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

  /**
   * Makes this worker the job's claimant: when nobody claimed it (`replacing` null), or when the claimant
   * is still `replacing` (a worker found gone). Atomic, so of two deliveries racing for a job one runs it.
   */
  private async claim(jobId: string, replacing: string | null): Promise<boolean> {
    const key = this.keys.claim(jobId);
    const taken = await this.commands.eval(CLAIM_SCRIPT, 1, key, replacing ?? "", this.id, String(CLAIM_TTL_S));
    return taken === 1;
  }

  /**
   * The result of an earlier delivery of this job, if one finished or is still running on a live worker
   * (waits for it then); otherwise `replacing`: the claimant this delivery may take over (null: none).
   * See the file comment.
   */
  private async earlierDelivery(jobId: string, data: BlockJob, delivery: number): Promise<{ result: BlockJobResult } | { replacing: string | null }> {
    const ttlMs = (this.options.heartbeatIntervalMs ?? 2000) * 3;
    const parse = (text: string | null): BlockJobResult | null => {
      const parsed = blockJobResultSchema.safeParse(safeJson(text));
      return parsed.success ? parsed.data : null;
    };
    let waitingFor: string | null = null;
    let notListedSince: number | null = null;
    for (;;) {
      // One round trip for the usual case: no result, no claim (a first delivery).
      const [text, owner] = await this.commands.mget(this.keys.result(jobId), this.keys.claim(jobId));
      const result = parse(text);
      if (result) {
        this.tell(data, jobId, `job ${jobId}: delivery ${delivery} on worker ${this.id}: worker ${result.workerId} already finished it; its result stands, the block does not run again`);
        return { result };
      }
      if (owner === null || owner === this.id) return { replacing: owner };
      const heartbeat = await readHeartbeat(this.commands, this.prefix, owner);
      const now = Date.now();
      if (heartbeat) {
        // Alive. A claimant lists the job in its next heartbeat and records the result before it drops it:
        // not listed for a whole heartbeat lifetime means it lost the job (its execution ended unrecorded).
        if (heartbeat.currentJobs.some((j) => j.jobId === jobId)) notListedSince = null;
        else notListedSince ??= now;
        if (notListedSince !== null && now - notListedSince >= ttlMs) return { replacing: owner };
      } else if (now >= this.reconnectedAt + ttlMs) {
        // Gone: its heartbeat expired — unless Redis itself was away lately: heartbeats may have expired
        // during the outage, and a live worker writes its next one within a heartbeat period.
        return { replacing: owner };
      }
      if (waitingFor !== owner) {
        waitingFor = owner;
        this.tell(data, jobId, `job ${jobId}: delivery ${delivery} on worker ${this.id} waits for worker ${owner}, which started it and is still running it`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** A log line for the block's log on the executor's side. */
  private tell(data: BlockJob, jobId: string, message: string): void {
    const reply: ReplyMessage = { type: "log", jobId, line: { at: new Date().toISOString(), level: "warn", message } };
    void this.commands.publish(data.replyChannel, JSON.stringify(reply)).catch(() => 0);
  }

  private async execute(queue: string, job: Job, token: string | undefined, signal: AbortSignal | undefined, data: BlockJob, jobId: string, delivery: number): Promise<BlockJobResult> {
    const startedAt = Date.now();
    if ((await this.commands.exists(this.keys.cancelled(jobId))) === 1) {
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
      return await this.record(jobId, { ok: true, output: result.output, sensorResult: result.sensorResult, workerId: this.id, startedAt, endedAt: Date.now(), delivery });
    } catch (error) {
      if (this.handingBack && controller.signal.aborted && token !== undefined) {
        // Shutting down past the grace period: give the job back for another worker, which need not wait for us.
        await this.commands.del(this.keys.claim(jobId));
        await job.moveToWait(token);
        throw new WaitingError();
      }
      await lastPublish;
      return await this.record(jobId, this.failure(startedAt, delivery, error));
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
      signal,
      outputs: this.outputs,
      onLog: (line: LogLine) => reply({ type: "log", jobId, line }),
      onProgress: (progress: Progress) => reply({ type: "progress", jobId, progress }),
    };
  }

  /** Stores a job's result before BullMQ completes the job (see `earlierDelivery`). */
  private async record(jobId: string, result: BlockJobResult): Promise<BlockJobResult> {
    await this.commands.set(this.keys.result(jobId), JSON.stringify(result), "EX", RESULT_TTL_S);
    return result;
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
    await removeHeartbeat(this.commands, this.prefix, this.id).catch(() => undefined);
    await this.executor.close();
    await this.outputs.close();
    await closeRedis(this.subscriber);
    await closeRedis(this.commands);
    await rm(this.cacheDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

function safeJson(text: string | null): unknown {
  if (text === null) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
