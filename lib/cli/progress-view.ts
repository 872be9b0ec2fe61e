import { formatElapsed } from "../core/duration";
import type { BlockRunState, RunState } from "../core/run-model";

export interface BlockLine {
  name: string;
  state: BlockRunState;
  attempt: number;
  rows?: number;
  durationMs?: number;
  progress?: string;
  error?: string;
}

const ICONS: Record<BlockRunState, string> = {
  pending: "·",
  queued: "○",
  running: "▶",
  success: "✓",
  failed: "✗",
  up_for_retry: "↻",
  skipped: "-",
  upstream_failed: "✗",
  cancelled: "■",
};

/** Renders the run's per-block table as lines of text (pure, so the terminal redraw stays trivial). */
export function renderProgress(pipeline: string, runId: string, state: RunState, blocks: BlockLine[]): string[] {
  const width = Math.max(10, ...blocks.map((b) => b.name.length));
  const lines = [`${pipeline}  run ${runId}  ${state}`];
  for (const b of blocks) {
    const cells = [
      `  ${ICONS[b.state]} ${b.name.padEnd(width)}`,
      b.state.padEnd(15),
      b.rows !== undefined ? `${b.rows.toLocaleString("en-US")} rows`.padStart(16) : "".padStart(16),
      b.durationMs !== undefined ? formatElapsed(b.durationMs, "compact").padStart(8) : "".padStart(8),
    ];
    if (b.attempt > 1) cells.push(`attempt ${b.attempt}`);
    if (b.progress && b.state === "running") cells.push(b.progress);
    lines.push(cells.join(" ").trimEnd());
    if (b.error && (b.state === "failed" || b.state === "up_for_retry")) {
      for (const errorLine of b.error.split("\n").slice(0, 12)) lines.push(`      ${errorLine}`);
    }
  }
  return lines;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}
