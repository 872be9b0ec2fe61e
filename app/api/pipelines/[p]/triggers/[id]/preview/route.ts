import { handle } from "@/lib/server/api/http";
import { previewSchedule } from "@/lib/server/api/triggers-service";

export const dynamic = "force-dynamic";

/** GET /api/pipelines/:p/triggers/:id/preview?cron=&interval=&timezone= — description + next 5 times. */
export async function GET(request: Request, { params }: { params: Promise<{ p: string; id: string }> }) {
  return handle(async () => {
    const { p, id } = await params;
    return previewSchedule(p, id, request);
  });
}
