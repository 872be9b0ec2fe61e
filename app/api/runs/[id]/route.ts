import { handle } from "@/lib/server/api/http";
import { getRun } from "@/lib/server/api/runs-service";

export const dynamic = "force-dynamic";

/** GET /api/runs/:id — run + block runs (state, attempt, timings, rows). */
export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }) {
  return handle(async () => getRun((await params).id));
}
