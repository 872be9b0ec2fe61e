/**
 * Redis connections for the queue executor and the workers. BullMQ owns the connections it blocks on
 * (workers' job fetching, QueueEvents' stream reads): they get connection *options* and create and close
 * their own. Sluice's own pub/sub and commands use `openRedis`.
 */
import type { ConnectionOptions } from "bullmq";
import { Redis, type RedisOptions } from "ioredis";
import { UserError } from "../core/errors";

/**
 * `redis://[user:password@]host[:port][/db]` (or `rediss://` for TLS) as ioredis options, with
 * `maxRetriesPerRequest: null` as BullMQ requires: a command waits for Redis to come back instead of
 * failing after a few retries, so a Redis restart pauses a run instead of failing it.
 *
 * @throws UserError `invalid_redis_url` naming the variable.
 */
export function redisOptionsFromUrl(url: string): RedisOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UserError("invalid_redis_url", `REDIS_URL ${JSON.stringify(url)} is not a URL; expected redis://host:6379`);
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new UserError("invalid_redis_url", `REDIS_URL must start with redis:// or rediss://, got ${parsed.protocol}//`);
  }
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new UserError("invalid_redis_url", `REDIS_URL database ${JSON.stringify(parsed.pathname.slice(1))} is not a number`);
  return {
    host: parsed.hostname || "127.0.0.1",
    port: parsed.port ? Number(parsed.port) : 6379,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db,
    tls: parsed.protocol === "rediss:" ? {} : undefined,
    maxRetriesPerRequest: null,
  };
}

/** Connection options for BullMQ's own connections (it creates and closes them). Validates the URL first. */
export function bullConnection(url: string): ConnectionOptions {
  redisOptionsFromUrl(url);
  return { url, maxRetriesPerRequest: null };
}

/** A fresh ioredis connection (BullMQ-compatible settings). */
export function openRedis(url: string): Redis {
  return new Redis(redisOptionsFromUrl(url));
}

/** Closes a connection, falling back to a hard disconnect when Redis is gone (QUIT would wait forever). */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === "end") return;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([redis.quit(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error("quit timed out")), 2000)))]);
  } catch {
    redis.disconnect();
  } finally {
    clearTimeout(timer);
  }
}
