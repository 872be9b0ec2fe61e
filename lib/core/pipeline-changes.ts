/**
 * Editor edits as data: every structural edit of a pipeline is a `PipelineChange`, applied by
 * the pure `applyPipelineChanges`. The editor applies changes to its copy optimistically, the graph panel
 * turns a dragged edge into `add_upstream`, and the server validates the same result before it writes
 * `pipeline.yaml` — one rule set everywhere (xyflow `NodeChange` + `applyNodeChanges`).
 */
import { assertNever } from "./assert-never";
import { newBlockSpec } from "./builders";
import { DEFAULT_RETRY_POLICY } from "./model";
import { findCycle } from "./graph/find-cycle";
import type { BlockSpec, BlockType, Pipeline, RetryPolicy, VariableValue } from "./model";
import { findPipelineIssues, type PipelineIssueCode } from "./pipeline-checks";

export type PipelineChange =
  | { type: "add_block"; block: Pick<BlockSpec, "name"> & Partial<BlockSpec> }
  | { type: "remove_block"; name: string }
  | { type: "rename_block"; from: string; to: string }
  | { type: "set_block_type"; block: string; blockType: BlockType }
  | { type: "set_upstream"; block: string; upstream: string[] }
  | { type: "add_upstream"; block: string; upstream: string }
  | { type: "remove_upstream"; block: string; upstream: string }
  | { type: "set_description"; description: string }
  | { type: "set_variable"; name: string; value: VariableValue; secret?: boolean }
  | { type: "remove_variable"; name: string }
  | { type: "rename_variable"; from: string; to: string }
  | { type: "set_block_settings"; block: string; settings: BlockSettings };

/** Block keys the model keeps as `null` for "the default" (the others are absent then). */
const NULL_MEANS_DEFAULT = ["timeoutMs", "connection", "queue"] as const;

/**
 * Settings of one block as the block panel edits them: a key left out is unchanged, `null` puts the
 * setting back to its default (the key leaves `pipeline.yaml`). Every optional key of `BlockSpec` is
 * settable, so a setting added to the model is editable without a change here.
 */
export type BlockSettings = {
  [K in Exclude<keyof BlockSpec, "name" | "upstream" | "retries" | "instanceOf">]?: NonNullable<BlockSpec[K]> | null;
} & { retries?: Partial<RetryPolicy> | null };

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
    case "set_variable": {
      if (!VARIABLE_NAME.test(change.name)) return badVariableName(change.name);
      const secrets = (pipeline.secretVariables ?? []).filter((n) => n !== change.name);
      const secret = change.secret ?? (pipeline.secretVariables ?? []).includes(change.name);
      return withSecrets({ ...pipeline, variables: { ...pipeline.variables, [change.name]: change.value } }, secret ? [...secrets, change.name] : secrets);
    }
    case "remove_variable": {
      if (!(change.name in pipeline.variables)) return { code: "not_found", message: `there is no variable "${change.name}"` };
      const { [change.name]: _removed, ...variables } = pipeline.variables;
      return withSecrets({ ...pipeline, variables }, (pipeline.secretVariables ?? []).filter((n) => n !== change.name));
    }
    case "rename_variable": {
      if (!(change.from in pipeline.variables)) return { code: "not_found", message: `there is no variable "${change.from}"` };
      if (!VARIABLE_NAME.test(change.to)) return badVariableName(change.to);
      if (change.to !== change.from && change.to in pipeline.variables) return { code: "invalid_value", message: `there is already a variable "${change.to}"` };
      // Rebuilt in the same order, so the renamed variable keeps its place.
      const variables = Object.fromEntries(Object.entries(pipeline.variables).map(([k, v]) => [k === change.from ? change.to : k, v]));
      return withSecrets({ ...pipeline, variables }, (pipeline.secretVariables ?? []).map((n) => (n === change.from ? change.to : n)));
    }
    case "set_block_settings":
      return mapBlock(pipeline, change.block, (b) => applySettings(b, change.settings));
    default:
      return assertNever(change, "pipeline change");
  }
}

/** What `ctx.variables.<name>` and `{{ variables.<name> }}` can spell without quoting. */
export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function badVariableName(name: string): PipelineChangeError {
  return { code: "invalid_value", message: `variable name "${name}" must start with a letter or _ and hold only letters, digits and _` };
}

function withSecrets(pipeline: Pipeline, secrets: string[]): Pipeline {
  const { secretVariables: _old, ...rest } = pipeline;
  return secrets.length > 0 ? { ...rest, secretVariables: secrets } : rest;
}

function applySettings(block: BlockSpec, settings: BlockSettings): BlockSpec {
  const next: Record<string, unknown> = { ...block };
  for (const [key, value] of Object.entries(settings) as [string, unknown][]) {
    if (value === undefined) continue;
    if (key === "retries") next.retries = value === null ? { ...DEFAULT_RETRY_POLICY } : { ...block.retries, ...(value as Partial<RetryPolicy>) };
    else if (value !== null) next[key] = value;
    else if ((NULL_MEANS_DEFAULT as readonly string[]).includes(key)) next[key] = null;
    // Optional model keys are absent rather than undefined when cleared, so a cleared block deep-equals a fresh one.
    else delete next[key];
  }
  return next as unknown as BlockSpec;
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
