import { handle } from "@/lib/server/api/http";
import { getLogs } from "@/lib/server/api/runs-service";

export const dynamic = "force-dynamic";

export async function GET(_request: Request, { params }: { params: Promise<{ id: string; b: string }> }) {
  return handle(async () => {
    const { id, b } = await params;
    return getLogs(id, b);
  });
}
