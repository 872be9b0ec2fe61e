/**
 * Cycle detection, separate from ordering so that validation can name the cycle (`a → b → c → a`)
 * instead of saying "not a DAG".
 */
import { indexDag, type DagNode } from "./dag";

/**
 * The first cycle found, as a closed path in data-flow direction (`["a", "b", "c", "a"]` means a feeds
 * b feeds c feeds a), starting at the cycle's node that comes first in the file; `null` for a DAG.
 * A block listing itself is the cycle `["a", "a"]`.
 *
 * Iterative depth-first search (no recursion limit on long chains), visiting nodes and edges in file
 * order so that the same file always reports the same cycle.
 */
export function findCycle(nodes: readonly DagNode[]): string[] | null {
  const { position, downstream } = indexDag(nodes);
  const state = new Map<string, "open" | "done">();
  for (const root of position.keys()) {
    if (state.has(root)) continue;
    // Each frame: a node on the current path and how many of its edges were followed.
    const stack: Array<{ name: string; next: number }> = [{ name: root, next: 0 }];
    state.set(root, "open");
    while (stack.length > 0) {
      const frame = stack[stack.length - 1];
      const edges = downstream.get(frame.name) ?? [];
      if (frame.next >= edges.length) {
        state.set(frame.name, "done");
        stack.pop();
        continue;
      }
      const target = edges[frame.next];
      frame.next += 1;
      const seen = state.get(target);
      if (seen === "open") {
        const start = stack.findIndex((f) => f.name === target);
        const cycle = stack.slice(start).map((f) => f.name);
        return closeAtEarliest(cycle, position);
      }
      if (seen === undefined) {
        state.set(target, "open");
        stack.push({ name: target, next: 0 });
      }
    }
  }
  return null;
}

/** Rotate the cycle to start at its earliest node in the file and repeat that node at the end. */
function closeAtEarliest(cycle: string[], position: ReadonlyMap<string, number>): string[] {
  let best = 0;
  cycle.forEach((name, index) => {
    if ((position.get(name) ?? 0) < (position.get(cycle[best]) ?? 0)) best = index;
  });
  const rotated = [...cycle.slice(best), ...cycle.slice(0, best)];
  return [...rotated, rotated[0]];
}
