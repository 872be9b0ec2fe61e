import { apiContract } from "@/lib/core/api-contract";
import { route } from "@/lib/server/api/route";
import { workersOverview } from "@/lib/server/api/workers";

export const dynamic = "force-dynamic";

export const GET = route(apiContract.workers, workersOverview, { headers: { "Cache-Control": "no-store" } });
