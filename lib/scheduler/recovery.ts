/**
 * Recovery of orphaned runs: a process that dies mid-run (SIGKILL, power loss) leaves its run `running`
 * and some block runs `queued`/`running`, since nobody is left to finish them. Every process that drives
 * runs holds a lease renewed by heartbeat (`lib/runner/run-lease.ts`); recovery acts only on runs whose
 * owner's lease expired (or that have no owner at all, from before ownership was recorded), so a live
 * process's runs — a CLI run beside the server, the standalone scheduler's — are never touched.
 *
 * A recovered run is failed with the reason ("owner host:pid stopped heartbeating at …"), or cancelled when
 * someone had asked to cancel it before its owner died. Every state moves through the pure transition
 * functions of `lib/core/run-state.ts`, like any other writer.
 */
import { canTransitionBlockRun, canTransitionRun, transitionBlockRun, transitionRun, type BlockRunEvent } from "../core/run-state";
import type { BlockRunState, RunState } from "../core/run-model";
import type { OrphanedRun, RunStore } from "../store/metadata/run-store";

/** The store calls recovery makes. */
export type RecoveryStore = Pick<RunStore, "findOrphanedRuns" | "getRun" | "updateBlockRun" | "updateRunState" | "removeExpiredOwners">;

export interface RecoveryOptions {
  /** Runs to leave alone whatever the store says (live in this process: `runner.isActive`). */
  isLive?: (runId: string) => boolean;
}

export interface RecoveredRun {
  runId: string;
  pipeline: string;
  previousState: string;
  state: RunState;
  /** Why, as stored on the run. */
  reason: string;
  /** Block runs moved, as `block: from → to`. */
  blocks: string[];
}

/** Why nobody drives this run any more, in the words stored on it. */
export function orphanReason(orphan: Pick<OrphanedRun, "owner" | "ownerId">): string {
  if (orphan.owner) {
    const { host, pid, kind, heartbeatAt, leaseExpiresAt } = orphan.owner;
    return `owner ${host}:${pid} (${kind}) stopped heartbeating at ${heartbeatAt}; its lease expired at ${leaseExpiresAt}`;
  }
  return orphan.ownerId === null ? "the run has no owner recorded (started before run ownership existed)" : `its owner ${orphan.ownerId} is gone`;
}

/** The event that ends an unfinished block run nobody drives any more. */
function endEvent(state: BlockRunState, how: "fail" | "cancel"): BlockRunEvent | null {
  switch (state) {
    case "queued":
    case "running":
      // Its block died with the owner: a failure (not to be retried inside a run nobody drives), or a
      // cancellation when that was asked for.
      return how === "cancel" ? { type: "cancel" } : { type: "fail", retryable: false, attemptsLeft: 0 };
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
 * Ends one unfinished run that no live process drives: its unfinished block runs, then the run itself
 * (`cancel` or `fail`). Returns null when the run is gone or already ended.
 */
export async function endOrphanedRun(
  store: Pick<RunStore, "getRun" | "updateBlockRun" | "updateRunState">,
  runId: string,
  how: "fail" | "cancel",
  reason: string,
  at: string,
): Promise<RecoveredRun | null> {
  const detail = await store.getRun(runId);
  if (!detail) return null;
  const { run } = detail;
  const runEvent = how === "cancel" ? ({ type: "cancel" } as const) : ({ type: "fail" } as const);
  if (!canTransitionRun(run.state, runEvent)) return null;
  const blocks: string[] = [];
  for (const blockRun of detail.blockRuns) {
    const event = endEvent(blockRun.state, how);
    if (event === null || !canTransitionBlockRun(blockRun.state, event)) continue;
    const next = transitionBlockRun(blockRun.state, event);
    await store.updateBlockRun(run.id, blockRun.block, {
      state: next,
      endedAt: at,
      ...(event.type === "fail" ? { error: { code: "owner_lost", kind: "operational" as const, message: reason } } : {}),
    });
    blocks.push(`${blockRun.block}: ${blockRun.state} → ${next}`);
  }
  const state = transitionRun(run.state, runEvent);
  await store.updateRunState(run.id, state, { at, error: reason });
  return { runId: run.id, pipeline: run.pipeline, previousState: run.state, state, reason, blocks };
}

/**
 * Fails (or cancels, when that was asked for) every queued or running run whose owner's lease expired
 * before `now`, then forgets the dead owners. Returns what it changed.
 */
export async function recoverOrphanedRuns(store: RecoveryStore, now: Date, options: RecoveryOptions = {}): Promise<RecoveredRun[]> {
  const at = now.toISOString();
  const recovered: RecoveredRun[] = [];
  for (const orphan of await store.findOrphanedRuns(at)) {
    if (options.isLive?.(orphan.run.id)) continue;
    const how = orphan.cancelRequestedAt !== null ? "cancel" : "fail";
    const reason = how === "cancel" ? `cancelled: ${orphanReason(orphan)}` : `orphaned: ${orphanReason(orphan)}`;
    const ended = await endOrphanedRun(store, orphan.run.id, how, reason, at);
    if (ended) recovered.push(ended);
  }
  await store.removeExpiredOwners(at);
  return recovered;
}

/** Recovery repeated every `everyMs` (a lease period): owners may die at any time, not only before a start-up. */
export class RecoveryLoop {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly recover: () => Promise<RecoveredRun[]>,
    private readonly everyMs: number,
    private readonly report: (recovered: RecoveredRun[]) => void,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Recovers now, then every period. */
  async start(): Promise<void> {
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.everyMs);
    this.timer.unref();
  }

  private tick(): Promise<void> {
    this.running ??= this.recover()
      .then((recovered) => {
        if (recovered.length > 0) this.report(recovered);
      }, this.onError)
      .finally(() => (this.running = null));
    return this.running;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
