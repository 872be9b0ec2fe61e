"use client";

import Link from "next/link";
import { seg } from "../ui/api-client";
import { formatTime } from "../ui/format";
import { useEditor } from "./EditorProvider";
import { describeRunMode } from "./notebook-memory";
import styles from "./RunPicker.module.css";

const LATEST = "";

/**
 * Which run the notebook shows: each block as last run (the default, and what a reload shows), or the
 * notebook as of one run of this pipeline — its block states and previews. The list loads when first opened.
 */
export function RunPicker() {
  const viewRunId = useEditor((s) => s.viewRunId);
  const history = useEditor((s) => s.runHistory);
  const labels = useEditor((s) => s.runLabels);
  const showRun = useEditor((s) => s.showRun);
  const loadRunHistory = useEditor((s) => s.loadRunHistory);
  const runs = history ?? [];
  const chosen = viewRunId ?? LATEST;
  const chosenMissing = viewRunId !== null && !runs.some((r) => r.id === viewRunId);
  return (
    <span className={styles.picker} data-testid="run-picker">
      <label htmlFor="run-picker-select">Show</label>
      <select
        id="run-picker-select"
        className={styles.select}
        value={chosen}
        onFocus={() => {
          if (history === null) void loadRunHistory();
        }}
        onPointerDown={() => {
          if (history === null) void loadRunHistory();
        }}
        onChange={(e) => void showRun(e.target.value === LATEST ? null : e.target.value)}
      >
        <option value={LATEST}>each block as last run</option>
        {chosenMissing && viewRunId && (
          <option value={viewRunId}>
            run {viewRunId.slice(-8)}
            {labels[viewRunId] ? ` · ${describeRunMode(labels[viewRunId].mode, labels[viewRunId].block)}` : ""}
          </option>
        )}
        {runs.map((r) => (
          <option key={r.id} value={r.id}>
            {formatTime(r.created_at)} · {describeRunMode(r.mode, r.block)} · {r.state} · {r.id.slice(-8)}
          </option>
        ))}
      </select>
      {viewRunId && (
        <Link className={styles.link} href={`/runs/${seg(viewRunId)}`}>
          open run page
        </Link>
      )}
    </span>
  );
}
