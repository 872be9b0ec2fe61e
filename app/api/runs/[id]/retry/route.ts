import { apiContract } from "@/lib/core/api-contract";
import { route } from "@/lib/server/api/route";
import { retryRun } from "@/lib/server/api/runs-service";

export const dynamic = "force-dynamic";

export const POST = route(apiContract.retryRun, retryRun);
