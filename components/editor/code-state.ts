/**
 * The editor's decisions about block code (pure): whether an autosave sends anything, what a stale-version
 * conflict tells the user, which unsaved edits survive a reload, and how Shift+Enter runs a block. The store
 * (editor-store.ts) does the IO around them.
 */
import type { RunMode } from "@/lib/core/model";
import type { PipelineDocument } from "@/lib/server/api/pipelines-service";
import type { ApiErrorInfo } from "../ui/api-client";
import type { BlockCodeState, Conflict, EditorState } from "./editor-store";

/** Every block's code as loaded: nothing unsaved, nothing saving. */
export function codeStateOf(doc: PipelineDocument): Record<string, BlockCodeState> {
  return Object.fromEntries(doc.blocks.map((b) => [b.name, { code: b.code, version: b.version, savedCode: b.code, saving: false }]));
}

/**
 * What a save of `block` does: `skip` (nothing unsaved, or the block is gone: counts as saved), `refuse`
 * (the block is in a conflict the user has not resolved: writing again would only be refused again, or
 * overwrite someone else's change), or `send`. `force` is the user's "overwrite" and always sends.
 */
export function saveDecision(current: BlockCodeState | undefined, conflict: Conflict | null, block: string, force: boolean): "skip" | "refuse" | "send" {
  if (!current) return "skip";
  if (current.code === current.savedCode && !force) return "skip";
  if (conflict?.block === block && !force) return "refuse";
  return "send";
}

/** The conflict banner for a refused write of `block` (null: pipeline.yaml). */
export function conflictFor(block: string | null, error: ApiErrorInfo): Conflict {
  return {
    block,
    message:
      error.code === "stale_version"
        ? `${block ? `Block "${block}"` : "pipeline.yaml"} changed since you opened it — in another tab or on disk. Your change was not saved.`
        : error.message,
  };
}

/** The code after a reload: the server's, except unsaved edits of blocks that did not change on disk. */
export function reloadedCode(fresh: PipelineDocument, mine: Record<string, BlockCodeState>): Record<string, BlockCodeState> {
  const code = codeStateOf(fresh);
  for (const [block, edited] of Object.entries(mine)) {
    const theirs = code[block];
    if (theirs && edited.code !== edited.savedCode && theirs.version === edited.version) code[block] = edited;
  }
  return code;
}

/**
 * Shift+Enter: the block alone when every upstream has an output to read, else with its upstreams; null for
 * a block that is not in the pipeline.
 */
export function focusedRunMode(state: Pick<EditorState, "pipeline" | "outputs" | "status">, block: string): Exclude<RunMode, "pipeline"> | null {
  const spec = state.pipeline.blocks.find((b) => b.name === block);
  if (!spec) return null;
  const cached = spec.upstream.every((u) => state.outputs[u] !== undefined || state.status[u]?.state === "success");
  return cached ? "block" : "with_upstream";
}
