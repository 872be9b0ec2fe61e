import { apiContract } from "@/lib/core/api-contract";
import { route } from "@/lib/server/api/route";
import { latestBlockRuns } from "@/lib/server/api/notebook-service";

export const dynamic = "force-dynamic";

export const GET = route(apiContract.latestBlockRuns, latestBlockRuns);
