"use client";

import { useEffect, useState } from "react";
import { apiCall, seg } from "@/components/ui/api-client";
import type { BackfillJson, ResponseOf } from "@/lib/core/api-contract";
import styles from "./triggers.module.css";

/** `datetime-local` value → ISO instant (read in the browser's zone), or the text as typed. */
function toIso(value: string): string {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? value : new Date(ms).toISOString();
}

const done = (b: BackfillJson) => b.state !== "running";

/** Backfill a date range on a schedule trigger: one run per logical date, with progress and cancel. */
export function BackfillPanel({ pipeline, triggers }: { pipeline: string; triggers: string[] }) {
  const [trigger, setTrigger] = useState(triggers[0] ?? "");
  const [start, setStart] = useState("");
  const [end, setEnd] = useState("");
  const [concurrency, setConcurrency] = useState(1);
  const [error, setError] = useState<string | null>(null);
  const [backfill, setBackfill] = useState<BackfillJson | null>(null);
  const chosen = triggers.includes(trigger) ? trigger : (triggers[0] ?? "");
  const base = `/api/pipelines/${seg(pipeline)}/triggers/${seg(chosen)}/backfills`;

  const backfillId = backfill && !done(backfill) ? backfill.id : null;
  useEffect(() => {
    if (backfillId === null) return;
    const timer = setInterval(() => {
      void apiCall<ResponseOf<"getBackfill">>(`${base}/${seg(backfillId)}`).then((result) => {
        if (result.ok) setBackfill(result.data.backfill);
      });
    }, 1000);
    return () => clearInterval(timer);
  }, [backfillId, base]);

  async function submit() {
    const result = await apiCall<ResponseOf<"createBackfill">>(base, { method: "POST", body: { start: toIso(start), end: toIso(end), concurrency } });
    if (result.ok) {
      setBackfill(result.data.backfill);
      setError(null);
    } else setError(result.error.message);
  }

  async function cancel() {
    if (!backfill) return;
    const result = await apiCall<ResponseOf<"cancelBackfill">>(`${base}/${seg(backfill.id)}/cancel`, { method: "POST" });
    if (result.ok) setBackfill(result.data.backfill);
    else setError(result.error.message);
  }

  const finished = backfill ? backfill.success + backfill.failed + backfill.cancelled : 0;
  return (
    <section className={styles.section} data-testid="backfill">
      <h2>Backfill</h2>
      <form
        className={styles.row}
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <div className={styles.field}>
          <label htmlFor="backfill-trigger">Trigger</label>
          <select id="backfill-trigger" className={styles.input} value={chosen} onChange={(e) => setTrigger(e.target.value)}>
            {triggers.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </div>
        <div className={styles.field}>
          <label htmlFor="backfill-start">From</label>
          <input id="backfill-start" type="datetime-local" className={styles.input} value={start} onChange={(e) => setStart(e.target.value)} required />
        </div>
        <div className={styles.field}>
          <label htmlFor="backfill-end">To</label>
          <input id="backfill-end" type="datetime-local" className={styles.input} value={end} onChange={(e) => setEnd(e.target.value)} required />
        </div>
        <div className={styles.field}>
          <label htmlFor="backfill-concurrency">Concurrency</label>
          <input id="backfill-concurrency" type="number" min={1} max={32} className={styles.input} value={concurrency} onChange={(e) => setConcurrency(Math.max(1, Number(e.target.value) || 1))} />
        </div>
        <button type="submit" className={`${styles.button} ${styles.primary}`}>
          Start backfill
        </button>
      </form>
      {error && (
        <p className={styles.error} role="alert">
          {error}
        </p>
      )}
      {backfill && (
        <div data-testid="backfill-progress">
          <div className={styles.row}>
            <span className={`${styles.badge} ${styles[`state_${backfill.state}`] ?? ""}`}>{backfill.state}</span>
            <div className={styles.progress}>
              <div className={styles.progressBar} style={{ width: `${backfill.total === 0 ? 100 : (100 * finished) / backfill.total}%` }} />
            </div>
            <span>
              {finished} / {backfill.total} done · {backfill.running} running · {backfill.queued} queued · {backfill.pending} pending · {backfill.failed} failed · {backfill.cancelled} cancelled
            </span>
            {!done(backfill) && (
              <button type="button" className={`${styles.button} ${styles.danger}`} onClick={() => void cancel()}>
                Cancel backfill
              </button>
            )}
          </div>
        </div>
      )}
    </section>
  );
}
