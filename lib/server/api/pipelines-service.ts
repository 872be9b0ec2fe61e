/**
 * Pipelines and blocks over HTTP (DESIGN §10): thin services that route handlers call after parsing.
 * They reach the engine only through `getServices()`.
 */
import { z } from "zod";
import { BLOCK_LANGUAGES, BLOCK_TYPES, type Pipeline } from "@/lib/core/model";
import { applyPipelineChanges, type PipelineChange } from "@/lib/core/pipeline-changes";
import { getServices } from "../global-services";
import { readAllBlockCode } from "./block-code";
import { ApiError, expectedVersion, nameSchema, parseWith, readBody } from "./http";
import { TriggerFiles } from "@/lib/store/trigger-files";

/** One row of the home page. */
export interface PipelineListItem {
  name: string;
  description: string;
  blocks: number | null;
  version: string | null;
  error: string | null;
  last_run: { id: string; state: string; created_at: string; ended_at: string | null } | null;
  triggers: number;
}

export async function listPipelines(): Promise<PipelineListItem[]> {
  const { files, runs } = getServices();
  const summaries = await files.list();
  const triggerFiles = new TriggerFiles(files.root);
  return Promise.all(
    summaries.map(async (s) => {
      const [last] = await runs.listRuns({ pipeline: s.name, limit: 1 });
      return {
        name: s.name,
        description: s.description,
        blocks: s.blockCount ?? null,
        version: s.version ?? null,
        error: s.error ?? null,
        last_run: last ? { id: last.id, state: last.state, created_at: last.createdAt, ended_at: last.endedAt } : null,
        // A broken triggers.yaml shows on the triggers page; here it just counts as none.
        triggers: s.error ? 0 : (await triggerFiles.read(s.name).catch(() => [])).length,
      };
    }),
  );
}

const createSchema = z.strictObject({
  name: nameSchema,
  /** "blank" (default) or the name of a pipeline to copy (an example, or duplicate). */
  template: z.string().optional(),
  description: z.string().optional(),
});

export async function createPipeline(request: Request): Promise<Response> {
  const body = await readBody(request, createSchema);
  const from = body.template && body.template !== "blank" ? parseWith(nameSchema, body.template, "template") : undefined;
  const created = await getServices().files.create(body.name, { from, description: body.description });
  return Response.json({ name: created.pipeline.name, version: created.version }, { status: 201 });
}

/** A pipeline with every block's code and versions: what the editor opens. */
export interface PipelineDocument {
  pipeline: Pipeline;
  version: string;
  blocks: { name: string; code: string; version: string; exists: boolean }[];
}

export async function getPipeline(name: string): Promise<PipelineDocument> {
  const { files } = getServices();
  parseWith(nameSchema, name, "pipeline name");
  const { pipeline, version, dir } = await files.read(name);
  return { pipeline, version, blocks: await readAllBlockCode(dir, pipeline) };
}

const changeSchema: z.ZodType<PipelineChange> = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("set_block_type"), block: nameSchema, blockType: z.enum(BLOCK_TYPES) }),
  z.strictObject({ type: z.literal("set_upstream"), block: nameSchema, upstream: z.array(nameSchema) }),
  z.strictObject({ type: z.literal("add_upstream"), block: nameSchema, upstream: nameSchema }),
  z.strictObject({ type: z.literal("remove_upstream"), block: nameSchema, upstream: nameSchema }),
  z.strictObject({ type: z.literal("set_description"), description: z.string() }),
]);

const saveSchema = z.strictObject({
  version: z.string().optional(),
  /** Structural edits applied to the current file (add/remove/rename blocks have their own routes: they touch files). */
  changes: z.array(changeSchema).optional(),
  /** Or a rename of the pipeline. */
  name: nameSchema.optional(),
});

/**
 * PUT /api/pipelines/:p — applies `changes` (validated by the pure `applyPipelineChanges`; a cycle is a
 * 409 naming it) on top of the version the client had (If-Match; stale → 409), or renames the pipeline.
 */
export async function savePipeline(name: string, request: Request): Promise<Response> {
  parseWith(nameSchema, name, "pipeline name");
  const body = await readBody(request, saveSchema);
  const version = expectedVersion(request, body.version);
  const { files } = getServices();
  if (body.name !== undefined && body.name !== name) {
    const renamed = await files.rename(name, body.name, { expectedVersion: version });
    return Response.json({ name: renamed.pipeline.name, version: renamed.version });
  }
  const current = await files.read(name);
  if (current.version !== version) {
    throw new ApiError(409, "stale_version", `${name}/pipeline.yaml changed since you opened it (in another tab or on disk); reload to see the new version`, {
      current_version: current.version,
    });
  }
  const result = applyPipelineChanges(current.pipeline, body.changes ?? []);
  if (!result.ok) {
    const status = result.error.code === "cycle" ? 409 : result.error.code === "not_found" ? 404 : 422;
    throw new ApiError(status, result.error.code, result.error.message, { block: result.error.block, cycle: result.error.cycle });
  }
  const saved = await files.savePipeline(name, result.pipeline, version);
  return Response.json({ version: saved.version, pipeline: result.pipeline });
}

export async function deletePipeline(name: string, request: Request): Promise<Response> {
  parseWith(nameSchema, name, "pipeline name");
  const header = request.headers.get("if-match");
  await getServices().files.delete(name, header ? { expectedVersion: expectedVersion(request) } : {});
  return new Response(null, { status: 204 });
}

const addBlockSchema = z.strictObject({
  name: nameSchema,
  type: z.enum(BLOCK_TYPES),
  language: z.enum(BLOCK_LANGUAGES),
  upstream: z.array(nameSchema).default([]),
  code: z.string().default(""),
  /** A `sluice.yaml` connection a SQL block runs in (ELT in the warehouse). */
  connection: z.string().min(1).max(100).optional(),
  version: z.string().optional(),
});

/** POST /api/pipelines/:p/blocks — adds a block and writes its code file. */
export async function addBlock(pipelineName: string, request: Request): Promise<Response> {
  parseWith(nameSchema, pipelineName, "pipeline name");
  const body = await readBody(request, addBlockSchema);
  const version = expectedVersion(request, body.version);
  const { files } = getServices();
  const current = await files.read(pipelineName);
  const result = applyPipelineChanges(current.pipeline, [{ type: "add_block", block: { name: body.name, type: body.type, language: body.language, upstream: body.upstream, connection: body.connection ?? null } }]);
  if (!result.ok) throw new ApiError(result.error.code === "cycle" ? 409 : 422, result.error.code, result.error.message, { block: result.error.block });
  const spec = result.pipeline.blocks[result.pipeline.blocks.length - 1];
  const edited = await files.addBlock(pipelineName, spec, body.code, { expectedVersion: version });
  return Response.json({ pipeline_version: edited.pipelineVersion, block_version: edited.blockVersion, block: spec }, { status: 201 });
}

export async function getBlock(pipelineName: string, blockName: string): Promise<Response> {
  parseWith(nameSchema, pipelineName, "pipeline name");
  parseWith(nameSchema, blockName, "block name");
  const block = await getServices().files.readBlock(pipelineName, blockName);
  return Response.json({ block: block.spec, code: block.code, version: block.version, exists: block.exists });
}

const putBlockSchema = z.strictObject({
  code: z.string().optional(),
  /** Rename the block (file, name and upstream entries); If-Match is then the pipeline version. */
  name: nameSchema.optional(),
  version: z.string().optional(),
});

/** PUT /api/pipelines/:p/blocks/:b — saves code (If-Match: block version) or renames (If-Match: pipeline version). */
export async function putBlock(pipelineName: string, blockName: string, request: Request): Promise<Response> {
  parseWith(nameSchema, pipelineName, "pipeline name");
  parseWith(nameSchema, blockName, "block name");
  const body = await readBody(request, putBlockSchema);
  const version = expectedVersion(request, body.version);
  const { files } = getServices();
  if (body.name !== undefined) {
    const renamed = await files.renameBlock(pipelineName, blockName, body.name, { expectedVersion: version });
    return Response.json({ pipeline_version: renamed.pipelineVersion, block_version: renamed.blockVersion, downstream_to_review: renamed.downstreamToReview });
  }
  if (body.code === undefined) throw new ApiError(400, "invalid_input", "send code or name");
  const saved = await files.writeBlock(pipelineName, blockName, body.code, version);
  return Response.json({ version: saved.version });
}

/** DELETE /api/pipelines/:p/blocks/:b (?detach=true removes it from downstream upstream lists too). */
export async function deleteBlock(pipelineName: string, blockName: string, request: Request): Promise<Response> {
  parseWith(nameSchema, pipelineName, "pipeline name");
  parseWith(nameSchema, blockName, "block name");
  const detach = new URL(request.url).searchParams.get("detach") === "true";
  const header = request.headers.get("if-match");
  const removed = await getServices().files.removeBlock(pipelineName, blockName, { detach, ...(header ? { expectedVersion: expectedVersion(request) } : {}) });
  return Response.json({ pipeline_version: removed.pipelineVersion });
}
