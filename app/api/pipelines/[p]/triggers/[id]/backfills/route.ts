import { apiContract } from "@/lib/core/api-contract";
import { route } from "@/lib/server/api/route";
import { createBackfill, listBackfills } from "@/lib/server/api/triggers-service";

export const dynamic = "force-dynamic";

export const GET = route(apiContract.listBackfills, listBackfills);
export const POST = route(apiContract.createBackfill, createBackfill);
