/**
 * Block progress as the editor shows it (pure): the runner's `progress` events are partial — a download
 * reports bytes of a total, a writer reports rows — so updates of one block run merge into one picture.
 */

/** What a block reported so far in its current run (see `Progress` in lib/core/execution.ts), cumulative over the files it reads. */
export interface BlockProgressView {
  runId: string;
  rows?: number;
  bytes?: number;
  totalBytes?: number;
  message?: string;
  /** Rows of the earlier sources (files, URLs) of the same kind: `rows` counts on from these. */
  rowsBefore?: number;
  /** Bytes (and their known total) of the earlier sources: `bytes` and `totalBytes` count on from these. */
  bytesBefore?: number;
  totalBytesBefore?: number;
}

export interface ProgressUpdate {
  rows?: number;
  bytes?: number;
  totalBytes?: number;
  message?: string;
}

/**
 * Where a report comes from: its message up to the first ": " (`read trips/2020-10.csv`, `GET https://…`),
 * so that a retry note about the same URL is the same source.
 */
function sourceOf(message: string | undefined): string | undefined {
  return message?.split(": ")[0];
}

/** `read`, `wrote`, `GET`: reports of one kind add up across sources; another kind starts its own count. */
function kindOf(source: string | undefined): string | undefined {
  return source?.split(" ")[0];
}

/**
 * Merges an update into what the block run reported before; another run starts afresh. Connectors report
 * rows and bytes per call (each file read counts from 0), so a report from a new source of the same kind
 * (the next file of `read …`, the next URL of `GET …`) continues from the previous source's count: the
 * block's progress is cumulative, with a total as far as the totals are known.
 */
export function mergeProgress(previous: BlockProgressView | undefined, runId: string, update: ProgressUpdate): BlockProgressView {
  const base: BlockProgressView = previous && previous.runId === runId ? previous : { runId };
  const next: BlockProgressView = { ...base };
  const source = sourceOf(update.message);
  const before = sourceOf(base.message);
  const newSource = source !== undefined && before !== undefined && source !== before;
  const sameKind = newSource && kindOf(source) === kindOf(before);
  if (update.rows !== undefined) {
    if (sameKind && base.rows !== undefined) next.rowsBefore = base.rows;
    else if (newSource) delete next.rowsBefore;
    next.rows = (next.rowsBefore ?? 0) + update.rows;
  }
  if (update.bytes !== undefined) {
    if (sameKind && base.bytes !== undefined) {
      next.bytesBefore = base.bytes;
      next.totalBytesBefore = base.totalBytes;
    } else if (newSource) {
      delete next.bytesBefore;
      delete next.totalBytesBefore;
    }
    next.bytes = (next.bytesBefore ?? 0) + update.bytes;
  }
  if (update.totalBytes !== undefined) {
    // A total is known only when every earlier source's was: else the sum would undercount.
    const earlier = next.bytesBefore === undefined ? 0 : next.totalBytesBefore;
    if (earlier === undefined) delete next.totalBytes;
    else next.totalBytes = earlier + update.totalBytes;
  }
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
