/**
 * Complete model values from the few fields that matter: what "add block" and "new pipeline" create,
 * and what tests start from. Defaults live here once, so the editor, the API and tests agree on them.
 */
import { DEFAULT_RETRY_POLICY, type BlockSpec, type Pipeline } from "./model";

/** A block with every setting not given at its default (transformer, TypeScript, no upstream, default retries, no timeout). */
export function newBlockSpec(fields: Pick<BlockSpec, "name"> & Partial<BlockSpec>): BlockSpec {
  return {
    type: "transformer",
    language: "ts",
    upstream: [],
    timeoutMs: null,
    connection: null,
    queue: null,
    ...fields,
    retries: { ...DEFAULT_RETRY_POLICY, ...fields.retries },
  };
}

/** An empty pipeline (or one with the given fields), version 1. */
export function newPipeline(name: string, fields: Partial<Omit<Pipeline, "version" | "name">> = {}): Pipeline {
  return { version: 1, name, description: "", variables: {}, blocks: [], ...fields };
}
