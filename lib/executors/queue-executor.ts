/**
 * The distributed executor: every block run attempt becomes one BullMQ job on Redis,
 * pulled by `sluice worker` processes that run it with the same runtime as the local executor.
 *
 * The DAG state stays with the Runner and the metadata store: the runner hands a block over only once
 * its upstreams succeeded (BullMQ flows are trees, not DAGs), and this executor turns that hand-over into
 * a job and the job's completion back into a `BlockRunResult`.
 *
 * - Job id `runId:block:attempt`: re-enqueueing an attempt finds the existing job, never a second run.
 * - Queue per block (`block.queue`, default `default`): heavy and light workers pull different queues.
 * - Results come back through BullMQ's job completion (QueueEvents), logs and progress through a Redis
 *   pub/sub channel of this executor, so a chatty block does not flood the events stream.
 * - Cancel: the job is removed when still waiting; a running one is aborted by its worker (control
 *   channel → `Worker.cancelJob` → the block's AbortSignal). Timeouts are enforced by the worker's
 *   runtime; this side only gives up when a started job's worker stops answering well past the timeout.
 * - A worker that dies mid-block loses its job lock; BullMQ's stalled-job check on the other workers puts
 *   the job back within seconds and another worker runs it (`delivery` 2, noted in the block's log). When
 *   no worker took the job up again within `workerLostAfterMs` (a run lease) of its worker's heartbeat
 *   expiring, the attempt fails as `worker_lost`, naming that worker: the block's retry policy decides.
 * - Missed events (a Redis restart) are caught up by a reconcile loop that looks at quiet jobs' state, and
 *   re-adds a job Redis lost.
 */
import { randomUUID } from "node:crypto";
import { Queue, QueueEvents, type JobsOptions } from "bullmq";
import type { Redis } from "ioredis";
import { messageOf, OperationalError, UnexpectedError, UserError } from "../core/errors";
import { formatDuration } from "../core/duration";
import { KeyedSemaphore, Semaphore } from "./queue-limits";
import {
  DEFAULT_QUEUE_PREFIX,
  blockJobId,
  blockJobResultSchema,
  fromRemoteError,
  parseReplyMessage,
  portablePipelineDir,
  queueKeys,
  queueOf,
  relocateOutput,
  type BlockJob,
  type BlockJobResult,
  type ReplyMessage,
  type WithdrawReason,
} from "./queue-protocol";
import { bullConnection, closeRedis, openRedis, redisOptionsFromUrl } from "./queue-redis";
import type { BlockRunRequest, BlockRunResult, RunScopedExecutor } from "./types";

export interface QueueExecutorOptions {
  redisUrl: string;
  /** BullMQ key prefix; workers must use the same. Default `sluice`. */
  prefix?: string;
  /** Project root of this process: pipeline folders inside it are sent relative to it. */
  projectDir: string;
  /** This machine's mount of the shared output store (`OutputStore.outputsDir`): results are re-rooted here. */
  outputsDir: string;
  /** Jobs of one pipeline enqueued or running at once, from this executor. Default: unlimited. */
  maxPerPipeline?: number;
  /** Jobs enqueued or running at once, from this executor. Default: unlimited (worker slots are the cap). */
  maxInFlight?: number;
  /** How long past its timeout a started block may stay silent before this side gives up. Default 30 s. */
  timeoutGraceMs?: number;
  /** A job with no news for this long has its state read from Redis (missed events, lost jobs). Default 5 s. */
  reconcileAfterMs?: number;
  /**
   * A started job whose worker's heartbeat expired fails as `worker_lost` once no worker started it again for
   * this long. Default 30 s, the default run lease (`SLUICE_LEASE_MS`); keep it above the workers'
   * lockDuration + stalledInterval so that BullMQ's own re-delivery comes first.
   */
  workerLostAfterMs?: number;
  /** Called when a job's result arrives: timings for the workers page and benchmarks. */
  onJobDone?: (info: QueueJobInfo) => void;
}

/** Timings and placement of one finished job. */
export interface QueueJobInfo {
  jobId: string;
  queue: string;
  runId: string;
  block: string;
  ok: boolean;
  workerId: string;
  delivery: number;
  /** `Date.now()` values: on this machine (enqueue) and on the worker (start, end). */
  enqueuedAt: number;
  startedAt: number;
  endedAt: number;
}

interface Pending {
  jobId: string;
  queue: string;
  request: BlockRunRequest;
  job: BlockJob;
  enqueuedAt: number;
  lastNews: number;
  /** The worker of the latest delivery, from its "started" message. */
  delivery: { workerId: string; host: string; pid: number; number: number } | null;
  /** Since when the latest delivery's worker has had no heartbeat (null: alive, or not started). */
  workerGoneSince: number | null;
  settled: boolean;
  resolve: (result: BlockRunResult) => void;
  reject: (error: unknown) => void;
  guard: NodeJS.Timeout | null;
}

interface QueueHandle {
  queue: Queue;
  events: QueueEvents;
}

const KEEP_COMPLETED = { age: 3600, count: 10_000 };
const KEEP_FAILED = { age: 24 * 3600, count: 10_000 };

/** Runs blocks on `sluice worker` processes through BullMQ. See the file comment. */
export class QueueExecutor implements RunScopedExecutor {
  /** Names this executor's reply channel; also useful in logs. */
  readonly id = randomUUID();
  readonly prefix: string;
  private readonly keys: ReturnType<typeof queueKeys>;
  private readonly commands: Redis;
  private subscriber: Redis | null = null;
  private subscribed: Promise<void> | null = null;
  private readonly queues = new Map<string, Promise<QueueHandle>>();
  private readonly pending = new Map<string, Pending>();
  private readonly executing = new Map<string, Promise<BlockRunResult>>();
  private readonly global: Semaphore | null;
  private readonly perPipeline: KeyedSemaphore | null;
  private readonly reconcileTimer: NodeJS.Timeout;
  private reconciling = false;
  private closed = false;

  constructor(private readonly options: QueueExecutorOptions) {
    redisOptionsFromUrl(options.redisUrl); // fail fast on a bad URL, before any connection
    this.prefix = options.prefix ?? DEFAULT_QUEUE_PREFIX;
    this.keys = queueKeys(this.prefix);
    this.commands = openRedis(options.redisUrl);
    this.global = options.maxInFlight ? new Semaphore(options.maxInFlight) : null;
    this.perPipeline = options.maxPerPipeline ? new KeyedSemaphore(options.maxPerPipeline) : null;
    const every = Math.max(250, Math.floor((options.reconcileAfterMs ?? 5000) / 2));
    this.reconcileTimer = setInterval(() => void this.reconcile(), every);
    this.reconcileTimer.unref();
  }

  /** Jobs of this executor not settled yet. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Runs one block run attempt as a job. Asking again for an attempt that is in flight here returns the
   * same promise; asking after a restart finds the existing job in Redis (same id) and its result.
   */
  execute(request: BlockRunRequest): Promise<BlockRunResult> {
    if (this.closed) return Promise.reject(new UnexpectedError("executor_closed", "QueueExecutor is closed"));
    const jobId = blockJobId(request.runId, request.block.name, request.attempt);
    const existing = this.executing.get(jobId);
    if (existing) return existing;
    const running = this.executeOnce(request, jobId).finally(() => this.executing.delete(jobId));
    this.executing.set(jobId, running);
    return running;
  }

  private async executeOnce(request: BlockRunRequest, jobId: string): Promise<BlockRunResult> {
    const queueName = queueOf(request.block);
    const releases: Array<() => void> = [];
    try {
      if (this.perPipeline) releases.push(await this.perPipeline.acquire(request.pipelineName, request.signal));
      if (this.global) releases.push(await this.global.acquire(request.signal));
      if (request.signal.aborted) throw cancelledError(request);
      const handle = await this.handle(queueName);
      await this.subscribe();
      return await this.enqueue(handle, queueName, jobId, request);
    } finally {
      for (const release of releases.reverse()) release();
    }
  }

  private enqueue(handle: QueueHandle, queueName: string, jobId: string, request: BlockRunRequest): Promise<BlockRunResult> {
    const enqueuedAt = Date.now();
    const job: BlockJob = {
      v: 1,
      runId: request.runId,
      pipelineName: request.pipelineName,
      pipelineDir: portablePipelineDir(request.pipelineDir, request.projectDir),
      block: request.block,
      inputs: request.inputs.map((input) => ({ name: input.name, output: input.output })),
      variables: request.variables,
      logicalDate: request.logicalDate,
      dataInterval: request.dataInterval,
      attempt: request.attempt,
      timeoutMs: request.timeoutMs,
      ...(request.item !== undefined ? { item: request.item } : {}),
      ...(request.sql !== undefined ? { sql: request.sql } : {}),
      replyChannel: this.keys.reply(this.id),
      enqueuedAt,
    };
    return new Promise<BlockRunResult>((resolve, reject) => {
      // Aborted while this executor opened the queue: an abort listener added now would never hear it.
      if (request.signal.aborted) {
        reject(cancelledError(request));
        return;
      }
      const entry: Pending = { jobId, queue: queueName, request, job, enqueuedAt, lastNews: enqueuedAt, delivery: null, workerGoneSince: null, settled: false, resolve, reject, guard: null };
      const onAbort = (): void => void this.withdraw(entry, handle, "cancelled", cancelledError(request));
      entry.resolve = (result) => {
        request.signal.removeEventListener("abort", onAbort);
        resolve(result);
      };
      entry.reject = (error) => {
        request.signal.removeEventListener("abort", onAbort);
        reject(error);
      };
      this.pending.set(jobId, entry);
      request.signal.addEventListener("abort", onAbort, { once: true });
      handle.queue.add(request.block.name, job, jobOptions(jobId)).then(
        () => undefined,
        (error: unknown) =>
          this.settle(entry, {
            error: new OperationalError("enqueue_failed", `block ${request.block.name}: could not enqueue job ${jobId}: ${messageOf(error)}`, { block: request.block.name }),
          }),
      );
    });
  }

  /**
   * Gives up on a job: marks and removes it (see `cancelJob`), then settles it with `error`. The mark comes
   * first so that a worker starting the job right now finds it after the runner recorded the outcome; a
   * Redis that does not answer delays the outcome by at most MARK_WITHIN_MS.
   */
  private async withdraw(entry: Pending, handle: QueueHandle, reason: WithdrawReason, error: unknown): Promise<void> {
    if (entry.settled) return;
    let timer: NodeJS.Timeout | undefined;
    const marked = this.cancelJob(entry, handle, reason);
    await Promise.race([marked, new Promise((resolve) => (timer = setTimeout(resolve, MARK_WITHIN_MS)))]);
    clearTimeout(timer);
    this.settle(entry, { error });
  }

  /** Removes a waiting job, or asks its worker to abort it; marks it so a worker that picks it up later skips it. */
  private async cancelJob(entry: Pending, handle: QueueHandle, reason: WithdrawReason): Promise<void> {
    try {
      await this.commands.set(this.keys.cancelled(entry.jobId), reason, "EX", 3600);
      const removed = await handle.queue.remove(entry.jobId).catch(() => 0);
      if (removed !== 1) {
        await this.commands.publish(this.keys.control, JSON.stringify({ type: "cancel", jobId: entry.jobId, reason }));
      }
    } catch {
      // Redis is away: the cancelled marker could not be written; the run's result is settled anyway.
    }
  }

  private async handle(name: string): Promise<QueueHandle> {
    let handle = this.queues.get(name);
    if (!handle) {
      handle = this.openQueue(name);
      this.queues.set(name, handle);
      handle.catch(() => this.queues.delete(name));
    }
    return handle;
  }

  private async openQueue(name: string): Promise<QueueHandle> {
    const connection = bullConnection(this.options.redisUrl);
    const queue = new Queue(name, { connection, prefix: this.prefix });
    // A short blocking read: BullMQ's read watchdog (block + 1 s) outlives close() by that much.
    const events = new QueueEvents(name, { connection, prefix: this.prefix, blockingTimeout: 2000 });
    queue.on("error", () => undefined); // connection errors: ioredis reconnects; the reconcile loop catches up
    events.on("error", () => undefined);
    events.on("completed", ({ jobId, returnvalue }) => this.onCompleted(jobId, returnvalue));
    events.on("failed", ({ jobId, failedReason }) => this.onFailed(jobId, failedReason));
    events.on("active", ({ jobId }) => this.touch(jobId));
    events.on("stalled", ({ jobId }) => this.onStalled(jobId));
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    return { queue, events };
  }

  /** Subscribes to this executor's reply channel once. */
  private subscribe(): Promise<void> {
    this.subscribed ??= (async () => {
      const subscriber = openRedis(this.options.redisUrl);
      subscriber.on("error", () => undefined);
      subscriber.on("message", (_channel: string, text: string) => {
        const message = parseReplyMessage(text);
        if (message) this.onReply(message);
      });
      this.subscriber = subscriber;
      await subscriber.subscribe(this.keys.reply(this.id));
    })();
    return this.subscribed;
  }

  private touch(jobId: string): Pending | undefined {
    const entry = this.pending.get(jobId);
    if (entry) entry.lastNews = Date.now();
    return entry;
  }

  private onReply(message: ReplyMessage): void {
    const entry = this.touch(message.jobId);
    if (!entry || entry.settled) return;
    const { request } = entry;
    switch (message.type) {
      case "started":
        entry.delivery = { workerId: message.workerId, host: message.host, pid: message.pid, number: message.delivery };
        entry.workerGoneSince = null;
        if (message.delivery > 1) {
          request.onLog({
            at: new Date(message.at).toISOString(),
            level: "warn",
            message: `job ${message.jobId}: delivery ${message.delivery} on worker ${message.workerId} (${message.host}, pid ${message.pid}); an earlier delivery did not finish (its worker was lost or shut down)`,
          });
        }
        this.armGuard(entry);
        return;
      case "log":
        request.onLog(message.line);
        return;
      case "progress":
        request.onProgress(message.progress);
        return;
    }
  }

  /** Gives up on a started job whose worker stays silent well past the block's timeout. */
  private armGuard(entry: Pending): void {
    if (entry.guard) clearTimeout(entry.guard);
    const timeoutMs = entry.request.timeoutMs;
    if (!(timeoutMs > 0)) return;
    const after = timeoutMs + (this.options.timeoutGraceMs ?? 30_000);
    entry.guard = setTimeout(() => {
      const block = entry.request.block.name;
      void this.handle(entry.queue).then((handle) => this.cancelJob(entry, handle, "timeout"));
      this.settle(entry, {
        error: new OperationalError("timeout", `block ${block} timed out after ${formatDuration(timeoutMs)} (its worker did not answer)`, { block }),
      });
    }, after);
    entry.guard.unref();
  }

  private onStalled(jobId: string): void {
    const entry = this.touch(jobId);
    if (!entry || entry.settled) return;
    entry.request.onLog({
      at: new Date().toISOString(),
      level: "warn",
      message: `job ${jobId}: its worker stopped renewing the job lock (killed or frozen); the job is back in queue ${entry.queue}`,
    });
  }

  private onCompleted(jobId: string, returnvalue: unknown): void {
    const entry = this.pending.get(jobId);
    if (!entry || entry.settled) return;
    this.settleWithResult(entry, returnvalue);
  }

  private onFailed(jobId: string, failedReason: string): void {
    const entry = this.pending.get(jobId);
    if (!entry || entry.settled) return;
    const block = entry.request.block.name;
    // BullMQ fails a job its workers kept losing ("stalled more than allowable limit"): say whose it was last.
    const last = entry.delivery ? `; its delivery ${entry.delivery.number} was on ${describeWorker(entry.delivery)}` : "";
    this.settle(entry, { error: new OperationalError("job_failed", `block ${block}: job ${jobId} failed on the queue: ${failedReason}${last}`, { block }) });
  }

  private settleWithResult(entry: Pending, returnvalue: unknown): void {
    const parsed = blockJobResultSchema.safeParse(typeof returnvalue === "string" ? safeParse(returnvalue) : returnvalue);
    const block = entry.request.block.name;
    if (!parsed.success) {
      this.settle(entry, { error: new UnexpectedError("invalid_job_result", `block ${block}: job ${entry.jobId} returned an invalid result: ${parsed.error.message}`, { block }) });
      return;
    }
    this.settle(entry, { result: parsed.data });
  }

  private settle(entry: Pending, outcome: { result: BlockJobResult } | { error: unknown }): void {
    if (entry.settled) return;
    entry.settled = true;
    if (entry.guard) clearTimeout(entry.guard);
    this.pending.delete(entry.jobId);
    if ("error" in outcome) {
      entry.reject(outcome.error);
      return;
    }
    const { result } = outcome;
    this.options.onJobDone?.({
      jobId: entry.jobId,
      queue: entry.queue,
      runId: entry.request.runId,
      block: entry.request.block.name,
      ok: result.ok,
      workerId: result.workerId,
      delivery: result.delivery,
      enqueuedAt: entry.enqueuedAt,
      startedAt: result.startedAt,
      endedAt: result.endedAt,
    });
    if (!result.ok) {
      entry.reject(fromRemoteError(result.error));
      return;
    }
    entry.resolve({
      output: result.output ? relocateOutput(result.output, this.options.outputsDir) : null,
      sensorResult: result.sensorResult,
      ...(result.writes ? { writes: result.writes } : {}),
      ...(result.tests ? { tests: result.tests } : {}),
    });
  }

  /** Reads the state of jobs with no news for a while: catches events missed while Redis was away. */
  private async reconcile(): Promise<void> {
    if (this.reconciling || this.closed) return;
    this.reconciling = true;
    try {
      const quietFor = this.options.reconcileAfterMs ?? 5000;
      const now = Date.now();
      for (const entry of [...this.pending.values()]) {
        if (entry.settled || now - entry.lastNews < quietFor) continue;
        entry.lastNews = now;
        const handle = await this.handle(entry.queue);
        const job = await handle.queue.getJob(entry.jobId);
        if (entry.settled) continue;
        if (!job) {
          // Redis lost the job (restarted without persistence): add it again under the same id.
          await handle.queue.add(entry.request.block.name, entry.job, jobOptions(entry.jobId));
          continue;
        }
        const state = await job.getState();
        if (state === "completed") this.settleWithResult(entry, job.returnvalue);
        else if (state === "failed") this.onFailed(entry.jobId, job.failedReason);
        else if (state === "active") await this.checkWorker(entry, handle, job.processedBy ?? null, now);
        else entry.workerGoneSince = null; // back in the queue (handed back, or re-queued by a stalled check): it waits for a worker
      }
    } catch {
      // Redis unreachable: try again on the next tick.
    } finally {
      this.reconciling = false;
    }
  }

  /**
   * Fails an active job as `worker_lost` once its worker has had no heartbeat for `workerLostAfterMs` and no
   * worker started it again meanwhile (a "started" message clears the mark). A job stays active under a dead
   * worker when no live worker of its queue runs BullMQ's stalled-job check: nobody will take it up, so its
   * block run ends per the block's retry policy instead of staying `running` for a worker that is gone.
   */
  private async checkWorker(entry: Pending, handle: QueueHandle, processedBy: string | null, now: number): Promise<void> {
    const workerId = entry.delivery?.workerId ?? processedBy;
    if (workerId === null || (await this.commands.exists(this.keys.worker(workerId))) === 1) {
      entry.workerGoneSince = null;
      return;
    }
    if (entry.settled) return;
    entry.workerGoneSince ??= now;
    const lostAfterMs = this.options.workerLostAfterMs ?? DEFAULT_WORKER_LOST_AFTER_MS;
    if (now - entry.workerGoneSince < lostAfterMs) return;
    const block = entry.request.block.name;
    const who = entry.delivery ? describeWorker(entry.delivery) : `worker ${workerId}`;
    const delivery = entry.delivery ? ` (delivery ${entry.delivery.number})` : "";
    const error = new OperationalError(
      "worker_lost",
      `block ${block}: ${who} stopped while running job ${entry.jobId}${delivery}, and no worker took the job up again within ${formatDuration(lostAfterMs)}`,
      { block },
    );
    entry.request.onLog({ at: new Date(now).toISOString(), level: "error", message: error.message });
    await this.withdraw(entry, handle, "worker_lost", error);
  }

  /** Tells workers to free what they hold for the run (its DuckDB database). */
  async endRun(runId: string): Promise<void> {
    if (this.closed) return;
    await this.commands.publish(this.keys.control, JSON.stringify({ type: "end_run", runId })).catch(() => undefined);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.reconcileTimer);
    for (const entry of [...this.pending.values()]) {
      this.settle(entry, { error: new OperationalError("executor_closed", `block ${entry.request.block.name}: the queue executor was closed`, { block: entry.request.block.name }) });
    }
    const handles = await Promise.allSettled(this.queues.values());
    for (const settled of handles) {
      if (settled.status !== "fulfilled") continue;
      const { events, queue } = settled.value;
      // After Redis restarted, BullMQ's close() was seen never to resolve (test/distributed/redis-restart):
      // a server must still shut down, so give it a few seconds, then drop the connections.
      await closeWithin(events.close(), CLOSE_WITHIN_MS, () => events.disconnect());
      await closeWithin(queue.close(), CLOSE_WITHIN_MS, () => queue.disconnect());
    }
    this.queues.clear();
    await this.subscribed?.catch(() => undefined);
    if (this.subscriber) await closeRedis(this.subscriber);
    await closeRedis(this.commands);
  }
}

const CLOSE_WITHIN_MS = 3000;
/** How long giving up on a job waits for its `cancelled` marker to be written before settling anyway. */
const MARK_WITHIN_MS = 250;
const DEFAULT_WORKER_LOST_AFTER_MS = 30_000;

function describeWorker(delivery: { workerId: string; host: string; pid: number }): string {
  return `worker ${delivery.workerId} (host ${delivery.host}, pid ${delivery.pid})`;
}

/**
 * Waits for `closing` up to `ms`, then starts `force` without waiting for it (BullMQ's `disconnect()` was
 * seen to hang too in that state). Errors of either are dropped: we are shutting down.
 */
async function closeWithin(closing: Promise<unknown>, ms: number, force: () => Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), ms);
  });
  try {
    const outcome = await Promise.race([closing.then(() => "closed" as const, () => "closed" as const), timedOut]);
    if (outcome === "timeout") void force().catch(() => undefined);
  } finally {
    clearTimeout(timer);
  }
}

function jobOptions(jobId: string): JobsOptions {
  // attempts: 1 — retries are the Runner's (per block policy, recorded as attempts); BullMQ re-delivers
  // only what a lost worker never finished (stalled jobs).
  return { jobId, attempts: 1, removeOnComplete: KEEP_COMPLETED, removeOnFail: KEEP_FAILED };
}

function cancelledError(request: BlockRunRequest): Error {
  const reason: unknown = request.signal.reason;
  if (reason instanceof Error) return reason;
  return new UserError("cancelled", `block ${request.block.name} was cancelled`, { block: request.block.name });
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
