/**
 * Retention (DESIGN §6, `sluice clean`): outputs and logs of old runs take disk space and are no longer
 * previewed, so they are deleted; the run records (history, states, timings) are kept for at least
 * `keepRecordsFor` (default 90 days) and only deleted when the caller also asks for it. Active runs are
 * never touched. A deleted output is also unlinked from its block run, so no later run reuses it as a
 * cached upstream.
 */
import { isTerminalRunState } from "../core/run-model";
import type { RunStore } from "../store/metadata/run-store";

/** What retention deletes files with (`OutputStore`, `LogStore`). */
export interface RunFileStore {
  deleteRun(runId: string): Promise<void>;
}

export interface CleanOptions {
  /** Outputs and logs of runs created longer ago than this (ms) are deleted. */
  olderThan: number;
  /** Also delete run records older than this (ms); never less than `minRecordAgeMs`. Omit to keep all records. */
  deleteRecordsOlderThan?: number;
  now?: Date;
  /** Run records younger than this are never deleted whatever is asked. Default 90 days. */
  minRecordAgeMs?: number;
}

export interface CleanReport {
  /** Runs whose outputs and logs were deleted. */
  filesDeleted: number;
  /** Run records deleted. */
  recordsDeleted: number;
}

export interface RetentionDeps {
  runs: RunStore;
  outputs: RunFileStore;
  logs: RunFileStore;
}

const DAY = 86_400_000;

/** Deletes outputs and logs (and, when asked, records) of old finished runs. */
export async function cleanOldRuns(deps: RetentionDeps, options: CleanOptions): Promise<CleanReport> {
  const now = options.now ?? new Date();
  const filesBefore = new Date(now.getTime() - options.olderThan).toISOString();
  const minRecordAge = options.minRecordAgeMs ?? 90 * DAY;
  const recordsBefore =
    options.deleteRecordsOlderThan === undefined ? null : new Date(now.getTime() - Math.max(options.deleteRecordsOlderThan, minRecordAge)).toISOString();
  const report: CleanReport = { filesDeleted: 0, recordsDeleted: 0 };
  let before: string | undefined;
  for (;;) {
    const page = await deps.runs.listRuns({ createdBefore: filesBefore, limit: 500, before });
    if (page.length === 0) break;
    before = page[page.length - 1].id;
    for (const run of page) {
      if (!isTerminalRunState(run.state)) continue;
      const detail = await deps.runs.getRun(run.id);
      await deps.outputs.deleteRun(run.id);
      await deps.logs.deleteRun(run.id);
      for (const blockRun of detail?.blockRuns ?? []) {
        if (blockRun.output !== null) await deps.runs.updateBlockRun(run.id, blockRun.block, { state: blockRun.state, output: null });
      }
      report.filesDeleted++;
      if (recordsBefore !== null && run.createdAt < recordsBefore && (await deps.runs.deleteRun(run.id))) report.recordsDeleted++;
    }
  }
  return report;
}
