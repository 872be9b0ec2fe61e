/**
 * Retention (`sluice clean`): outputs and logs of old runs take disk space and are no longer
 * previewed, so they are deleted; the run records (history, states, timings) are kept for at least
 * `keepRecordsFor` (default 90 days) and only deleted when the caller also asks for it. Active runs are
 * never touched. Each block's latest successful output is kept however old (a `--block` run reads it as its
 * cached upstream), and so is every output a live run read from an earlier run; the record of a run holding
 * a kept output is kept too. Any other deleted output is unlinked from its block run, so no later run
 * reuses it as a cached upstream.
 */
import { isTerminalRunState } from "../core/run-model";
import type { RunStore } from "../store/metadata/run-store";

/** What retention deletes files with (`OutputStore`, `LogStore`). */
export interface RunFileStore {
  deleteRun(runId: string): Promise<void>;
}

/** What retention deletes outputs with: every block of a run but `keepBlocks` (`OutputStore`). */
export interface RunOutputFileStore {
  deleteRun(runId: string, keepBlocks?: ReadonlySet<string>): Promise<void>;
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
  outputs: RunOutputFileStore;
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
  // Outputs live runs read from earlier runs: `runId/block`.
  const referenced = new Set<string>();
  for (const live of await deps.runs.findRunsInState(["queued", "running"])) {
    for (const output of Object.values(live.cachedInputs)) if (output) referenced.add(`${output.ref.runId}/${output.ref.block}`);
  }
  const latestRunOf = new Map<string, string | null>();
  const isLatestSuccess = async (pipeline: string, block: string, runId: string) => {
    const key = `${pipeline}/${block}`;
    if (!latestRunOf.has(key)) latestRunOf.set(key, (await deps.runs.latestSuccess(pipeline, block))?.runId ?? null);
    return latestRunOf.get(key) === runId;
  };
  let before: string | undefined;
  for (;;) {
    const page = await deps.runs.listRuns({ createdBefore: filesBefore, limit: 500, before });
    if (page.length === 0) break;
    before = page[page.length - 1].id;
    for (const run of page) {
      if (!isTerminalRunState(run.state)) continue;
      const detail = await deps.runs.getRun(run.id);
      const keep = new Set<string>();
      for (const blockRun of detail?.blockRuns ?? []) {
        if (blockRun.output === null) continue;
        if (referenced.has(`${run.id}/${blockRun.block}`) || (blockRun.state === "success" && (await isLatestSuccess(run.pipeline, blockRun.block, run.id)))) keep.add(blockRun.block);
      }
      await deps.outputs.deleteRun(run.id, keep);
      await deps.logs.deleteRun(run.id);
      for (const blockRun of detail?.blockRuns ?? []) {
        if (blockRun.output !== null && !keep.has(blockRun.block)) await deps.runs.updateBlockRun(run.id, blockRun.block, { state: blockRun.state, output: null });
      }
      report.filesDeleted++;
      if (keep.size > 0) continue;
      if (recordsBefore !== null && run.createdAt < recordsBefore && (await deps.runs.deleteRun(run.id))) report.recordsDeleted++;
    }
  }
  return report;
}
