"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { apiCall, seg } from "@/components/ui/api-client";
import type { ResponseOf } from "@/lib/core/api-contract";
import type { RunView } from "@/lib/server/api/runs-history-service";
import styles from "../triggers/triggers.module.css";
import { OutputPreview } from "../preview/OutputPreview";
import { formatCount, formatTime } from "../ui/format";
import { describeTests } from "../editor/notebook-memory";
import { Gantt } from "./Gantt";
import { BlockResult } from "./BlockResult";
import { describeRunKind } from "./run-kind";
import { LiveRefresh } from "./LiveRefresh";
import { InstanceList, splitInstances } from "./InstanceList";

function ms(value: number | null): string {
  if (value === null) return "";
  return value < 1000 ? `${value} ms` : `${(value / 1000).toFixed(1)} s`;
}

/** What each "did not finish" state means, so `skipped` (not a failure) never reads like `upstream_failed`. */
const STATE_MEANING: Record<string, string> = {
  skipped: "did not run, and that is not a failure (a false condition, no dynamic rows, its trigger rule, or a soft-failed sensor)",
  upstream_failed: "did not run because an upstream failed",
  cancelled: "stopped or never started: the run was cancelled",
  up_for_retry: "failed; will retry",
};

/** Block states a "Retry failed blocks" clears and re-runs inside the run. */
const RETRIED_STATES = new Set(["failed", "upstream_failed", "cancelled"]);

function span(start: string | null, end: string | null): number | null {
  if (!start || !end) return null;
  return Date.parse(end) - Date.parse(start);
}

/** One run: block runs, Gantt, logs per block and attempt, variables, cancel/retry; live while active. */
export function RunDetail({ view, nowMs }: { view: RunView; nowMs: number }) {
  const { run, blocks } = view;
  const router = useRouter();
  const [selected, setSelected] = useState<{ block: string; attempt: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [fromBlock, setFromBlock] = useState(blocks[0]?.block ?? "");

  // Dynamic instances are listed under their block, not as rows of their own.
  const { declared, groups } = splitInstances(blocks);
  const byName = new Map(blocks.map((b) => [b.block, b]));
  const orphanGroups = [...groups.keys()].filter((name) => !declared.some((b) => b.block === name));
  const failed = blocks.find((b) => b.state === "failed" || b.state === "upstream_failed");
  const retriable = blocks.filter((b) => RETRIED_STATES.has(b.state));
  const shownBlock = blocks.find((b) => b.block === selected?.block) ?? failed ?? blocks[0];
  const shownAttempt = shownBlock?.attempts.find((a) => a.attempt === selected?.attempt) ?? shownBlock?.attempts[shownBlock.attempts.length - 1];

  async function cancel() {
    const result = await apiCall<ResponseOf<"cancelRun">>(`/api/runs/${seg(run.id)}/cancel`, { method: "POST" });
    setError(result.ok ? null : result.error.message);
    router.refresh();
  }

  /** Clears and re-runs blocks inside this same run (same id, logical date, variables): the page stays. */
  async function retry(from?: string) {
    const result = await apiCall<ResponseOf<"retryRun">>(`/api/runs/${seg(run.id)}/retry`, { method: "POST", body: from ? { from_block: from } : {} });
    setError(result.ok ? null : result.error.message);
    router.refresh();
  }

  /** A new run with this run's logical date, data interval and variables. */
  async function runAgain() {
    const result = await apiCall<ResponseOf<"rerunRun">>(`/api/runs/${seg(run.id)}/rerun`, { method: "POST" });
    if (result.ok) router.push(`/runs/${seg(result.data.run_id)}`);
    else setError(result.error.message);
  }

  return (
    <main className={styles.page}>
      <LiveRefresh active={run.active} />
      <nav className={styles.crumbs}>
        <Link href="/runs">Runs</Link>
        <Link href={`/pipelines/${seg(run.pipeline)}`}>{run.pipeline}</Link>
        <Link href={`/pipelines/${seg(run.pipeline)}/triggers`}>Triggers</Link>
      </nav>
      <h1>
        Run <code>{run.id}</code>{" "}
        <span className={`${styles.badge} ${styles[`state_${run.state}`] ?? ""}`} data-testid="run-state">
          {run.state}
        </span>
      </h1>
      <p className={styles.muted}>
        {run.pipeline} · {run.trigger}
        {run.trigger_id ? ` (${run.trigger_id})` : ""} · <span data-testid="run-mode">{describeRunKind(run)}</span> · logical date {formatTime(run.logical_date)}
        {run.data_interval.start !== run.data_interval.end ? ` · data interval ${formatTime(run.data_interval.start)} – ${formatTime(run.data_interval.end)}` : ""} · duration{" "}
        {ms(span(run.started_at, run.ended_at))}
      </p>
      {run.error && (
        <p className={styles.error} role="alert">
          {run.error}
        </p>
      )}
      <div className={styles.row}>
        {run.active && (
          <button type="button" className={`${styles.button} ${styles.danger}`} onClick={() => void cancel()}>
            Cancel run
          </button>
        )}
        {!run.active && (
          <>
            {retriable.length > 0 && (
              <button type="button" className={styles.button} onClick={() => void retry()} data-testid="retry-failed">
                Retry failed blocks ({retriable.map((b) => b.block).join(", ")})
              </button>
            )}
            <button type="button" className={styles.button} onClick={() => void runAgain()} data-testid="run-again">
              Run again
            </button>
            <select aria-label="Retry from block" className={styles.input} value={fromBlock} onChange={(e) => setFromBlock(e.target.value)}>
              {blocks.map((b) => (
                <option key={b.block} value={b.block}>
                  {b.block}
                </option>
              ))}
            </select>
            <button type="button" className={styles.button} onClick={() => void retry(fromBlock)}>
              Retry from this block
            </button>
          </>
        )}
        {error && (
          <span className={styles.error} role="alert">
            {error}
          </span>
        )}
      </div>
      <section className={styles.section}>
        <h2>Blocks</h2>
        <table className={styles.table} data-testid="block-runs">
          <thead>
            <tr>
              <th>Block</th>
              <th>State</th>
              <th>Attempt</th>
              <th>Duration</th>
              <th>Rows</th>
              <th>Pokes</th>
              <th>Tests · writes</th>
              <th>Error</th>
            </tr>
          </thead>
          <tbody>
            {declared.map((b) => [
              <tr key={b.block} data-testid={`block-run-${b.block}`}>
                <td>
                  <button
                    type="button"
                    className={styles.button}
                    aria-pressed={shownBlock?.block === b.block}
                    title={b.has_output ? "Show its output and log" : "Show its log"}
                    onClick={() => setSelected({ block: b.block, attempt: b.attempt })}
                  >
                    {b.block}
                  </button>
                </td>
                <td>
                  <span className={`${styles.badge} ${styles[`state_${b.state}`] ?? ""}`} data-testid="block-state" title={STATE_MEANING[b.state]}>
                    {b.state}
                  </span>
                </td>
                <td>{b.attempt}</td>
                <td>{ms(b.duration_ms ?? span(b.started_at, b.ended_at))}</td>
                <td>{b.rows ?? ""}</td>
                <td title={b.last_poke_at ? `last poke ${b.last_poke_at}` : undefined}>{b.pokes > 0 ? b.pokes : ""}</td>
                <td data-testid={`block-result-${b.block}`}>
                  {b.tests ? describeTests(b.tests) : ""}
                  {b.tests && b.writes ? " · " : ""}
                  {b.writes ? `wrote ${formatCount(b.writes.reduce((sum, w) => sum + w.rows, 0))} rows` : ""}
                </td>
                <td className={styles.error}>{b.error ?? (STATE_MEANING[b.state] && b.state !== "up_for_retry" ? <span className={styles.muted}>{STATE_MEANING[b.state]}</span> : "")}</td>
              </tr>,
              groups.has(b.block) && (
                <tr key={`${b.block}[]`}>
                  <td colSpan={8}>
                    <InstanceList block={b.block} instances={groups.get(b.block) ?? []} views={byName} selected={selected?.block ?? null} onSelect={(name, attempt) => setSelected({ block: name, attempt })} />
                  </td>
                </tr>
              ),
            ])}
            {/* Instances whose block has no run row yet (the group is created as the instances end). */}
            {orphanGroups.map((name) => (
              <tr key={`${name}[]`}>
                <td colSpan={8}>
                  <InstanceList block={name} instances={groups.get(name) ?? []} views={byName} selected={selected?.block ?? null} onSelect={(instance, attempt) => setSelected({ block: instance, attempt })} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      {shownBlock && (
        <section className={styles.section} aria-label={`Output of ${shownBlock.block}`}>
          <h2>Output — {shownBlock.block}</h2>
          <BlockResult block={shownBlock} />
          {shownBlock.has_output && <OutputPreview key={`${run.id}/${shownBlock.block}`} runId={run.id} block={shownBlock.block} serial={0} endedAt={shownBlock.ended_at ?? ""} />}
        </section>
      )}
      <section className={styles.section}>
        <h2>Timeline</h2>
        <Gantt blocks={blocks} nowMs={nowMs} />
      </section>
      <section className={styles.section}>
        <h2>Logs{shownBlock ? ` — ${shownBlock.block}` : ""}</h2>
        {shownBlock && (
          <div className={styles.tabs}>
            {shownBlock.attempts.map((a) => (
              <button
                key={a.attempt}
                type="button"
                className={`${styles.button} ${a.attempt === shownAttempt?.attempt ? styles.tabActive : ""}`}
                onClick={() => setSelected({ block: shownBlock.block, attempt: a.attempt })}
              >
                attempt {a.attempt} · {a.state}
              </button>
            ))}
          </div>
        )}
        {shownAttempt ? (
          <div className={styles.log} data-testid="block-log">
            {shownAttempt.log.length === 0 && <span>(no log lines)</span>}
            {shownAttempt.log.map((line, i) => (
              <div key={i} className={styles[`log_${line.level}`] ?? ""}>
                {line.at.slice(11, 23)} {line.level.padEnd(5)} {line.message}
              </div>
            ))}
            {shownAttempt.error && <div className={styles.log_error}>{shownAttempt.error}</div>}
          </div>
        ) : (
          <p className={styles.muted}>No attempt yet.</p>
        )}
      </section>
      <section className={styles.section}>
        <h2>Variables</h2>
        <pre className={styles.code} data-testid="run-variables">
          {JSON.stringify(run.variables, null, 2)}
        </pre>
      </section>
    </main>
  );
}
