import { apiContract } from "@/lib/core/api-contract";
import { getColumnTopValues } from "@/lib/server/api/output-top-values-service";
import { route } from "@/lib/server/api/route";

export const dynamic = "force-dynamic";

export const GET = route(apiContract.getColumnTopValues, getColumnTopValues);
