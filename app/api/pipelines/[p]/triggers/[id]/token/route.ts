import { handle } from "@/lib/server/api/http";
import { issueToken, revokeToken } from "@/lib/server/api/triggers-service";

export const dynamic = "force-dynamic";

/** POST /api/pipelines/:p/triggers/:id/token — issue or rotate an API trigger's token (shown once). */
export async function POST(_request: Request, { params }: { params: Promise<{ p: string; id: string }> }) {
  return handle(async () => {
    const { p, id } = await params;
    return issueToken(p, id);
  });
}

/** DELETE /api/pipelines/:p/triggers/:id/token — revoke the token: calls are refused until a new one is issued. */
export async function DELETE(_request: Request, { params }: { params: Promise<{ p: string; id: string }> }) {
  return handle(async () => {
    const { p, id } = await params;
    return revokeToken(p, id);
  });
}
