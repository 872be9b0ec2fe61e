import { handle } from "@/lib/server/api/http";
import { retryRun } from "@/lib/server/api/runs-service";

export const dynamic = "force-dynamic";

/** POST /api/runs/:id/retry {from_block?} → 201 {run_id}. */
export async function POST(request: Request, { params }: { params: Promise<{ id: string }> }) {
  return handle(async () => retryRun((await params).id, request));
}
