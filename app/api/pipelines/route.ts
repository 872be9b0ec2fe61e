import { handle } from "@/lib/server/api/http";
import { createPipeline, listPipelines } from "@/lib/server/api/pipelines-service";

export const dynamic = "force-dynamic";

/** GET /api/pipelines: name, description, block count, last run, triggers (and the error of a broken pipeline). */
export async function GET() {
  return handle(async () => Response.json({ pipelines: await listPipelines() }));
}

/** POST /api/pipelines {name, template?: "blank" | <pipeline to copy>} → 201. */
export async function POST(request: Request) {
  return handle(() => createPipeline(request));
}
