/**
 * The shared boundary of the HTTP API (DESIGN §10): JSON error bodies `{error: {code, message, details?}}`
 * with the right status, zod parsing of bodies and params, and the `If-Match` version header.
 *
 * Why duck typing instead of `instanceof UserError`: route handlers are bundled by Next, so the error
 * classes they would import are a different module instance from the ones the engine (loaded by the
 * custom server) throws. Errors are recognised by their `kind` and `code` instead.
 */
import { z } from "zod";

export interface ApiErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** An error raised by the API layer itself, with its status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

interface SluiceErrorLike {
  kind: "user" | "operational" | "unexpected";
  code: string;
  message: string;
  location?: Record<string, unknown>;
  currentVersion?: string;
}

function isSluiceErrorLike(value: unknown): value is SluiceErrorLike {
  if (!(value instanceof Error)) return false;
  const kind: unknown = Reflect.get(value, "kind");
  const code: unknown = Reflect.get(value, "code");
  return (kind === "user" || kind === "operational" || kind === "unexpected") && typeof code === "string";
}

const NOT_FOUND = new Set(["not_found", "run_not_found", "block_run_not_found", "output_not_found", "unknown_block", "missing_block"]);
const CONFLICT = new Set(["stale_version", "cycle", "already_exists"]);
const BAD_INPUT = new Set(["invalid_name", "invalid_run_id", "invalid_attempt", "path_escape"]);

/** The status of an engine error: 404 missing, 409 stale/cycle/exists, 400 bad input, 422 other user errors, 503 operational, 500 bugs. */
export function statusOf(error: SluiceErrorLike): number {
  if (error.kind === "unexpected") return 500;
  if (error.kind === "operational") return 503;
  if (NOT_FOUND.has(error.code)) return 404;
  if (CONFLICT.has(error.code)) return 409;
  if (BAD_INPUT.has(error.code)) return 400;
  return 422;
}

export function errorResponse(status: number, code: string, message: string, details?: Record<string, unknown>): Response {
  const body: ApiErrorBody = { error: details ? { code, message, details } : { code, message } };
  return Response.json(body, { status });
}

/** Turns anything thrown by a service into the JSON error response. */
export function toErrorResponse(error: unknown): Response {
  if (error instanceof ApiError) return errorResponse(error.status, error.code, error.message, error.details);
  if (isSluiceErrorLike(error)) {
    const details: Record<string, unknown> = { ...(error.location ?? {}) };
    if (typeof error.currentVersion === "string") details.current_version = error.currentVersion;
    return errorResponse(statusOf(error), error.code, error.message, Object.keys(details).length > 0 ? details : undefined);
  }
  const message = error instanceof Error ? error.message : String(error);
  console.error("sluice api: unexpected error", error);
  return errorResponse(500, "internal", message);
}

/** Runs a handler and maps whatever it throws. */
export async function handle(work: () => Promise<Response>): Promise<Response> {
  try {
    return await work();
  } catch (error) {
    return toErrorResponse(error);
  }
}

function zodDetails(error: z.ZodError): Record<string, unknown> {
  return { issues: error.issues.map((issue) => ({ path: issue.path.map(String).join("."), message: issue.message })) };
}

/** Parses a value with a schema or throws a 400 naming the bad fields. */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first && first.path.length > 0 ? `${first.path.map(String).join(".")}: ` : "";
    throw new ApiError(400, "invalid_input", `invalid ${what}: ${where}${first?.message ?? "invalid"}`, zodDetails(parsed.error));
  }
  return parsed.data;
}

/** Reads and parses a JSON body (an empty body is `{}`). */
export async function readBody<T extends z.ZodType>(request: Request, schema: T): Promise<z.infer<T>> {
  const text = await request.text();
  let value: unknown = {};
  if (text.trim().length > 0) {
    try {
      value = JSON.parse(text);
    } catch {
      throw new ApiError(400, "invalid_json", "the request body is not valid JSON");
    }
  }
  return parseWith(schema, value, "request body");
}

/** The version a write is based on: `If-Match` (quotes and `W/` allowed) or the body's `version`. */
export function expectedVersion(request: Request, bodyVersion?: string): string {
  const header = request.headers.get("if-match");
  const version = header ? header.replace(/^W\//, "").replace(/^"|"$/g, "") : bodyVersion;
  if (!version) throw new ApiError(428, "version_required", "send the version this write is based on (If-Match header), so a stale write cannot overwrite newer content");
  return version;
}

export const nameSchema = z.string().regex(/^[a-z0-9_]+$/, "use lowercase letters, digits and _ only");
export const runIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,200}$/, "invalid run id");
