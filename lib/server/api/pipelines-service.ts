/**
 * Pipelines and blocks over HTTP: thin services the routes call with input already parsed by the API
 * contract (lib/core/api-contract.ts); they return the response body. They reach the engine only through
 * `getServices()`.
 */
import type { InputOf, PipelineDocument, PipelineListItem, ResponseOf } from "@/lib/core/api-contract";
import type { Pipeline } from "@/lib/core/model";
import { applyPipelineChanges } from "@/lib/core/pipeline-changes";
import { secretPlaceholder } from "@/lib/core/secret-variables";
import { getServices } from "../global-services";
import { readAllBlockCode } from "./block-code";
import { ApiError, expectedVersion, nameSchema, parseWith } from "./http";
import { TriggerFiles } from "@/lib/store/trigger-files";
import { describeSchedule } from "./triggers-service";

export type { PipelineDocument, PipelineListItem } from "@/lib/core/api-contract";

/** The home page rows (the page calls this directly; the route wraps it in `{pipelines}`). */
export async function listPipelines(): Promise<PipelineListItem[]> {
  const { files, runs } = getServices();
  const summaries = await files.list();
  const triggerFiles = new TriggerFiles(files.root);
  return Promise.all(
    summaries.map(async (s) => {
      const [last] = await runs.listRuns({ pipeline: s.name, limit: 1 });
      const triggers = s.error ? [] : await triggerFiles.read(s.name).catch(() => []);
      return {
        name: s.name,
        description: s.description,
        blocks: s.blockCount ?? null,
        version: s.version ?? null,
        error: s.error ?? null,
        last_run: last ? { id: last.id, state: last.state, created_at: last.createdAt, ended_at: last.endedAt } : null,
        // A broken triggers.yaml shows on the triggers page; here it just counts as none.
        triggers: triggers.length,
        schedules: triggers.flatMap((t) => (t.enabled ? (describeSchedule(t) ?? []) : [])),
      };
    }),
  );
}

export async function createPipeline({ body }: InputOf<"createPipeline">): Promise<ResponseOf<"createPipeline">> {
  const from = body.template && body.template !== "blank" ? parseWith(nameSchema, body.template, "template") : undefined;
  const created = await getServices().files.create(body.name, { from, description: body.description });
  return { name: created.pipeline.name, version: created.version };
}

/** The editor page calls this with the raw URL segment, so the name is checked here too. */
export async function getPipeline(name: string): Promise<PipelineDocument> {
  const { files } = getServices();
  parseWith(nameSchema, name, "pipeline name");
  const { pipeline, version, dir } = await files.read(name);
  return { pipeline: withSecretsHidden(pipeline), version, blocks: await readAllBlockCode(dir, pipeline) };
}

/**
 * The pipeline as the browser may see it: a secret variable's value is replaced by its placeholder
 * (`[secret:name]`). Edits reach the file as changes, so the hidden value is never written back.
 */
export function withSecretsHidden(pipeline: Pipeline): Pipeline {
  const secrets = pipeline.secretVariables ?? [];
  if (secrets.length === 0) return pipeline;
  const variables = { ...pipeline.variables };
  for (const name of secrets) if (name in variables) variables[name] = secretPlaceholder(name);
  return { ...pipeline, variables };
}

/**
 * PUT /api/pipelines/:p — applies `changes` (validated by the pure `applyPipelineChanges`; a cycle is a
 * 409 naming it) on top of the version the client had (If-Match; stale → 409), or renames the pipeline.
 */
export async function savePipeline({ params, headers, body }: InputOf<"savePipeline">): Promise<ResponseOf<"savePipeline">> {
  const name = params.p;
  const version = expectedVersion(headers["if-match"], body.version);
  const { files } = getServices();
  if (body.name !== undefined && body.name !== name) {
    const renamed = await files.rename(name, body.name, { expectedVersion: version });
    return { name: renamed.pipeline.name, version: renamed.version };
  }
  const current = await files.read(name);
  if (current.version !== version) {
    throw ApiError.of("stale_version", `${name}/pipeline.yaml changed since you opened it (in another tab or on disk); reload to see the new version`, {
      current_version: current.version,
    });
  }
  const changes = body.changes ?? [];
  // Checked on the model first so a cycle comes back named (`cycle`), then written into the file's own text.
  const result = applyPipelineChanges(current.pipeline, changes);
  if (!result.ok) {
    throw ApiError.fromUserCode(result.error.code, result.error.message, { block: result.error.block, cycle: result.error.cycle });
  }
  const saved = await files.applyChanges(name, changes, version);
  return { version: saved.version, pipeline: withSecretsHidden(saved.pipeline) };
}

export async function deletePipeline({ params, headers }: InputOf<"deletePipeline">): Promise<null> {
  const ifMatch = headers["if-match"];
  await getServices().files.delete(params.p, ifMatch ? { expectedVersion: expectedVersion(ifMatch) } : {});
  return null;
}

/** POST /api/pipelines/:p/blocks — adds a block and writes its code file. */
export async function addBlock({ params, headers, body }: InputOf<"addBlock">): Promise<ResponseOf<"addBlock">> {
  const pipelineName = params.p;
  const version = expectedVersion(headers["if-match"], body.version);
  const { files } = getServices();
  const current = await files.read(pipelineName);
  const result = applyPipelineChanges(current.pipeline, [{ type: "add_block", block: { name: body.name, type: body.type, language: body.language, upstream: body.upstream, connection: body.connection ?? null } }]);
  if (!result.ok) throw ApiError.fromUserCode(result.error.code, result.error.message, { block: result.error.block });
  const spec = result.pipeline.blocks[result.pipeline.blocks.length - 1];
  const edited = await files.addBlock(pipelineName, spec, body.code, { expectedVersion: version });
  return { pipeline_version: edited.pipelineVersion, block_version: edited.blockVersion, block: spec };
}

export async function getBlock({ params }: InputOf<"getBlock">): Promise<ResponseOf<"getBlock">> {
  const block = await getServices().files.readBlock(params.p, params.b);
  return { block: block.spec, code: block.code, version: block.version, exists: block.exists };
}

/** PUT /api/pipelines/:p/blocks/:b — saves code (If-Match: block version) or renames (If-Match: pipeline version). */
export async function putBlock({ params, headers, body }: InputOf<"putBlock">): Promise<ResponseOf<"putBlock">> {
  const { p: pipelineName, b: blockName } = params;
  const version = expectedVersion(headers["if-match"], body.version);
  const { files } = getServices();
  if (body.name !== undefined) {
    const renamed = await files.renameBlock(pipelineName, blockName, body.name, { expectedVersion: version });
    return { pipeline_version: renamed.pipelineVersion, block_version: renamed.blockVersion, downstream_to_review: renamed.downstreamToReview };
  }
  if (body.code === undefined) throw ApiError.of("invalid_input", "send code or name");
  const saved = await files.writeBlock(pipelineName, blockName, body.code, version);
  return { version: saved.version };
}

/** DELETE /api/pipelines/:p/blocks/:b (?detach=true removes it from downstream upstream lists too). */
export async function deleteBlock({ params, query, headers }: InputOf<"deleteBlock">): Promise<ResponseOf<"deleteBlock">> {
  const ifMatch = headers["if-match"];
  const removed = await getServices().files.removeBlock(params.p, params.b, { detach: query.detach === "true", ...(ifMatch ? { expectedVersion: expectedVersion(ifMatch) } : {}) });
  return { pipeline_version: removed.pipelineVersion };
}
