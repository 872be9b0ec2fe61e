/**
 * The HTTP calls of one pipeline editor, typed by the API contract: each names its route once, so the
 * store's actions read as what they do rather than as URLs. Results are returned as the API gave them.
 */
import type { BlockLanguage, BlockType, RunMode, Variables } from "@/lib/core/model";
import type { PipelineChange } from "@/lib/core/pipeline-changes";
import type { ResponseOf } from "@/lib/core/api-contract";
import { seg } from "../ui/api-client";
import type { EditorApi } from "./editor-api";

/** A block to add, with its first code. */
export interface NewBlockSpec {
  name: string;
  type: BlockType;
  language: BlockLanguage;
  upstream: string[];
  code: string;
  connection?: string;
}

/** The calls the editor of pipeline `name` makes; `version` is the If-Match of a write. */
export function pipelineRequests(api: EditorApi, name: string) {
  const pipelinePath = `/api/pipelines/${seg(name)}`;
  const blockPath = (block: string) => `${pipelinePath}/blocks/${seg(block)}`;
  return {
    getPipeline: () => api.call<ResponseOf<"getPipeline">>(pipelinePath),
    savePipeline: (changes: PipelineChange[], version: string) => api.call<ResponseOf<"savePipeline">>(pipelinePath, { method: "PUT", body: { changes }, version }),
    addBlock: (spec: NewBlockSpec, version: string) => api.call<ResponseOf<"addBlock">>(`${pipelinePath}/blocks`, { method: "POST", body: spec, version }),
    saveBlockCode: (block: string, code: string, version: string) =>
      api.call<Extract<ResponseOf<"putBlock">, { version: string }>>(blockPath(block), { method: "PUT", body: { code }, version }),
    renameBlock: (from: string, to: string, version: string) =>
      api.call<Extract<ResponseOf<"putBlock">, { downstream_to_review: string[] }>>(blockPath(from), { method: "PUT", body: { name: to }, version }),
    deleteBlock: (block: string, version: string) => api.call<ResponseOf<"deleteBlock">>(`${blockPath(block)}?detach=true`, { method: "DELETE", version }),
    startRun: (body: { mode: RunMode; block?: string; variables?: Variables }) => api.call<ResponseOf<"startRun">>(`${pipelinePath}/runs`, { method: "POST", body }),
    cancelRun: (runId: string) => api.call<ResponseOf<"cancelRun">>(`/api/runs/${seg(runId)}/cancel`, { method: "POST" }),
    getLogs: (runId: string, block: string) => api.call<ResponseOf<"getLogs">>(`/api/runs/${seg(runId)}/blocks/${seg(block)}/logs`),
  };
}

export type PipelineRequests = ReturnType<typeof pipelineRequests>;
