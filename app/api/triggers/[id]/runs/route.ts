import { handle } from "@/lib/server/api/http";
import { fireApiTrigger } from "@/lib/server/api/triggers-service";

export const dynamic = "force-dynamic";

/** POST /api/triggers/:id/runs — Authorization: Bearer <trigger token>, {variables?} → 201 {run_id}; 401 otherwise. */
export async function POST(request: Request, { params }: { params: Promise<{ id: string }> }) {
  return handle(async () => fireApiTrigger((await params).id, request));
}
