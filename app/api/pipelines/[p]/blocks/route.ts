import { apiContract } from "@/lib/core/api-contract";
import { addBlock } from "@/lib/server/api/pipelines-service";
import { route } from "@/lib/server/api/route";

export const dynamic = "force-dynamic";

export const POST = route(apiContract.addBlock, addBlock);
