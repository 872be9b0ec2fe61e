import Link from "next/link";
import { RUN_STATES } from "@/lib/core/run-model";
import type { HistoryFilter, RunRow } from "@/lib/server/api/runs-history-service";
import styles from "../triggers/triggers.module.css";
import { formatTime } from "../ui/format";
import { LiveRefresh } from "./LiveRefresh";
import { describeRunKind } from "./run-kind";

function duration(run: RunRow): string {
  if (!run.started_at) return "";
  const end = run.ended_at ? Date.parse(run.ended_at) : Date.now();
  const ms = end - Date.parse(run.started_at);
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Run history with filters (state, pipeline, trigger, logical date): a plain GET form, so filters live in the URL. */
export function RunsList({ runs, filter, pipelines, error }: { runs: RunRow[]; filter: HistoryFilter; pipelines: string[]; error: string | null }) {
  const active = runs.some((r) => r.state === "queued" || r.state === "running");
  return (
    <main className={styles.page}>
      <LiveRefresh active={active} />
      <nav className={styles.crumbs}>
        <Link href="/">Pipelines</Link>
      </nav>
      <h1>Runs</h1>
      <form className={`${styles.section} ${styles.row}`} method="get" action="/runs">
        <div className={styles.field}>
          <label htmlFor="filter-state">State</label>
          <select id="filter-state" name="state" className={styles.input} defaultValue={filter.state ?? ""}>
            <option value="">any</option>
            {RUN_STATES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div className={styles.field}>
          <label htmlFor="filter-pipeline">Pipeline</label>
          <select id="filter-pipeline" name="pipeline" className={styles.input} defaultValue={filter.pipeline ?? ""}>
            <option value="">any</option>
            {pipelines.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </div>
        <div className={styles.field}>
          <label htmlFor="filter-trigger">Trigger (kind or name)</label>
          <input id="filter-trigger" name="trigger" className={styles.input} defaultValue={filter.trigger ?? ""} placeholder="api, schedule, nightly…" />
        </div>
        <div className={styles.field}>
          <label htmlFor="filter-from">Logical date from</label>
          <input id="filter-from" name="from" type="date" className={styles.input} defaultValue={filter.from ?? ""} />
        </div>
        <div className={styles.field}>
          <label htmlFor="filter-to">to</label>
          <input id="filter-to" name="to" type="date" className={styles.input} defaultValue={filter.to ?? ""} />
        </div>
        <button type="submit" className={styles.button}>
          Filter
        </button>
      </form>
      {error && (
        <p className={styles.error} role="alert">
          {error}
        </p>
      )}
      <table className={styles.table} data-testid="runs-table">
        <thead>
          <tr>
            <th>Run</th>
            <th>Pipeline</th>
            <th>State</th>
            <th>Trigger</th>
            <th>Mode</th>
            <th>Logical date</th>
            <th>Created</th>
            <th>Duration</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => (
            <tr key={r.id} data-testid="run-row" data-run-id={r.id}>
              <td>
                <Link href={`/runs/${encodeURIComponent(r.id)}`}>{r.id}</Link>
              </td>
              <td>{r.pipeline}</td>
              <td>
                <span className={`${styles.badge} ${styles[`state_${r.state}`] ?? ""}`} data-testid="run-state">
                  {r.state}
                </span>
              </td>
              <td>
                {r.trigger}
                {r.trigger_id ? ` · ${r.trigger_id}` : ""}
              </td>
              <td data-testid="run-mode">{describeRunKind(r)}</td>
              <td>{formatTime(r.logical_date)}</td>
              <td>{formatTime(r.created_at)}</td>
              <td>{duration(r)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {runs.length === 0 && <p className={styles.muted}>No runs match.</p>}
    </main>
  );
}
