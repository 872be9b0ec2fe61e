import { handle } from "@/lib/server/api/http";
import { listTemplates } from "@/lib/server/api/templates";

export const dynamic = "force-dynamic";

/** GET /api/templates — connector block templates (templates/io) for the add-block menu. */
export async function GET() {
  return handle(() => listTemplates());
}
