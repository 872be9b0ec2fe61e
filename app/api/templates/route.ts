import { apiContract } from "@/lib/core/api-contract";
import { route } from "@/lib/server/api/route";
import { listTemplates } from "@/lib/server/api/templates";

export const dynamic = "force-dynamic";

export const GET = route(apiContract.listTemplates, listTemplates);
