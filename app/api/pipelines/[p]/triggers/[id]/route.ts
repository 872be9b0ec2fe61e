import { handle } from "@/lib/server/api/http";
import { deleteTrigger, getTrigger, updateTrigger } from "@/lib/server/api/triggers-service";

export const dynamic = "force-dynamic";

type Ctx = { params: Promise<{ p: string; id: string }> };

export async function GET(_request: Request, { params }: Ctx) {
  return handle(async () => {
    const { p, id } = await params;
    return getTrigger(p, id);
  });
}

/** PUT /api/pipelines/:p/triggers/:id — replace the definition (triggers.yaml shape). */
export async function PUT(request: Request, { params }: Ctx) {
  return handle(async () => {
    const { p, id } = await params;
    return updateTrigger(p, id, request);
  });
}

export async function DELETE(_request: Request, { params }: Ctx) {
  return handle(async () => {
    const { p, id } = await params;
    return deleteTrigger(p, id);
  });
}
