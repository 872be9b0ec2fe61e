import { handle } from "@/lib/server/api/http";
import { workersOverview } from "@/lib/server/api/workers";

export const dynamic = "force-dynamic";

/** GET /api/workers — live workers (heartbeats, current jobs) and job counts per queue; or which executor is in use. */
export async function GET() {
  return handle(async () => Response.json(await workersOverview(), { headers: { "Cache-Control": "no-store" } }));
}
