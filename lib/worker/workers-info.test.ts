import { randomBytes } from "node:crypto";
import { closeRedis, openRedis } from "../executors/queue-redis";
import { listWorkers, queueCounts, removeHeartbeat, writeHeartbeat, type WorkerHeartbeat } from "./workers-info";

// Real Redis (127.0.0.1:6379), a prefix of its own.
describe("workers info", () => {
  const prefix = `sluice-test-info-${process.pid}-${randomBytes(4).toString("hex")}`;
  const redis = openRedis("redis://127.0.0.1:6379");

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await closeRedis(redis);
  });

  function heartbeat(id: string, queues: string[]): WorkerHeartbeat {
    const now = new Date().toISOString();
    return { id, host: "h", pid: 1, queues, concurrency: 2, state: "running", startedAt: now, lastHeartbeat: now, currentJobs: [], jobsDone: 0 };
  }

  it("lists live workers, drops expired and removed ones", async () => {
    await writeHeartbeat(redis, prefix, heartbeat("w1", ["default"]), 60_000);
    await writeHeartbeat(redis, prefix, heartbeat("w2", ["heavy"]), 100);
    await writeHeartbeat(redis, prefix, heartbeat("w3", ["default"]), 60_000);
    expect((await listWorkers(redis, prefix)).map((w) => w.id).sort()).toEqual(["w1", "w2", "w3"]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await removeHeartbeat(redis, prefix, "w3");
    expect((await listWorkers(redis, prefix)).map((w) => w.id)).toEqual(["w1"]);
    expect(await redis.zcard(`${prefix}:sluice:workers`)).toBe(1);
  });

  it("counts jobs of the queues live workers pull, plus default", async () => {
    await writeHeartbeat(redis, prefix, heartbeat("w4", ["light"]), 60_000);
    const counts = await queueCounts(redis, prefix);
    expect(counts.map((c) => c.queue)).toEqual(["default", "light"]);
    expect(counts[0]).toEqual({ queue: "default", waiting: 0, active: 0, delayed: 0, completed: 0, failed: 0 });
    expect(redis.status).toBe("ready"); // BullMQ did not close the shared connection
  });
});
