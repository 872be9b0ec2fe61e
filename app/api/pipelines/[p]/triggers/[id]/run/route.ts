import { handle } from "@/lib/server/api/http";
import { runTriggerNow } from "@/lib/server/api/triggers-service";

export const dynamic = "force-dynamic";

/** POST /api/pipelines/:p/triggers/:id/run — run now with the trigger's variables → 201 {run_id}. */
export async function POST(_request: Request, { params }: { params: Promise<{ p: string; id: string }> }) {
  return handle(async () => {
    const { p, id } = await params;
    return runTriggerNow(p, id);
  });
}
