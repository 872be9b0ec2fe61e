import { apiContract } from "@/lib/core/api-contract";
import { deletePipeline, getPipeline, savePipeline } from "@/lib/server/api/pipelines-service";
import { route } from "@/lib/server/api/route";

export const dynamic = "force-dynamic";

export const GET = route(apiContract.getPipeline, ({ params }) => getPipeline(params.p));
export const PUT = route(apiContract.savePipeline, savePipeline);
export const DELETE = route(apiContract.deletePipeline, deletePipeline);
