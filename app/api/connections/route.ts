import { apiContract } from "@/lib/core/api-contract";
import { listConnections } from "@/lib/server/api/connections-service";
import { route } from "@/lib/server/api/route";

export const dynamic = "force-dynamic";

export const GET = route(apiContract.listConnections, listConnections, { headers: { "Cache-Control": "no-store" } });
