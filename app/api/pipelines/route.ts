import { getServices } from "@/lib/server/global-services";

export const dynamic = "force-dynamic";

/** GET /api/pipelines: name, description, block count (and the error of a broken pipeline). */
export async function GET() {
  return Response.json({ pipelines: await getServices().files.list() });
}
