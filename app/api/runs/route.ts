import { handle } from "@/lib/server/api/http";
import { listRuns } from "@/lib/server/api/runs-service";

export const dynamic = "force-dynamic";

/** GET /api/runs?pipeline=&status=&limit= — newest first. */
export async function GET(request: Request) {
  return handle(() => listRuns(request));
}
