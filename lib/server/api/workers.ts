/**
 * `GET /api/workers` and the workers page: what Flower is to Airflow. Live `sluice worker`
 * processes from their heartbeats and job counts per queue, read from Redis by the server's
 * `QueueMonitor`. With the local executor there are no workers and no Redis: the answer says so, and how
 * to switch to queue mode.
 *
 * Type-only imports from the engine: this module is bundled by Next, the monitor lives in the server.
 */
import type { WorkerRow, WorkersResponse } from "@/lib/core/api-contract";
import type { QueueSnapshot, WorkerHeartbeat } from "../../worker/workers-info";
import { getServices } from "../global-services";

export type { QueueRow, WorkerRow, WorkersResponse } from "@/lib/core/api-contract";

export const LOCAL_EXECUTOR_MESSAGE = "This server runs blocks with the local executor (worker threads in this process): there are no queue workers.";
export const ENABLE_QUEUE_MODE =
  "To run blocks on `sluice worker` processes, start the server with SLUICE_EXECUTOR=queue and REDIS_URL=redis://host:6379 " +
  "(plus DATABASE_URL=postgres://… for workers on other machines, or SLUICE_WORKERS_LOCAL=1 when they all run here), " +
  "then start workers with `npx sluice worker --concurrency N`.";

/**
 * Workers and queues now, or the local-executor answer.
 * @throws OperationalError `redis_unreachable` (→ 503) when Redis does not answer.
 */
export async function workersOverview(): Promise<WorkersResponse> {
  const monitor = getServices().workers;
  if (!monitor) return { executor: "local", message: LOCAL_EXECUTOR_MESSAGE, enable: ENABLE_QUEUE_MODE };
  return toResponse(await monitor.snapshot());
}

/** The snapshot in the API's snake_case. Pure. */
export function toResponse(snapshot: QueueSnapshot): WorkersResponse {
  return {
    executor: "queue",
    prefix: snapshot.prefix,
    checked_at: snapshot.at,
    workers: snapshot.workers.map(toWorkerRow),
    queues: snapshot.queues.map((q) => ({ queue: q.queue, waiting: q.waiting, active: q.active, delayed: q.delayed, failed: q.failed, completed: q.completed })),
  };
}

function toWorkerRow(worker: WorkerHeartbeat): WorkerRow {
  return {
    id: worker.id,
    host: worker.host,
    pid: worker.pid,
    queues: worker.queues,
    concurrency: worker.concurrency,
    state: worker.state,
    started_at: worker.startedAt,
    last_heartbeat: worker.lastHeartbeat,
    current_jobs: worker.currentJobs.map((job) => ({
      job_id: job.jobId,
      queue: job.queue,
      run_id: job.runId,
      block: job.block,
      delivery: job.delivery,
      started_at: job.startedAt,
    })),
    jobs_done: worker.jobsDone,
  };
}
