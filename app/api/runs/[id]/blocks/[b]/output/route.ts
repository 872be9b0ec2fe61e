import { handle } from "@/lib/server/api/http";
import { getOutputPage } from "@/lib/server/api/runs-service";

export const dynamic = "force-dynamic";

/** GET /api/runs/:id/blocks/:b/output?offset=&limit= → {schema, total_rows, rows, stats}. */
export async function GET(request: Request, { params }: { params: Promise<{ id: string; b: string }> }) {
  return handle(async () => {
    const { id, b } = await params;
    return getOutputPage(id, b, request);
  });
}
