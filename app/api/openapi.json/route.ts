import { apiContract } from "@/lib/core/api-contract";
import { openApiDocument } from "@/lib/server/api/openapi";
import { route } from "@/lib/server/api/route";

export const dynamic = "force-dynamic";

export const GET = route(apiContract.openApi, () => openApiDocument());
