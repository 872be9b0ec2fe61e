import { handle } from "@/lib/server/api/http";
import { addBlock } from "@/lib/server/api/pipelines-service";

export const dynamic = "force-dynamic";

/** POST /api/pipelines/:p/blocks {name, type, language, upstream?, code?} with If-Match: pipeline version. */
export async function POST(request: Request, { params }: { params: Promise<{ p: string }> }) {
  return handle(async () => addBlock((await params).p, request));
}
