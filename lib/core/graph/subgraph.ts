/**
 * The parts of a pipeline a run can be asked for ("run only what is asked"): one block, a
 * block with everything it depends on, or a block and everything that depends on it ("retry from here").
 */
import { assertNever } from "../assert-never";
import { UserError } from "../errors";
import { indexDag, type DagIndex, type DagNode } from "./dag";

/**
 * - `only`: the block alone (its inputs come from an earlier run).
 * - `with_upstream`: the block and all its ancestors.
 * - `downstream`: the block and all its descendants.
 */
export type SubgraphScope = "only" | "with_upstream" | "downstream";

/**
 * Names of the blocks in `scope` around `name`, in file order (callers that execute them order them
 * with `topologicalOrder`).
 *
 * @throws UserError code `unknown_block` when `name` is not a node.
 */
export function subgraph(nodes: readonly DagNode[], name: string, scope: SubgraphScope): string[] {
  const index = indexDag(nodes);
  requireNode(index, name);
  let members: Set<string>;
  switch (scope) {
    case "only":
      members = new Set([name]);
      break;
    case "with_upstream":
      members = reach(index.upstream, [name]);
      break;
    case "downstream":
      members = reach(index.downstream, [name]);
      break;
    default:
      return assertNever(scope, "subgraph scope");
  }
  return [...index.position.keys()].filter((n) => members.has(n));
}

/** Every block `name` depends on, directly or not (not including itself unless it is on a cycle). */
export function ancestors(nodes: readonly DagNode[], name: string): Set<string> {
  const index = indexDag(nodes);
  requireNode(index, name);
  return reach(index.upstream, index.upstream.get(name) ?? []);
}

/** Every block that depends on `name`, directly or not (not including itself unless it is on a cycle). */
export function descendants(nodes: readonly DagNode[], name: string): Set<string> {
  const index = indexDag(nodes);
  requireNode(index, name);
  return reach(index.downstream, index.downstream.get(name) ?? []);
}

/** The `start` nodes and everything reachable from them along `edges` (breadth-first, no recursion). */
function reach(edges: ReadonlyMap<string, readonly string[]>, start: readonly string[]): Set<string> {
  const seen = new Set<string>(start);
  const queue = [...seen];
  for (let i = 0; i < queue.length; i++) {
    for (const next of edges.get(queue[i]) ?? []) {
      if (seen.has(next)) continue;
      seen.add(next);
      queue.push(next);
    }
  }
  return seen;
}

function requireNode(index: DagIndex, name: string): void {
  if (!index.position.has(name)) throw new UserError("unknown_block", `there is no block named "${name}"`, { block: name });
}
