import { handle } from "@/lib/server/api/http";
import { deletePipeline, getPipeline, savePipeline } from "@/lib/server/api/pipelines-service";

export const dynamic = "force-dynamic";

type Context = { params: Promise<{ p: string }> };

/** GET /api/pipelines/:p → pipeline + version + blocks' code and versions. */
export async function GET(_request: Request, { params }: Context) {
  return handle(async () => Response.json(await getPipeline((await params).p)));
}

/** PUT /api/pipelines/:p {changes} or {name} with If-Match: version → 409 when stale or a cycle. */
export async function PUT(request: Request, { params }: Context) {
  return handle(async () => savePipeline((await params).p, request));
}

/** DELETE /api/pipelines/:p (If-Match optional). */
export async function DELETE(request: Request, { params }: Context) {
  return handle(async () => deletePipeline((await params).p, request));
}
