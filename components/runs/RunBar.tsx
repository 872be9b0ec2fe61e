"use client";

import { useEditor } from "../editor/EditorProvider";

/** The live run at the top of the editor: what runs, its state, block progress, and cancel. */
export function RunBar() {
  const run = useEditor((s) => s.run);
  const status = useEditor((s) => s.status);
  const cancelRun = useEditor((s) => s.cancelRun);
  if (!run) return <div className="run-bar idle" data-testid="run-bar">No run yet — Run pipeline, or Shift+Enter in a block.</div>;
  const mine = Object.values(status).filter((s) => s.runId === run.id);
  const done = mine.filter((s) => s.state === "success").length;
  const failed = mine.filter((s) => s.state === "failed" || s.state === "upstream_failed").length;
  const live = run.state === "queued" || run.state === "running";
  const what = run.mode === "pipeline" ? "pipeline" : `${run.block} (${run.mode.replace("_", " ")})`;
  return (
    <div className={`run-bar state-${run.state}`} data-testid="run-bar" data-state={run.state}>
      <span>
        Run {run.id.slice(-8)} · {what}: <strong data-testid="run-state">{run.state}</strong> · {done}/{mine.length} blocks done
        {failed > 0 ? ` · ${failed} failed` : ""}
      </span>
      {live && (
        <button type="button" onClick={() => void cancelRun()}>
          Cancel
        </button>
      )}
    </div>
  );
}
