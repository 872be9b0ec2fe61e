import { apiContract } from "@/lib/core/api-contract";
import { route } from "@/lib/server/api/route";
import { deleteTrigger, getTrigger, updateTrigger } from "@/lib/server/api/triggers-service";

export const dynamic = "force-dynamic";

export const GET = route(apiContract.getTrigger, getTrigger);
export const PUT = route(apiContract.updateTrigger, updateTrigger);
export const DELETE = route(apiContract.deleteTrigger, deleteTrigger);
