import { errorResponse } from "@/lib/server/api/http";

export const dynamic = "force-dynamic";

/** Any `/api/…` path no route serves: a JSON 404 (scripts parse it), never the HTML not-found page. */
function notFound(request: Request): Response {
  const { pathname } = new URL(request.url);
  const shown = pathname.length > 120 ? `${pathname.slice(0, 120)}…` : pathname;
  return errorResponse(404, "not_found", `no API route ${request.method} ${shown}`);
}

export const GET = notFound;
export const HEAD = notFound;
export const POST = notFound;
export const PUT = notFound;
export const PATCH = notFound;
export const DELETE = notFound;
