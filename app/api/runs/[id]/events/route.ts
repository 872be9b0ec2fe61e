import { handle } from "@/lib/server/api/http";
import { runEvents } from "@/lib/server/api/runs-service";

export const dynamic = "force-dynamic";

/** GET /api/runs/:id/events — text/event-stream: a snapshot, then state changes, log lines and progress. */
export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }) {
  return handle(async () => runEvents((await params).id, request));
}
