/**
 * Block progress as the editor shows it (pure): the runner's `progress` events are partial — a download
 * reports bytes of a total, a writer reports rows — so updates of one block run merge into one picture.
 */

/** What a block reported so far in its current run (see `Progress` in lib/executors/types.ts). */
export interface BlockProgressView {
  runId: string;
  rows?: number;
  bytes?: number;
  totalBytes?: number;
  message?: string;
}

export interface ProgressUpdate {
  rows?: number;
  bytes?: number;
  totalBytes?: number;
  message?: string;
}

/** Merges an update into what the block run reported before; another run starts afresh. */
export function mergeProgress(previous: BlockProgressView | undefined, runId: string, update: ProgressUpdate): BlockProgressView {
  const base: BlockProgressView = previous && previous.runId === runId ? previous : { runId };
  const next: BlockProgressView = { ...base };
  if (update.rows !== undefined) next.rows = update.rows;
  if (update.bytes !== undefined) next.bytes = update.bytes;
  if (update.totalBytes !== undefined) next.totalBytes = update.totalBytes;
  if (update.message !== undefined) next.message = update.message;
  return next;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

/** `12,345 rows · 3.2 MiB of 10.0 MiB (32%)`, and the fraction done when a total is known. */
export function describeProgress(progress: BlockProgressView): { text: string; fraction: number | null } {
  const parts: string[] = [];
  if (progress.rows !== undefined) parts.push(`${progress.rows.toLocaleString("en-US")} rows`);
  let fraction: number | null = null;
  if (progress.bytes !== undefined) {
    if (progress.totalBytes !== undefined && progress.totalBytes > 0) {
      fraction = Math.min(1, Math.max(0, progress.bytes / progress.totalBytes));
      parts.push(`${formatBytes(progress.bytes)} of ${formatBytes(progress.totalBytes)} (${Math.floor(fraction * 100)}%)`);
    } else {
      parts.push(`${formatBytes(progress.bytes)} downloaded`);
    }
  }
  return { text: parts.join(" · "), fraction };
}
