/**
 * Dynamic instances as the graph and the run page show them. A run names each instance `child[0]` or
 * `child[<key>]`; the declared block (`child`) is one node with a count, and the instances appear only when
 * the user expands it. Pure: statuses in, groups and positions out.
 */
import { parseInstanceName } from "@/lib/core/dynamic";
import type { BlockRunState } from "@/lib/core/run-model";
import type { LayoutInput } from "./graph-layout";

/** What the UI needs of one block run: a live status in the editor, a stored block run on the run page. */
export interface InstanceStatus {
  state: BlockRunState;
  attempt: number;
  error?: { code: string; message: string } | null;
}

export interface InstanceView {
  /** The instance's run name, `download[2]`. */
  name: string;
  /** What is between the brackets: the index or the `dynamic_key` value. */
  key: string;
  state: BlockRunState;
  attempt: number;
  /** Why it was skipped, when it was. */
  skipReason: string | null;
}

/** Why a block run was skipped: the runner records the reason as its error with code `skipped`. */
export function skipReasonOf(status: InstanceStatus): string | null {
  if (status.state !== "skipped") return null;
  return status.error?.code === "skipped" ? status.error.message : null;
}

/**
 * The instances in `statuses`, grouped by their declared block. Index keys sort as numbers (`[2]` before
 * `[10]`); key-column names keep the order the run produced them in, which is the parent's row order.
 */
export function groupInstances(statuses: Iterable<readonly [string, InstanceStatus]>): Map<string, InstanceView[]> {
  const groups = new Map<string, InstanceView[]>();
  for (const [name, status] of statuses) {
    const parsed = parseInstanceName(name);
    if (!parsed) continue;
    const group = groups.get(parsed.block) ?? [];
    group.push({ name, key: parsed.key, state: status.state, attempt: status.attempt, skipReason: skipReasonOf(status) });
    groups.set(parsed.block, group);
  }
  for (const group of groups.values()) {
    if (group.every((i) => /^\d+$/.test(i.key))) group.sort((a, b) => Number(a.key) - Number(b.key));
  }
  return groups;
}

/** "2 success, 1 failed": the states of a group, most frequent first, for the collapsed node and the run page. */
export function summarizeStates(instances: readonly InstanceView[]): string {
  const counts = new Map<BlockRunState, number>();
  for (const i of instances) counts.set(i.state, (counts.get(i.state) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([state, n]) => `${n} ${state}`)
    .join(", ");
}

/**
 * The layout's input with the instances of expanded blocks added, each a node under its block: laid out with
 * the rest of the graph, the instances get places of their own instead of covering their neighbours.
 */
export function withExpandedInstances(nodes: readonly LayoutInput[], groups: ReadonlyMap<string, readonly InstanceView[]>, expanded: ReadonlySet<string>): LayoutInput[] {
  const names = new Set(nodes.map((n) => n.name));
  const out = [...nodes];
  for (const block of expanded) {
    if (!names.has(block)) continue;
    for (const instance of groups.get(block) ?? []) out.push({ name: instance.name, upstream: [block] });
  }
  return out;
}
