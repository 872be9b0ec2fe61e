"use client";

import Link from "next/link";
import { useEffect, useState } from "react";
import { formatBytes } from "./progress";
import { formatCount, formatTime } from "../ui/format";
import { seg } from "../ui/api-client";
import { useEditor } from "./EditorProvider";
import { describeRunMode, describeTests } from "./notebook-memory";
import styles from "./CellFeedback.module.css";

/** `run 1a2b3c4d (block clean)`, linked to the run page. */
function RunLink({ runId }: { runId: string }) {
  const label = useEditor((s) => s.runLabels[runId]);
  return (
    <Link href={`/runs/${seg(runId)}`} title={label ? `created ${formatTime(label.createdAt)}` : undefined}>
      run {runId.slice(-8)}
      {label ? ` (${describeRunMode(label.mode, label.block)})` : ""}
    </Link>
  );
}

/**
 * Under a cell's header: which run its state came from (after a reload it is whichever run ran the block
 * last), what an exporter wrote, the data test's outcome and a sensor's pokes. Nothing while no run is known.
 */
export function CellFeedback({ block }: { block: string }) {
  const status = useEditor((s) => s.status[block]);
  const liveRun = useEditor((s) => s.run?.id ?? null);
  if (!status || status.state === "pending" || status.state === "queued") return null;
  const writes = status.writes ?? [];
  const tests = status.tests;
  return (
    <div className={styles.feedback} data-testid={`feedback-${block}`}>
      {status.runId !== liveRun && (
        <span className={styles.origin} data-testid={`origin-${block}`}>
          from <RunLink runId={status.runId} />
        </span>
      )}
      {tests && (
        <span className={tests.failed === null ? styles.passed : styles.failed} data-testid={`tests-${block}`}>
          {describeTests(tests)}
        </span>
      )}
      {(status.pokes ?? 0) > 0 && <span data-testid={`pokes-${block}`}>{formatCount(status.pokes)} pokes</span>}
      {writes.length > 0 && (
        <ul className={styles.writes} data-testid={`writes-${block}`} aria-label={`${block} wrote`}>
          {writes.map((w, i) => (
            <li key={i} className={styles.write}>
              wrote {formatCount(w.rows)} rows{w.bytes !== undefined ? ` (${formatBytes(w.bytes)})` : ""} to {w.connector} <span className={styles.location}>{w.location}</span>
            </li>
          ))}
        </ul>
      )}
      {status.state === "success" && writes.length === 0 && !tests && status.rows === null && (status.pokes ?? 0) === 0 && <span>succeeded without output</span>}
    </div>
  );
}

/** Above a preview that comes from another run than the block's state (its latest run failed, or did not return a table). */
export function PreviewOrigin({ block }: { block: string }) {
  const outputRun = useEditor((s) => s.outputs[block]?.runId);
  const statusRun = useEditor((s) => s.status[block]?.runId);
  if (!outputRun || outputRun === statusRun) return null;
  return (
    <div className={styles.previewLabel} data-testid={`preview-origin-${block}`}>
      output of <RunLink runId={outputRun} />
    </div>
  );
}

/**
 * A block's log lines: streamed while it runs; for a block remembered from an earlier run they are read
 * when opened (a failed one's at once), so opening a pipeline does not read every block's log.
 */
export function CellLogs({ block }: { block: string }) {
  const logs = useEditor((s) => s.logs[block]);
  const status = useEditor((s) => s.status[block]);
  const loadLogs = useEditor((s) => s.loadLogs);
  const [open, setOpen] = useState(status?.state === "failed");
  const unread = logs === undefined && status !== undefined && !["pending", "queued", "running"].includes(status.state);
  useEffect(() => {
    if (unread && status?.state === "failed") void loadLogs(block);
  }, [unread, status?.state, loadLogs, block]);
  useEffect(() => {
    if (status?.state === "failed") setOpen(true);
  }, [status?.state]);
  if (!unread && (!logs || logs.length === 0)) return null;
  return (
    <details
      className="logs"
      open={open}
      onToggle={(e) => {
        const nowOpen = e.currentTarget.open;
        setOpen(nowOpen);
        if (nowOpen && unread) void loadLogs(block);
      }}
    >
      <summary>logs{logs ? ` (${logs.length})` : ""}</summary>
      {logs && (
        <pre data-testid={`logs-${block}`}>
          {logs.length === 0 ? "(no log lines)" : logs.map((l) => `${l.at.slice(11, 23)} ${l.level.padEnd(5)} ${l.message}`).join("\n")}
        </pre>
      )}
    </details>
  );
}
