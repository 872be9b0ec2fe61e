import { apiContract } from "@/lib/core/api-contract";
import { deleteBlock, getBlock, putBlock } from "@/lib/server/api/pipelines-service";
import { route } from "@/lib/server/api/route";

export const dynamic = "force-dynamic";

export const GET = route(apiContract.getBlock, getBlock);
export const PUT = route(apiContract.putBlock, putBlock);
export const DELETE = route(apiContract.deleteBlock, deleteBlock);
