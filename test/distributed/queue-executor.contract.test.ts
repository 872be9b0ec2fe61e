import { QueueExecutor } from "../../lib/executors/queue-executor";
import { openRedis, closeRedis } from "../../lib/executors/queue-redis";
import { BlockWorker } from "../../lib/worker/block-worker";
import { describeExecutorContract } from "./executor-contract";
import { REDIS_URL, deleteRedisPrefix, uniquePrefix } from "./helpers";

// Real Redis, a real worker (in this process: the fault test spawns worker processes) pulling real jobs.
describeExecutorContract("queue", async ({ projectDir, dataDir, outputs }) => {
  const prefix = uniquePrefix("contract");
  const worker = await BlockWorker.start({ redisUrl: REDIS_URL, prefix, concurrency: 3, projectDir, dataDir, heartbeatIntervalMs: 500 });
  const executor = new QueueExecutor({ redisUrl: REDIS_URL, prefix, projectDir, outputsDir: outputs.outputsDir });
  return {
    executor,
    async close() {
      await executor.close();
      await worker.close(1000);
      const redis = openRedis(REDIS_URL);
      await deleteRedisPrefix(redis, prefix);
      await closeRedis(redis);
    },
  };
});
