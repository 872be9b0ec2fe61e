import { handle } from "@/lib/server/api/http";
import { createBackfill, listBackfills } from "@/lib/server/api/triggers-service";

export const dynamic = "force-dynamic";

type Ctx = { params: Promise<{ p: string; id: string }> };

export async function GET(_request: Request, { params }: Ctx) {
  return handle(async () => {
    const { p, id } = await params;
    return listBackfills(p, id);
  });
}

/** POST /api/pipelines/:p/triggers/:id/backfills {start, end, concurrency?} → 201 {backfill}. */
export async function POST(request: Request, { params }: Ctx) {
  return handle(async () => {
    const { p, id } = await params;
    return createBackfill(p, id, request);
  });
}
