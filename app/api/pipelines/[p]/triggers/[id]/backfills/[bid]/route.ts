import { handle } from "@/lib/server/api/http";
import { getBackfill } from "@/lib/server/api/triggers-service";

export const dynamic = "force-dynamic";

/** GET /api/pipelines/:p/triggers/:id/backfills/:bid — progress. */
export async function GET(_request: Request, { params }: { params: Promise<{ p: string; id: string; bid: string }> }) {
  return handle(async () => {
    const { p, id, bid } = await params;
    return getBackfill(p, id, bid);
  });
}
