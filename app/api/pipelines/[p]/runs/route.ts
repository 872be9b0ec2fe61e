import { handle } from "@/lib/server/api/http";
import { startRun } from "@/lib/server/api/runs-service";

export const dynamic = "force-dynamic";

/** POST /api/pipelines/:p/runs {variables?, block?, mode?: pipeline|block|with_upstream|from} → 201 {run_id}. */
export async function POST(request: Request, { params }: { params: Promise<{ p: string }> }) {
  return handle(async () => startRun((await params).p, request));
}
