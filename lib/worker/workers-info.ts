/**
 * What the workers page (Flower for Sluice) shows: live workers from their Redis heartbeats, and job
 * counts per queue from BullMQ. A heartbeat is a key with a time-to-live of a few intervals, so a worker
 * that dies disappears on its own; the sorted set of worker ids is only an index and is pruned on read.
 */
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { z } from "zod";
import { messageOf, OperationalError } from "../core/errors";
import { DEFAULT_QUEUE, DEFAULT_QUEUE_PREFIX, queueKeys } from "../executors/queue-protocol";
import { closeRedis, redisOptionsFromUrl } from "../executors/queue-redis";

/** One worker as its last heartbeat described it. */
export const workerHeartbeatSchema = z.object({
  id: z.string(),
  host: z.string(),
  pid: z.number(),
  queues: z.array(z.string()),
  concurrency: z.number(),
  state: z.enum(["running", "stopping"]),
  startedAt: z.string(),
  lastHeartbeat: z.string(),
  currentJobs: z.array(z.object({ jobId: z.string(), queue: z.string(), runId: z.string(), block: z.string(), delivery: z.number(), startedAt: z.string() })),
  jobsDone: z.number(),
});
export type WorkerHeartbeat = z.infer<typeof workerHeartbeatSchema>;

/** Writes a heartbeat that expires after `ttlMs` unless renewed. */
export async function writeHeartbeat(redis: Redis, prefix: string, heartbeat: WorkerHeartbeat, ttlMs: number): Promise<void> {
  const keys = queueKeys(prefix);
  await redis
    .multi()
    .set(keys.worker(heartbeat.id), JSON.stringify(heartbeat), "PX", ttlMs)
    .zadd(keys.workers, String(Date.parse(heartbeat.startedAt)), heartbeat.id)
    .exec();
}

/** Removes a worker's heartbeat at once (graceful exit). */
export async function removeHeartbeat(redis: Redis, prefix: string, workerId: string): Promise<void> {
  const keys = queueKeys(prefix);
  await redis.multi().del(keys.worker(workerId)).zrem(keys.workers, workerId).exec();
}

/** One worker's live heartbeat, or null when it expired (the worker is gone, or Redis lost it). */
export async function readHeartbeat(redis: Redis, prefix: string, workerId: string): Promise<WorkerHeartbeat | null> {
  const value = await redis.get(queueKeys(prefix).worker(workerId));
  const parsed = value === null ? null : workerHeartbeatSchema.safeParse(safeJson(value));
  return parsed?.success ? parsed.data : null;
}

/** Live workers (heartbeat not expired), oldest first; prunes the index of dead ones. */
export async function listWorkers(redis: Redis, prefix: string = DEFAULT_QUEUE_PREFIX): Promise<WorkerHeartbeat[]> {
  const keys = queueKeys(prefix);
  const ids = await redis.zrange(keys.workers, "0", "-1");
  if (ids.length === 0) return [];
  const values = await redis.mget(ids.map((id) => keys.worker(id)));
  const live: WorkerHeartbeat[] = [];
  const dead: string[] = [];
  values.forEach((value, index) => {
    const parsed = value === null ? null : workerHeartbeatSchema.safeParse(safeJson(value));
    if (parsed?.success) live.push(parsed.data);
    else dead.push(ids[index]);
  });
  if (dead.length > 0) await redis.zrem(keys.workers, ...dead);
  return live;
}

/** Job counts of one queue, as the workers page shows them. */
export interface QueueCounts {
  queue: string;
  waiting: number;
  active: number;
  delayed: number;
  completed: number;
  failed: number;
}

/**
 * Counts per queue: the queues named, else every queue a live worker pulls plus `default`.
 * `connection` is given to BullMQ (an ioredis instance is shared, not closed).
 */
export async function queueCounts(redis: Redis, prefix: string = DEFAULT_QUEUE_PREFIX, queues?: readonly string[]): Promise<QueueCounts[]> {
  const names = queues ?? queuesOf(await listWorkers(redis, prefix));
  const result: QueueCounts[] = [];
  for (const name of names) {
    const queue = new Queue(name, { connection: redis, prefix });
    try {
      const counts = await queue.getJobCounts("waiting", "prioritized", "active", "delayed", "completed", "failed");
      result.push({
        queue: name,
        waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
        active: counts.active ?? 0,
        delayed: counts.delayed ?? 0,
        completed: counts.completed ?? 0,
        failed: counts.failed ?? 0,
      });
    } finally {
      await queue.close();
    }
  }
  return result;
}

/** Live workers and queue counts at one moment: what the workers page shows. */
export interface QueueSnapshot {
  prefix: string;
  workers: WorkerHeartbeat[];
  queues: QueueCounts[];
  /** ISO time the snapshot was read. */
  at: string;
}

/**
 * The server's read-only view of the workers and queues, over one Redis connection of its own, opened on
 * first use. Unlike the executor's connections (which wait for Redis to come back, so a run pauses instead
 * of failing), this one fails fast: a page asking while Redis is away gets an answer saying so at once.
 * It does not reconnect in the background either: the next request after a failure opens a new connection.
 */
export class QueueMonitor {
  private redis: Redis | null = null;

  constructor(
    private readonly redisUrl: string,
    readonly prefix: string = DEFAULT_QUEUE_PREFIX,
  ) {
    redisOptionsFromUrl(redisUrl); // a bad URL fails here, at start-up
  }

  private connection(): Redis {
    if (!this.redis || this.redis.status === "end") {
      this.redis = new Redis({ ...redisOptionsFromUrl(this.redisUrl), maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000, retryStrategy: () => null });
      this.redis.on("error", () => undefined); // reported per request below
    }
    return this.redis;
  }

  /**
   * Workers and queue counts now.
   * @throws OperationalError `redis_unreachable` naming the Redis host when it does not answer.
   */
  async snapshot(): Promise<QueueSnapshot> {
    const redis = this.connection();
    try {
      if (redis.status !== "ready") await waitReady(redis, 2000);
      const workers = await listWorkers(redis, this.prefix);
      const queues = await queueCounts(redis, this.prefix, queuesOf(workers));
      return { prefix: this.prefix, workers, queues, at: new Date().toISOString() };
    } catch (error) {
      await this.close();
      const { host, port } = redisOptionsFromUrl(this.redisUrl);
      throw new OperationalError("redis_unreachable", `Redis at ${host}:${port} did not answer: ${messageOf(error)}`, {}, { cause: error });
    }
  }

  async close(): Promise<void> {
    const redis = this.redis;
    this.redis = null;
    if (redis) await closeRedis(redis);
  }
}

/** `default` plus every queue a live worker pulls, sorted. */
function queuesOf(workers: readonly WorkerHeartbeat[]): string[] {
  return [...new Set([DEFAULT_QUEUE, ...workers.flatMap((w) => w.queues)])].sort();
}

function waitReady(redis: Redis, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (error: Error | null): void => {
      clearTimeout(timer);
      redis.off("ready", onReady);
      redis.off("end", onEnd);
      if (error) reject(error);
      else resolve();
    };
    const onReady = (): void => settle(null);
    const onEnd = (): void => settle(new Error("connection closed"));
    const timer = setTimeout(() => settle(new Error(`not connected after ${timeoutMs} ms (${redis.status})`)), timeoutMs);
    redis.once("ready", onReady);
    redis.once("end", onEnd);
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
