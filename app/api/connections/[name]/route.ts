import { apiContract } from "@/lib/core/api-contract";
import { deleteConnection, getConnection, putConnection } from "@/lib/server/api/connections-service";
import { route } from "@/lib/server/api/route";

export const dynamic = "force-dynamic";

export const GET = route(apiContract.getConnection, getConnection, { headers: { "Cache-Control": "no-store" } });
export const PUT = route(apiContract.putConnection, putConnection);
export const DELETE = route(apiContract.deleteConnection, deleteConnection);
