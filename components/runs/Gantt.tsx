import type { BlockView } from "@/lib/server/api/runs-history-service";
import styles from "../triggers/triggers.module.css";

/**
 * A simple timeline: one bar per block, positioned by start and end relative to the run's span. A block
 * still running extends to `nowMs`.
 */
export function Gantt({ blocks, nowMs }: { blocks: BlockView[]; nowMs: number }) {
  const spans = blocks
    .filter((b) => b.started_at !== null)
    .map((b) => {
      const start = Date.parse(b.started_at ?? "");
      const end = b.ended_at ? Date.parse(b.ended_at) : nowMs;
      return { block: b.block, state: b.state, start, end: Math.max(end, start) };
    });
  if (spans.length === 0) return <p className={styles.muted}>No block has started yet.</p>;
  const min = Math.min(...spans.map((s) => s.start));
  const max = Math.max(...spans.map((s) => s.end));
  const total = Math.max(max - min, 1);
  return (
    <div className={styles.gantt} data-testid="gantt">
      {spans.map((s) => (
        <div key={s.block} className={styles.ganttRow}>
          <div className={styles.ganttLabel}>{s.block}</div>
          <div className={styles.ganttTrack}>
            <div
              className={`${styles.ganttBar} ${styles[`bar_${s.state}`] ?? ""}`}
              data-testid={`gantt-${s.block}`}
              title={`${s.block}: ${s.state}, ${s.end - s.start} ms`}
              style={{ left: `${(100 * (s.start - min)) / total}%`, width: `${(100 * (s.end - s.start)) / total}%` }}
            />
          </div>
        </div>
      ))}
      <div className={styles.muted}>span: {total} ms</div>
    </div>
  );
}
