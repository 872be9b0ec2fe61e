"use client";

import Link from "next/link";
import { useEffect, useState } from "react";
import { apiCall } from "@/components/ui/api-client";
import type { QueueRow, ResponseOf, WorkerRow, WorkersResponse } from "@/lib/core/api-contract";
import styles from "./workers.module.css";

/** How often the page asks the server again. Heartbeats come every 2 s, so faster shows nothing new. */
const POLL_MS = 2000;

/** Seconds between two ISO instants, as "3 s" / "2 min" (both read on the server: no clock skew). */
function age(from: string, to: string): string {
  const seconds = Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 1000));
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

/** The workers page: live workers and queues, polled from `GET /api/workers`. */
export function WorkersPage({ initial, initialError }: { initial: WorkersResponse | null; initialError: string | null }) {
  const [data, setData] = useState<WorkersResponse | null>(initial);
  const [error, setError] = useState<string | null>(initialError);
  useEffect(() => {
    if (data?.executor === "local") return; // the executor does not change while the server runs
    let cancelled = false;
    const poll = async () => {
      const result = await apiCall<ResponseOf<"workers">>("/api/workers");
      if (cancelled) return;
      if (result.ok) {
        setData(result.data);
        setError(null);
      } else {
        setError(result.error.message); // keep the last good data on screen, marked stale
      }
    };
    const timer = setInterval(() => void poll(), POLL_MS);
    return () => {
      cancelled = true;
      clearInterval(timer);
    };
  }, [data?.executor]);

  return (
    <main className={styles.page}>
      <div className={styles.head}>
        <h1>Workers</h1>
        {data?.executor === "queue" && (
          <span className={styles.muted} data-testid="checked-at">
            queue prefix <code>{data.prefix}</code> · updated {new Date(data.checked_at).toLocaleTimeString()} · every {POLL_MS / 1000} s
          </span>
        )}
      </div>
      {error && (
        <p className={styles.error} role="alert">
          {error}
          {data ? " — showing the last answer" : ""}
        </p>
      )}
      {data?.executor === "local" && <LocalExecutorNotice message={data.message} enable={data.enable} />}
      {data?.executor === "queue" && (
        <>
          <section className={styles.section}>
            <h2>Workers ({data.workers.length})</h2>
            <WorkersTable workers={data.workers} now={data.checked_at} />
          </section>
          <section className={styles.section}>
            <h2>Queues</h2>
            <QueuesTable queues={data.queues} />
          </section>
        </>
      )}
    </main>
  );
}

function LocalExecutorNotice({ message, enable }: { message: string; enable: string }) {
  return (
    <section className={styles.section} data-testid="local-executor">
      <p className={styles.notice}>{message}</p>
      <p>{enable}</p>
      <code className={styles.code}>
        {"SLUICE_EXECUTOR=queue REDIS_URL=redis://127.0.0.1:6379 DATABASE_URL=postgres://… npx sluice start\n"}
        {"REDIS_URL=redis://127.0.0.1:6379 DATABASE_URL=postgres://… npx sluice worker --concurrency 4"}
      </code>
    </section>
  );
}

function WorkersTable({ workers, now }: { workers: WorkerRow[]; now: string }) {
  if (workers.length === 0) {
    return <p className={styles.muted}>No worker is alive. Start one with <code>npx sluice worker</code>; it appears here within 2 s.</p>;
  }
  return (
    <table className={styles.table} data-testid="workers-table">
      <thead>
        <tr>
          <th>Worker</th>
          <th>Host</th>
          <th className={styles.num}>PID</th>
          <th>Queues</th>
          <th className={styles.num}>Slots</th>
          <th>State</th>
          <th>Current jobs</th>
          <th className={styles.num}>Jobs done</th>
          <th>Heartbeat</th>
          <th>Up</th>
        </tr>
      </thead>
      <tbody>
        {workers.map((w) => (
          <tr key={w.id} data-testid="worker-row" data-worker-id={w.id}>
            <td>
              <code>{w.id}</code>
            </td>
            <td>{w.host}</td>
            <td className={styles.num} data-testid="worker-pid">
              {w.pid}
            </td>
            <td>{w.queues.join(", ")}</td>
            <td className={styles.num}>
              {w.current_jobs.length}/{w.concurrency * w.queues.length}
            </td>
            <td>
              <span className={`${styles.badge} ${styles[w.state] ?? ""}`}>{w.state}</span>
            </td>
            <td>
              {w.current_jobs.length === 0 ? (
                <span className={styles.muted}>idle</span>
              ) : (
                <ul className={styles.jobs}>
                  {w.current_jobs.map((job) => (
                    <li key={job.job_id} data-testid="worker-job">
                      <Link href={`/runs/${encodeURIComponent(job.run_id)}`}>{job.run_id}</Link> · {job.block}
                      {job.delivery > 1 ? ` (delivery ${job.delivery})` : ""} · {age(job.started_at, now)}
                    </li>
                  ))}
                </ul>
              )}
            </td>
            <td className={styles.num}>{w.jobs_done}</td>
            <td title={w.last_heartbeat}>{age(w.last_heartbeat, now)} ago</td>
            <td title={w.started_at}>{age(w.started_at, now)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function QueuesTable({ queues }: { queues: QueueRow[] }) {
  return (
    <table className={styles.table} data-testid="queues-table">
      <thead>
        <tr>
          <th>Queue</th>
          <th className={styles.num}>Waiting</th>
          <th className={styles.num}>Active</th>
          <th className={styles.num}>Delayed</th>
          <th className={styles.num}>Failed</th>
          <th className={styles.num}>Completed (kept 1 h)</th>
        </tr>
      </thead>
      <tbody>
        {queues.map((q) => (
          <tr key={q.queue} data-testid="queue-row" data-queue={q.queue}>
            <td>{q.queue}</td>
            <td className={styles.num}>{q.waiting}</td>
            <td className={styles.num}>{q.active}</td>
            <td className={styles.num}>{q.delayed}</td>
            <td className={styles.num}>{q.failed}</td>
            <td className={styles.num}>{q.completed}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
