/**
 * Semantic checks of the control-flow keys (`trigger_rule`, `conditions`, `dynamic`, `dynamic_key`,
 * `reduce`): what would otherwise be silently ignored or fail halfway through a run.
 */
import { findCycle } from "./graph/find-cycle";
import type { PathSegment } from "./key-path";
import type { Pipeline } from "./model";
import type { PipelineIssue } from "./pipeline-checks";
import { TRIGGER_RULES } from "./trigger-rules";

/** A block's dependencies for ordering: its upstreams, then its conditions (evaluated before it). */
export function dependenciesOf(block: { upstream: readonly string[]; conditions?: readonly string[] }): string[] {
  const deps = [...block.upstream];
  for (const condition of block.conditions ?? []) if (!deps.includes(condition)) deps.push(condition);
  return deps;
}

/** Every problem with the control-flow keys, located by key path. Upstream and name problems are reported elsewhere. */
export function findFlowIssues(pipeline: Pipeline): PipelineIssue[] {
  const issues: PipelineIssue[] = [];
  const byName = new Map(pipeline.blocks.map((b) => [b.name, b]));
  pipeline.blocks.forEach((block, i) => {
    const name = block.name;
    const add = (path: PathSegment[], message: string) => issues.push({ code: "invalid_value", message: `block "${name}": ${message}`, path: ["blocks", i, ...path], block: name });
    if (block.triggerRule !== undefined && !TRIGGER_RULES.includes(block.triggerRule)) add(["trigger_rule"], `trigger_rule must be one of ${TRIGGER_RULES.join(", ")}`);

    const listed = new Set<string>();
    (block.conditions ?? []).forEach((condition, j) => {
      const target = byName.get(condition);
      if (condition === name) add(["conditions", j], "lists itself as a condition");
      else if (!target) issues.push({ code: "missing_upstream", message: `block "${name}" lists condition "${condition}", which is not a block of this pipeline`, path: ["blocks", i, "conditions", j], block: name });
      else if (target.type !== "condition") add(["conditions", j], `"${condition}" is a ${target.type}, not a condition block (type: condition)`);
      else if (listed.has(condition)) add(["conditions", j], `lists condition "${condition}" twice`);
      listed.add(condition);
    });
    if (block.type === "condition" && (block.conditions ?? []).length > 0) add(["conditions"], "a condition block cannot itself have conditions; list them on the blocks it gates");

    if (block.dynamic === true && (block.type === "exporter" || block.type === "sensor" || block.type === "condition")) {
      add(["dynamic"], `a ${block.type} returns no rows, so it cannot be dynamic`);
    }
    if (block.dynamicKey !== undefined && block.dynamic !== true) add(["dynamic_key"], "dynamic_key applies to a block with dynamic: true");

    const dynamicParents = block.upstream.filter((up) => byName.get(up)?.dynamic === true);
    if (dynamicParents.length > 1) add(["upstream"], `is downstream of two dynamic blocks (${dynamicParents.join(", ")}); instances come from one`);
    if (block.reduce === true && dynamicParents.length === 0) add(["reduce"], "reduce gathers the instances of a block downstream of a dynamic block; none of its upstreams is dynamic");
    if (dynamicParents.length > 0) {
      if (block.dynamic === true) add(["dynamic"], `an instance of dynamic block ${dynamicParents[0]} cannot be dynamic itself`);
      if (block.type === "condition") add(["type"], `a condition cannot be downstream of dynamic block ${dynamicParents[0]}`);
      if (block.type === "sensor") add(["type"], `a sensor cannot be downstream of dynamic block ${dynamicParents[0]}`);
    }
  });

  // Conditions run before the blocks they gate: a condition downstream of its own block is a cycle.
  const cycle = findCycle(pipeline.blocks.map((b) => ({ name: b.name, upstream: dependenciesOf(b).filter((d) => d !== b.name && byName.has(d)) })));
  const plainCycle = findCycle(pipeline.blocks.map((b) => ({ name: b.name, upstream: b.upstream.filter((d) => d !== b.name && byName.has(d)) })));
  if (cycle && !plainCycle) {
    const index = pipeline.blocks.findIndex((b) => b.name === cycle[0]);
    issues.push({ code: "cycle", message: `the blocks and their conditions form a cycle: ${cycle.join(" → ")}`, path: ["blocks", index, "conditions"], block: cycle[0] });
  }
  return issues;
}
