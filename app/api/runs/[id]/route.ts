import { apiContract } from "@/lib/core/api-contract";
import { route } from "@/lib/server/api/route";
import { getRun } from "@/lib/server/api/runs-service";

export const dynamic = "force-dynamic";

export const GET = route(apiContract.getRun, getRun);
