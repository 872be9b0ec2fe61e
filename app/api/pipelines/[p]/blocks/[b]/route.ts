import { handle } from "@/lib/server/api/http";
import { deleteBlock, getBlock, putBlock } from "@/lib/server/api/pipelines-service";

export const dynamic = "force-dynamic";

type Context = { params: Promise<{ p: string; b: string }> };

export async function GET(_request: Request, { params }: Context) {
  return handle(async () => {
    const { p, b } = await params;
    return getBlock(p, b);
  });
}

/** PUT {code} with If-Match: block version, or {name} (rename) with If-Match: pipeline version. */
export async function PUT(request: Request, { params }: Context) {
  return handle(async () => {
    const { p, b } = await params;
    return putBlock(p, b, request);
  });
}

export async function DELETE(request: Request, { params }: Context) {
  return handle(async () => {
    const { p, b } = await params;
    return deleteBlock(p, b, request);
  });
}
