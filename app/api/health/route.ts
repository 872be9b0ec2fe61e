import { apiContract } from "@/lib/core/api-contract";
import { route } from "@/lib/server/api/route";

export const dynamic = "force-dynamic";

export const GET = route(apiContract.health, () => ({ ok: true as const }));
