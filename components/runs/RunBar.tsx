"use client";

import Link from "next/link";
import { BlockProgress } from "../editor/BlockProgress";
import { useEditor } from "../editor/EditorProvider";
import { RunPicker } from "../editor/RunPicker";
import styles from "./RunBar.module.css";

/** The live run at the top of the editor: what runs, its state, block progress (rows, bytes of total), and cancel. */
export function RunBar() {
  const run = useEditor((s) => s.run);
  const status = useEditor((s) => s.status);
  const progress = useEditor((s) => s.progress);
  const cancelRun = useEditor((s) => s.cancelRun);
  const remembered = useEditor((s) => Object.keys(s.status).length > 0 || s.viewRunId !== null);
  if (!run) {
    return (
      <div className={`run-bar idle ${styles.runBar}`} data-testid="run-bar">
        <div className={styles.summary}>
          <span>{remembered ? "Each block shows its last run; pick a run to see the notebook as of that run." : "No run yet — Run pipeline, or Shift+Enter in a block."}</span>
          <RunPicker />
        </div>
      </div>
    );
  }
  const mine = Object.entries(status).filter(([, s]) => s.runId === run.id);
  const done = mine.filter(([, s]) => s.state === "success").length;
  const failed = mine.filter(([, s]) => s.state === "failed" || s.state === "upstream_failed").length;
  const live = run.state === "queued" || run.state === "running";
  const what = run.mode === "pipeline" ? "pipeline" : `${run.block} (${run.mode.replace("_", " ")})`;
  const reporting = live ? mine.filter(([block, s]) => s.state === "running" && progress[block]?.runId === run.id) : [];
  return (
    <div className={`run-bar state-${run.state} ${styles.runBar}`} data-testid="run-bar" data-state={run.state}>
      <div className={styles.summary}>
        <span>
          Run{" "}
          <Link href={`/runs/${encodeURIComponent(run.id)}`} data-testid="run-link" title="Open the run page">
            {run.id.slice(-8)}
          </Link>{" "}
          · {what}: <strong data-testid="run-state">{run.state}</strong> · {done}/{mine.length} blocks done
          {failed > 0 ? ` · ${failed} failed` : ""}
        </span>
        {live ? (
          <button type="button" onClick={() => void cancelRun()}>
            Cancel
          </button>
        ) : (
          <RunPicker />
        )}
      </div>
      {reporting.length > 0 && (
        <div className={styles.progress} data-testid="run-bar-progress">
          {reporting.map(([block]) => {
            const view = progress[block];
            return view ? <BlockProgress key={block} block={block} progress={view} showName /> : null;
          })}
        </div>
      )}
    </div>
  );
}
