import { handle } from "@/lib/server/api/http";
import { createTrigger, listTriggers } from "@/lib/server/api/triggers-service";

export const dynamic = "force-dynamic";

type Ctx = { params: Promise<{ p: string }> };

/** GET /api/pipelines/:p/triggers — triggers with next and last run. */
export async function GET(_request: Request, { params }: Ctx) {
  return handle(async () => listTriggers((await params).p));
}

/** POST /api/pipelines/:p/triggers — a trigger in the triggers.yaml shape → 201 {trigger}. */
export async function POST(request: Request, { params }: Ctx) {
  return handle(async () => createTrigger((await params).p, request));
}
