/**
 * What a run executes ("run only what is asked"): from a pipeline and a run mode, the blocks
 * to run in order and the upstream outputs that must come from an earlier run. The runner, the CLI's
 * `--block/--upstream` and the editor's run buttons all go through this one function.
 */
import { assertNever } from "./assert-never";
import { parseInstanceName } from "./dynamic";
import { UserError } from "./errors";
import { dependenciesOf } from "./flow-checks";
import { subgraph } from "./graph/subgraph";
import { topologicalOrder } from "./graph/topological-order";
import type { Pipeline, RunMode } from "./model";
import { validatePipeline } from "./pipeline-checks";
import type { BlockRunState } from "./run-model";

/** What to run: the whole pipeline, or a part around one block. */
export interface PlanRequest {
  mode: RunMode;
  /** Required for every mode but `pipeline`, refused for `pipeline`. */
  block?: string;
}

/** The blocks to execute and the earlier outputs they read. */
export interface RunPlan {
  /** Blocks to execute, each after its upstreams, ties in file order. */
  blocks: string[];
  /**
   * Upstreams of planned blocks that are not planned themselves: their outputs must come from an
   * earlier run (the output store's latest successful output), in pipeline execution order.
   */
  cachedInputs: string[];
}

/**
 * Plan a run.
 * - `pipeline`: every block.
 * - `block`: only `block`; all its direct upstreams are cached inputs.
 * - `with_upstream`: `block` and all its ancestors; nothing cached.
 * - `from`: `block` and all its descendants ("retry from here"); the other upstreams of those blocks
 *   are cached inputs.
 *
 * @throws UserError code `unknown_block` for a block not in the pipeline, `invalid_value` when `block`
 *   is missing or given for mode `pipeline`, or the pipeline's own validation error.
 */
export function planRun(pipeline: Pipeline, request: PlanRequest): RunPlan {
  validatePipeline(pipeline);
  const { mode, block } = request;
  // Conditions order like upstreams: a condition runs before the blocks it gates.
  const graph = pipeline.blocks.map((b) => ({ name: b.name, upstream: dependenciesOf(b) }));
  if (mode === "pipeline") {
    if (block !== undefined) throw new UserError("invalid_value", `mode "pipeline" runs every block; do not name a block (got "${block}")`, { block });
    return { blocks: topologicalOrder(graph), cachedInputs: [] };
  }
  if (block === undefined) throw new UserError("invalid_value", `mode "${mode}" needs a block to run`);
  if (!pipeline.blocks.some((b) => b.name === block)) {
    const names = pipeline.blocks.map((b) => b.name).join(", ");
    throw new UserError("unknown_block", `pipeline "${pipeline.name}" has no block named "${block}" (blocks: ${names || "none"})`, { block });
  }

  let members: string[];
  switch (mode) {
    case "block":
      members = subgraph(graph, block, "only");
      break;
    case "with_upstream":
      members = subgraph(graph, block, "with_upstream");
      break;
    case "from":
      members = subgraph(graph, block, "downstream");
      break;
    default:
      return assertNever(mode, "run mode");
  }

  const planned = new Set(members);
  // A condition's value is never cached: the conditions of planned blocks are evaluated again in this run.
  for (const spec of pipeline.blocks) if (planned.has(spec.name)) for (const condition of spec.conditions ?? []) planned.add(condition);
  const order = topologicalOrder(graph);
  const cached = new Set<string>();
  for (const spec of pipeline.blocks) {
    if (!planned.has(spec.name)) continue;
    for (const up of spec.upstream) if (!planned.has(up)) cached.add(up);
  }
  return {
    blocks: order.filter((name) => planned.has(name)),
    cachedInputs: order.filter((name) => cached.has(name)),
  };
}

/** A run as a retry sees it: its block runs' states, in run order, and the upstreams it read from earlier runs. */
export interface RetrySubject {
  blocks: readonly { name: string; state: BlockRunState }[];
  /** Upstreams outside the run whose outputs it read from earlier runs. */
  cachedInputs: ReadonlySet<string>;
}

const RETRIED_STATES: readonly BlockRunState[] = ["failed", "upstream_failed", "cancelled"];
const DONE_STATES: readonly BlockRunState[] = ["success", "skipped"];

/**
 * The block runs a retry clears and re-runs inside the same run (Airflow's clear), in run order.
 * - No `fromBlock`: every `failed`, `upstream_failed` and `cancelled` block run, all in one go.
 * - `fromBlock`: that block and its downstream within the run, whatever their states; every other
 *   upstream of those must have succeeded (or been skipped) in this run, since a retry reads this run's
 *   outputs only.
 *
 * @throws UserError `nothing_to_retry` when no block run failed, `unknown_block` when `fromBlock` is not a
 *   block of the run, `upstream_not_succeeded` naming the upstream that blocks a retry from `fromBlock`.
 */
export function planRetry(pipeline: Pipeline, run: RetrySubject, fromBlock?: string): string[] {
  const states = new Map(run.blocks.map((b) => [b.name, b.state]));
  const inRunOrder = (names: ReadonlySet<string>) => run.blocks.map((b) => b.name).filter((name) => names.has(name));
  if (fromBlock === undefined) {
    const cleared = run.blocks.filter((b) => RETRIED_STATES.includes(b.state)).map((b) => b.name);
    if (cleared.length === 0) {
      throw new UserError("nothing_to_retry", "the run has no failed, upstream_failed or cancelled block to retry; retry from a block to re-run it and its downstream");
    }
    return cleared;
  }
  if (!states.has(fromBlock)) {
    const names = run.blocks.map((b) => b.name).join(", ");
    throw new UserError("unknown_block", `the run has no block named "${fromBlock}" (its blocks: ${names || "none"})`, { block: fromBlock });
  }
  const graph = pipeline.blocks.map((b) => ({ name: b.name, upstream: dependenciesOf(b) }));
  // An instance (`child[1]`) retried alone: it, then its group and what follows the group.
  const instance = parseInstanceName(fromBlock);
  const downstream = new Set(
    instance ? [fromBlock, ...subgraph(graph, instance.block, "downstream")].filter((name) => states.has(name)) : subgraph(graph, fromBlock, "downstream").filter((name) => states.has(name)),
  );
  // A group re-run re-expands its instances: those of a group downstream of the retried block (not the
  // retried instance's siblings) run again too.
  for (const name of [...downstream]) {
    if (instance && name === instance.block) continue;
    for (const b of run.blocks) if (parseInstanceName(b.name)?.block === name) downstream.add(b.name);
  }
  if (instance) {
    for (const b of run.blocks) {
      const sibling = parseInstanceName(b.name);
      if (sibling?.block !== instance.block || downstream.has(b.name) || DONE_STATES.includes(b.state)) continue;
      throw new UserError(
        "upstream_not_succeeded",
        `cannot retry "${fromBlock}" alone: instance "${b.name}" of the same block is ${b.state} in this run; retry the failed blocks, or retry both`,
        { block: b.name },
      );
    }
  }
  for (const spec of pipeline.blocks) {
    if (!downstream.has(spec.name)) continue;
    for (const up of dependenciesOf(spec)) {
      if (downstream.has(up) || run.cachedInputs.has(up)) continue;
      const state = states.get(up);
      if (state === undefined || !DONE_STATES.includes(state)) {
        throw new UserError(
          "upstream_not_succeeded",
          `cannot retry from "${fromBlock}": upstream "${up}" of "${spec.name}" ${state === undefined ? "is not part of this run" : `is ${state} in this run`}; retry the failed blocks, or retry from "${up}"`,
          { block: spec.name },
        );
      }
    }
  }
  return inRunOrder(downstream);
}
