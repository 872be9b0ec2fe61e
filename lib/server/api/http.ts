/**
 * The shared boundary of the HTTP API: JSON error bodies `{error: {code, message, details?}}` with the
 * status `ERROR_CODES` gives the code, zod parsing of bodies and params, and the `If-Match` version header.
 *
 * Why duck typing instead of `instanceof UserError`: route handlers are bundled by Next, so the error
 * classes they would import are a different module instance from the ones the engine (loaded by the
 * custom server) throws. Errors are recognised by their `kind` and `code` instead.
 */
import { z } from "zod";
import { ERROR_CODES, httpStatusOf, type ErrorCode } from "@/lib/core/error-codes";
import type { ApiErrorBody } from "@/lib/core/api-contract";

export type { ApiErrorBody } from "@/lib/core/api-contract";
export { MAX_NAME_LENGTH, nameSchema, runIdSchema } from "@/lib/core/api-contract";

/** An error raised by the API layer itself, with its status. */
export class ApiError extends Error {
  private constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }

  /** A registered code: the status is the code's in `ERROR_CODES`. */
  static of(code: ErrorCode, message: string, details?: Record<string, unknown>): ApiError {
    return new ApiError(ERROR_CODES[code].status, code, message, details);
  }

  /**
   * A code an engine validator produced (`duplicate_block`, `missing_upstream`, a triggers.yaml rule…): its
   * registered status when it has one, else 422 like any user error.
   */
  static fromUserCode(code: string, message: string, details?: Record<string, unknown>): ApiError {
    return new ApiError(httpStatusOf("user", code), code, message, details);
  }
}

interface SluiceErrorLike {
  kind: "user" | "operational" | "unexpected";
  code: string;
  message: string;
  location?: Record<string, unknown>;
  currentVersion?: string;
  details?: unknown;
}

function isSluiceErrorLike(value: unknown): value is SluiceErrorLike {
  if (!(value instanceof Error)) return false;
  const kind: unknown = Reflect.get(value, "kind");
  const code: unknown = Reflect.get(value, "code");
  return (kind === "user" || kind === "operational" || kind === "unexpected") && typeof code === "string";
}

/** The status of an engine error: its code's in `ERROR_CODES`, else 422 for user errors, 503 operational, 500 bugs. */
export function statusOf(error: SluiceErrorLike): number {
  return httpStatusOf(error.kind, error.code);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function errorResponse(status: number, code: string, message: string, details?: Record<string, unknown>): Response {
  const body: ApiErrorBody = { error: details ? { code, message, details } : { code, message } };
  return Response.json(body, { status });
}

/** Turns anything thrown by a service into the JSON error response. */
export function toErrorResponse(error: unknown): Response {
  if (error instanceof ApiError) return errorResponse(error.status, error.code, error.message, error.details);
  if (isSluiceErrorLike(error)) {
    // `details` carries what a caller can act on (e.g. the variable an API trigger refused).
    const details: Record<string, unknown> = { ...(error.location ?? {}), ...(isRecord(error.details) ? error.details : {}) };
    if (typeof error.currentVersion === "string") details.current_version = error.currentVersion;
    const status = statusOf(error);
    if (status >= 500) console.error("sluice api: server error", error);
    // Operational errors quote system errors, which name absolute paths of this machine.
    const message = status >= 500 ? withoutAbsolutePaths(error.message) : error.message;
    return errorResponse(status, error.code, message, Object.keys(details).length > 0 ? details : undefined);
  }
  // A bug's message can hold anything (a file path, a stack line): it goes to the server's log only.
  console.error("sluice api: unexpected error", error);
  return errorResponse(500, "internal", "the server failed to answer this request; the error is in the server's log");
}

/** `open '/srv/project/x.ts'` → `open '…'`: absolute paths (POSIX or Windows) taken out of a message. */
export function withoutAbsolutePaths(message: string): string {
  return message.replace(/(^|[\s'"(=:])(?:\/|[A-Za-z]:\\)[^\s'"),]*/g, "$1…");
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
    throw ApiError.of("invalid_input", `invalid ${what}: ${where}${first?.message ?? "invalid"}`, zodDetails(parsed.error));
  }
  return parsed.data;
}

/** How deeply arrays and objects may nest in a request body: far beyond any real one, far below the stack. */
export const MAX_JSON_DEPTH = 64;

/** The deepest nesting of arrays and objects in JSON text (brackets inside strings do not count). */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 0x5c) i++;
      else if (char === 0x22) inString = false;
    } else if (char === 0x22) inString = true;
    else if (char === 0x5b || char === 0x7b) deepest = Math.max(deepest, ++depth);
    else if (char === 0x5d || char === 0x7d) depth--;
  }
  return deepest;
}

/** Reads and parses a JSON body (an empty body is `{}`). */
export async function readBody<T extends z.ZodType>(request: Request, schema: T): Promise<z.infer<T>> {
  const text = await request.text();
  let value: unknown = {};
  if (text.trim().length > 0) {
    // Validation walks the value recursively: a body nested thousands deep would overflow the stack.
    if (jsonDepth(text) > MAX_JSON_DEPTH) throw ApiError.of("json_too_deep", `the request body nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep`);
    try {
      value = JSON.parse(text);
    } catch {
      throw ApiError.of("invalid_json", "the request body is not valid JSON");
    }
  }
  return parseWith(schema, value, "request body");
}

/** The version a write is based on: the `If-Match` header (quotes and `W/` allowed) or the body's `version`. */
export function expectedVersion(ifMatch: string | undefined, bodyVersion?: string): string {
  const version = ifMatch ? ifMatch.replace(/^W\//, "").replace(/^"|"$/g, "") : bodyVersion;
  if (!version) throw ApiError.of("version_required", "send the version this write is based on (If-Match header), so a stale write cannot overwrite newer content");
  return version;
}
