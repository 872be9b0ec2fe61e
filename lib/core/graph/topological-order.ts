/**
 * Execution order of a pipeline: Kahn's algorithm where, among blocks that are ready, the one written
 * first in `pipeline.yaml` goes first. Why: the editor, the CLI's progress list and the runs page show
 * blocks in this order, so it must not change between runs or reshuffle when an unrelated edge changes.
 */
import { UserError } from "../errors";
import { indexDag, type DagNode } from "./dag";
import { findCycle } from "./find-cycle";

/**
 * All node names, each after all its upstreams, ties broken by file order (so a file already written
 * in dependency order comes back unchanged). Upstream names that are not nodes are ignored, which lets
 * callers order a subgraph by passing only its nodes.
 *
 * @throws UserError code `cycle` naming the cycle, if there is one.
 */
export function topologicalOrder(nodes: readonly DagNode[]): string[] {
  const { position, upstream, downstream } = indexDag(nodes);
  const waiting = new Map<string, number>();
  for (const [name, ups] of upstream) waiting.set(name, ups.length);

  // Ready nodes, kept sorted by file position (descending, so the next one pops off the end).
  const ready: string[] = [];
  const pos = (name: string): number => position.get(name) ?? 0;
  const push = (name: string): void => {
    let low = 0;
    let high = ready.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (pos(ready[mid]) > pos(name)) low = mid + 1;
      else high = mid;
    }
    ready.splice(low, 0, name);
  };
  for (const [name, count] of waiting) if (count === 0) push(name);

  const order: string[] = [];
  for (let next = ready.pop(); next !== undefined; next = ready.pop()) {
    order.push(next);
    for (const down of downstream.get(next) ?? []) {
      const left = (waiting.get(down) ?? 0) - 1;
      waiting.set(down, left);
      if (left === 0) push(down);
    }
  }
  if (order.length < waiting.size) {
    const cycle = findCycle(nodes) ?? [];
    throw new UserError("cycle", `the blocks form a cycle: ${cycle.join(" → ")}`, { block: cycle[0] });
  }
  return order;
}
