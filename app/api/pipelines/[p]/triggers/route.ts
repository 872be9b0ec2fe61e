import { apiContract } from "@/lib/core/api-contract";
import { route } from "@/lib/server/api/route";
import { createTrigger, listTriggers } from "@/lib/server/api/triggers-service";

export const dynamic = "force-dynamic";

export const GET = route(apiContract.listTriggers, listTriggers);
export const POST = route(apiContract.createTrigger, createTrigger);
