import { handle } from "@/lib/server/api/http";
import { cancelRun } from "@/lib/server/api/runs-service";

export const dynamic = "force-dynamic";

export async function POST(_request: Request, { params }: { params: Promise<{ id: string }> }) {
  return handle(async () => cancelRun((await params).id));
}
