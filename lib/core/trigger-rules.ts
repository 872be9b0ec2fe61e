/**
 * Trigger rules (`trigger_rule:` on a block): when a block runs given the states of its upstreams, with
 * Airflow's names and Airflow's decisions (its `TriggerRuleDep`), so that a DAG ported from Airflow behaves
 * the same. A block waits, runs, or ends without running as `skipped` or `upstream_failed`.
 *
 * How upstream states count (as in Airflow): `failed` and `upstream_failed` are failures (a `cancelled`
 * upstream counts as `failed`: Airflow has no such state and a cancelled upstream did not produce its
 * output); `pending`, `queued`, `running` and `up_for_retry` are not done. Some rules decide before every
 * upstream is done: `one_success` runs at the first success, `one_failed` at the first failure,
 * `all_success` gives up at the first failure, `always` does not wait at all.
 */
import { assertNever } from "./assert-never";
import type { BlockRunState } from "./run-model";

export const TRIGGER_RULES = [
  "all_success",
  "all_failed",
  "all_done",
  "all_skipped",
  "one_success",
  "one_failed",
  "one_done",
  "none_failed",
  "none_failed_min_one_success",
  "none_skipped",
  "always",
] as const;
export type TriggerRule = (typeof TRIGGER_RULES)[number];

export const DEFAULT_TRIGGER_RULE: TriggerRule = "all_success";

/** What a pending block does now: start, keep waiting, or end without running. */
export type TriggerDecision = "run" | "wait" | "skip" | "upstream_failed";

/** Upstream states counted the way Airflow counts them. */
export interface UpstreamCounts {
  total: number;
  success: number;
  skipped: number;
  failed: number;
  upstreamFailed: number;
  /** Finished in any way (success, skipped, failed, upstream_failed). */
  done: number;
}

export function countUpstreams(states: Iterable<BlockRunState>): UpstreamCounts {
  const counts: UpstreamCounts = { total: 0, success: 0, skipped: 0, failed: 0, upstreamFailed: 0, done: 0 };
  for (const state of states) {
    counts.total += 1;
    switch (state) {
      case "success":
        counts.success += 1;
        break;
      case "skipped":
        counts.skipped += 1;
        break;
      case "failed":
      case "cancelled":
        counts.failed += 1;
        break;
      case "upstream_failed":
        counts.upstreamFailed += 1;
        break;
      case "pending":
      case "queued":
      case "running":
      case "up_for_retry":
        continue;
      default:
        return assertNever(state, "block run state");
    }
    counts.done += 1;
  }
  return counts;
}

/**
 * Airflow's decision for a block with `rule` whose upstreams are in `states`. A block without upstreams
 * runs under every rule (Airflow: nothing to wait for).
 */
export function decideTrigger(rule: TriggerRule, states: Iterable<BlockRunState>): TriggerDecision {
  const c = countUpstreams(states);
  if (c.total === 0) return "run";
  const allDone = c.done === c.total;
  const failures = c.failed + c.upstreamFailed;
  switch (rule) {
    case "all_success":
      if (failures > 0) return "upstream_failed";
      if (c.skipped > 0) return "skip";
      return c.success === c.total ? "run" : "wait";
    case "all_failed":
      if (c.success > 0 || c.skipped > 0) return "skip";
      return failures === c.total ? "run" : "wait";
    case "all_done":
      return allDone ? "run" : "wait";
    case "all_skipped":
      if (c.success > 0 || failures > 0) return "skip";
      return c.skipped === c.total ? "run" : "wait";
    case "one_success":
      if (c.success > 0) return "run";
      if (!allDone) return "wait";
      return c.skipped === c.total ? "skip" : "upstream_failed";
    case "one_failed":
      if (failures > 0) return "run";
      return allDone ? "skip" : "wait";
    case "one_done":
      if (c.success > 0 || c.failed > 0) return "run";
      return allDone ? "skip" : "wait";
    case "none_failed":
      if (failures > 0) return "upstream_failed";
      return allDone ? "run" : "wait";
    case "none_failed_min_one_success":
      if (failures > 0) return "upstream_failed";
      if (!allDone) return "wait";
      return c.skipped === c.total ? "skip" : "run";
    case "none_skipped":
      if (c.skipped > 0) return "skip";
      return allDone ? "run" : "wait";
    case "always":
      return "run";
    default:
      return assertNever(rule, "trigger rule");
  }
}

/**
 * The state of a finished run from its leaves, as Airflow decides it: a leaf (a block of the run with no
 * downstream in the run) that `failed` or is `upstream_failed` fails the run; else a cancelled block cancels
 * it; else it succeeded — so a failure handled by an `all_done` cleanup leaf does not fail the run, and
 * skipped leaves never do.
 */
export function runStateFromLeaves(blocks: readonly { state: BlockRunState; leaf: boolean }[]): "success" | "failed" | "cancelled" {
  if (blocks.some((b) => b.leaf && (b.state === "failed" || b.state === "upstream_failed"))) return "failed";
  if (blocks.some((b) => b.state === "cancelled")) return "cancelled";
  return "success";
}
