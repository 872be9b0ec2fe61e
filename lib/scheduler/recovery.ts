/**
 * Start-up recovery (DESIGN §4): a process that dies mid-run (SIGKILL, power loss) leaves its run
 * `running` and some block runs `queued`/`running` forever, since nobody is left to finish them. On start
 * the server (or `sluice scheduler`) fails them with a reason, moving every state through the pure
 * transition functions of `lib/core/run-state.ts` like any other writer.
 *
 * Only call it when no other live process may be executing runs in the same store (the embedded setup:
 * one server; or pass `isLive` to spare the runs a live process still owns).
 */
import { canTransitionBlockRun, canTransitionRun, transitionBlockRun, transitionRun, type BlockRunEvent } from "../core/run-state";
import type { BlockRunState } from "../core/run-model";
import type { RunStore } from "../store/metadata/run-store";

export interface RecoveryOptions {
  /** Runs to leave alone (e.g. live in this process: `runner.isActive`). */
  isLive?: (runId: string) => boolean;
  /** Only runs created before this instant (ISO): spares runs started after this process came up. */
  createdBefore?: string;
  /** Why, as stored on the run. */
  reason?: string;
}

export interface RecoveredRun {
  runId: string;
  pipeline: string;
  previousState: string;
  /** Block runs moved, as `block: from → to`. */
  blocks: string[];
}

/** The event that ends an unfinished block run of a dead process. */
function endEvent(state: BlockRunState): BlockRunEvent | null {
  switch (state) {
    case "queued":
    case "running":
      // Its worker died with the process: a failure, not to be retried inside a run nobody drives.
      return { type: "fail", retryable: false, attemptsLeft: 0 };
    case "pending":
    case "up_for_retry":
      return { type: "cancel" };
    case "success":
    case "failed":
    case "skipped":
    case "upstream_failed":
    case "cancelled":
      return null;
  }
}

/**
 * Fails every run left `queued` or `running` (and ends its unfinished block runs) at `now`.
 * Returns what it changed.
 */
export async function recoverOrphanedRuns(store: RunStore, now: Date, options: RecoveryOptions = {}): Promise<RecoveredRun[]> {
  const at = now.toISOString();
  const reason = options.reason ?? `orphaned: the process running it stopped before it finished (recovered at ${at})`;
  const recovered: RecoveredRun[] = [];
  for (const run of await store.findRunsInState(["queued", "running"])) {
    if (options.isLive?.(run.id)) continue;
    if (options.createdBefore !== undefined && run.createdAt >= options.createdBefore) continue;
    const detail = await store.getRun(run.id);
    if (!detail) continue;
    const blocks: string[] = [];
    for (const blockRun of detail.blockRuns) {
      const event = endEvent(blockRun.state);
      if (event === null || !canTransitionBlockRun(blockRun.state, event)) continue;
      const next = transitionBlockRun(blockRun.state, event);
      await store.updateBlockRun(run.id, blockRun.block, {
        state: next,
        endedAt: at,
        ...(event.type === "fail" ? { error: { code: "orphaned", kind: "operational" as const, message: reason } } : {}),
      });
      blocks.push(`${blockRun.block}: ${blockRun.state} → ${next}`);
    }
    if (!canTransitionRun(run.state, { type: "fail" })) continue;
    await store.updateRunState(run.id, transitionRun(run.state, { type: "fail" }), { at, error: reason });
    recovered.push({ runId: run.id, pipeline: run.pipeline, previousState: run.state, blocks });
  }
  return recovered;
}
