/**
 * Editor edits as data: every structural edit of a pipeline is a `PipelineChange`, applied by
 * the pure `applyPipelineChanges`. The editor applies changes to its copy optimistically, the graph panel
 * turns a dragged edge into `add_upstream`, and the server validates the same result before it writes
 * `pipeline.yaml` — one rule set everywhere (xyflow `NodeChange` + `applyNodeChanges`).
 */
import { assertNever } from "./assert-never";
import { newBlockSpec } from "./builders";
import { findCycle } from "./graph/find-cycle";
import type { BlockSpec, BlockType, Pipeline } from "./model";
import { findPipelineIssues, type PipelineIssueCode } from "./pipeline-checks";

export type PipelineChange =
  | { type: "add_block"; block: Pick<BlockSpec, "name"> & Partial<BlockSpec> }
  | { type: "remove_block"; name: string }
  | { type: "rename_block"; from: string; to: string }
  | { type: "set_block_type"; block: string; blockType: BlockType }
  | { type: "set_upstream"; block: string; upstream: string[] }
  | { type: "add_upstream"; block: string; upstream: string }
  | { type: "remove_upstream"; block: string; upstream: string }
  | { type: "set_description"; description: string };

/** Why a list of changes was refused; `cycle` names the closed path (`a → b → a`) when there is one. */
export interface PipelineChangeError {
  code: PipelineIssueCode | "not_found";
  message: string;
  block?: string;
  cycle?: string[];
}

export type ApplyResult = { ok: true; pipeline: Pipeline } | { ok: false; error: PipelineChangeError };

function mapBlock(pipeline: Pipeline, name: string, edit: (block: BlockSpec) => BlockSpec): Pipeline | PipelineChangeError {
  if (!pipeline.blocks.some((b) => b.name === name)) return { code: "not_found", message: `there is no block "${name}" in pipeline "${pipeline.name}"`, block: name };
  return { ...pipeline, blocks: pipeline.blocks.map((b) => (b.name === name ? edit(b) : b)) };
}

function applyOne(pipeline: Pipeline, change: PipelineChange): Pipeline | PipelineChangeError {
  switch (change.type) {
    case "add_block":
      return { ...pipeline, blocks: [...pipeline.blocks, newBlockSpec(change.block)] };
    case "remove_block": {
      if (!pipeline.blocks.some((b) => b.name === change.name)) return { code: "not_found", message: `there is no block "${change.name}"`, block: change.name };
      return {
        ...pipeline,
        blocks: pipeline.blocks.filter((b) => b.name !== change.name).map((b) => ({ ...b, upstream: b.upstream.filter((u) => u !== change.name) })),
      };
    }
    case "rename_block": {
      const renamed = mapBlock(pipeline, change.from, (b) => ({ ...b, name: change.to }));
      if ("code" in renamed) return renamed;
      return { ...renamed, blocks: renamed.blocks.map((b) => ({ ...b, upstream: b.upstream.map((u) => (u === change.from ? change.to : u)) })) };
    }
    case "set_block_type":
      return mapBlock(pipeline, change.block, (b) => ({ ...b, type: change.blockType }));
    case "set_upstream":
      return mapBlock(pipeline, change.block, (b) => ({ ...b, upstream: [...change.upstream] }));
    case "add_upstream":
      return mapBlock(pipeline, change.block, (b) => (b.upstream.includes(change.upstream) ? b : { ...b, upstream: [...b.upstream, change.upstream] }));
    case "remove_upstream":
      return mapBlock(pipeline, change.block, (b) => ({ ...b, upstream: b.upstream.filter((u) => u !== change.upstream) }));
    case "set_description":
      return { ...pipeline, description: change.description };
    default:
      return assertNever(change, "pipeline change");
  }
}

/**
 * Applies `changes` in order and validates the result (names, duplicates, missing upstreams, cycles).
 * Never throws for a bad edit: the refusal is returned, so the editor can show it where it happened and
 * keep its state. The input is not modified.
 */
export function applyPipelineChanges(pipeline: Pipeline, changes: readonly PipelineChange[]): ApplyResult {
  let next = pipeline;
  for (const change of changes) {
    const result = applyOne(next, change);
    if ("code" in result) return { ok: false, error: result };
    next = result;
  }
  const [issue] = findPipelineIssues(next);
  if (!issue) return { ok: true, pipeline: next };
  if (issue.code === "cycle") {
    const cycle = findCycle(next.blocks) ?? (issue.block ? [issue.block, issue.block] : undefined);
    const message = cycle ? `refused: the blocks would form a cycle ${cycle.join(" → ")}` : issue.message;
    return { ok: false, error: { code: "cycle", message, block: issue.block, cycle } };
  }
  return { ok: false, error: { code: issue.code, message: issue.message, block: issue.block } };
}

/** Blocks in dependency order (upstreams first), file order among independent blocks; lenient on cycles. */
export function blocksInDependencyOrder(pipeline: Pipeline): BlockSpec[] {
  const byName = new Map(pipeline.blocks.map((b) => [b.name, b]));
  const placed = new Set<string>();
  const result: BlockSpec[] = [];
  const visiting = new Set<string>();
  const visit = (block: BlockSpec) => {
    if (placed.has(block.name) || visiting.has(block.name)) return;
    visiting.add(block.name);
    for (const up of block.upstream) {
      const spec = byName.get(up);
      if (spec) visit(spec);
    }
    visiting.delete(block.name);
    placed.add(block.name);
    result.push(block);
  };
  for (const block of pipeline.blocks) visit(block);
  return result;
}
