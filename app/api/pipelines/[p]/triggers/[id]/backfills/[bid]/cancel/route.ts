import { handle } from "@/lib/server/api/http";
import { cancelBackfill } from "@/lib/server/api/triggers-service";

export const dynamic = "force-dynamic";

/** POST /api/pipelines/:p/triggers/:id/backfills/:bid/cancel. */
export async function POST(_request: Request, { params }: { params: Promise<{ p: string; id: string; bid: string }> }) {
  return handle(async () => {
    const { p, id, bid } = await params;
    return cancelBackfill(p, id, bid);
  });
}
