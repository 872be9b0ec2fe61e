import { apiContract } from "@/lib/core/api-contract";
import { createPipeline, listPipelines } from "@/lib/server/api/pipelines-service";
import { route } from "@/lib/server/api/route";

export const dynamic = "force-dynamic";

export const GET = route(apiContract.listPipelines, async () => ({ pipelines: await listPipelines() }));
export const POST = route(apiContract.createPipeline, createPipeline);
