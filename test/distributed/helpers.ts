/** Shared by the distributed tests: pipeline folders on disk, unique BullMQ prefixes and their cleanup. */
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";

export const REDIS_URL = "redis://127.0.0.1:6379";
export const POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/test";

/** A BullMQ key prefix no other test run uses. */
export function uniquePrefix(label: string): string {
  return `sluice-test-${label}-${process.pid}-${randomBytes(4).toString("hex")}`;
}

/** Deletes every Redis key under `prefix:` (the queues, events streams, heartbeats of one test run). */
export async function deleteRedisPrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = "0";
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", "1000");
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== "0");
  return deleted;
}

export { writePipeline } from "../write-pipeline";

/** Polls `check` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
