/**
 * What the workers page (Flower for Sluice) shows: live workers from their Redis heartbeats, and job
 * counts per queue from BullMQ. A heartbeat is a key with a time-to-live of a few intervals, so a worker
 * that dies disappears on its own; the sorted set of worker ids is only an index and is pruned on read.
 */
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { z } from "zod";
import { DEFAULT_QUEUE, DEFAULT_QUEUE_PREFIX, queueKeys } from "../executors/queue-protocol";

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
  const names = queues ?? [...new Set([DEFAULT_QUEUE, ...(await listWorkers(redis, prefix)).flatMap((w) => w.queues)])].sort();
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

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
