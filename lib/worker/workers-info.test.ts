import { randomBytes } from "node:crypto";
import { closeRedis, openRedis } from "../executors/queue-redis";
import { toResponse } from "../server/api/workers";
import { QueueMonitor, listWorkers, queueCounts, readHeartbeat, removeHeartbeat, writeHeartbeat, type WorkerHeartbeat } from "./workers-info";

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

  it("reads one worker's heartbeat, null once it is gone", async () => {
    await writeHeartbeat(redis, prefix, heartbeat("w5", ["default"]), 60_000);
    expect((await readHeartbeat(redis, prefix, "w5"))?.id).toBe("w5");
    await removeHeartbeat(redis, prefix, "w5");
    expect(await readHeartbeat(redis, prefix, "w5")).toBeNull();
  });

  it("QueueMonitor: a snapshot of workers and queues, in the API's shape", async () => {
    const monitor = new QueueMonitor("redis://127.0.0.1:6379", prefix);
    try {
      const w = heartbeat("w6", ["heavy"]);
      w.currentJobs = [{ jobId: "run1:load:1", queue: "heavy", runId: "run1", block: "load", delivery: 2, startedAt: w.startedAt }];
      await writeHeartbeat(redis, prefix, w, 60_000);
      const snapshot = await monitor.snapshot();
      expect(snapshot.workers.map((x) => x.id)).toContain("w6");
      expect(snapshot.queues.map((q) => q.queue)).toEqual(expect.arrayContaining(["default", "heavy"]));
      const response = toResponse(snapshot);
      if (response.executor !== "queue") throw new Error("expected queue mode");
      expect(response.workers.find((x) => x.id === "w6")).toMatchObject({
        pid: 1,
        queues: ["heavy"],
        last_heartbeat: w.lastHeartbeat,
        current_jobs: [{ job_id: "run1:load:1", queue: "heavy", run_id: "run1", block: "load", delivery: 2, started_at: w.startedAt }],
        jobs_done: 0,
      });
    } finally {
      await monitor.close();
    }
  });

  it("QueueMonitor: Redis not answering is an operational error naming it, at once", async () => {
    const monitor = new QueueMonitor("redis://127.0.0.1:1", prefix);
    const started = Date.now();
    try {
      await expect(monitor.snapshot()).rejects.toMatchObject({ kind: "operational", code: "redis_unreachable", message: expect.stringMatching(/Redis at 127\.0\.0\.1:1 did not answer/) });
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await monitor.close();
    }
  });
});
