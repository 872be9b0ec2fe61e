import { apiContract } from "@/lib/core/api-contract";
import { testConnection } from "@/lib/server/api/connections-service";
import { route } from "@/lib/server/api/route";

export const dynamic = "force-dynamic";

export const POST = route(apiContract.testConnection, testConnection);
