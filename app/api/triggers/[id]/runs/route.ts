import { apiContract } from "@/lib/core/api-contract";
import { route } from "@/lib/server/api/route";
import { fireApiTrigger } from "@/lib/server/api/triggers-service";

export const dynamic = "force-dynamic";

export const POST = route(apiContract.fireApiTrigger, fireApiTrigger);
