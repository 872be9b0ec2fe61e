/**
 * The one way a route handler is written: `route(apiContract.getRun, ({ params }) => getRun(params.id))`.
 * It parses the path parameters, query, headers and body with the endpoint's schemas (a 400 naming the bad
 * field otherwise), calls the service, maps whatever it throws to the JSON error answer, and serialises the
 * result with the endpoint's success status. Services therefore take parsed input and return data.
 */
import type { z } from "zod";
import type { Endpoint, FieldsSchema, ParsedInput, PathParams } from "@/lib/core/api-contract";
import { handle, parseWith, readBody } from "./http";

/** The result of a handler that answers with another documented status (`otherStatuses`) than the usual one. */
export class Reply<T> {
  constructor(
    readonly status: number,
    readonly body: T,
  ) {}
}

export function replyWith<T>(status: number, body: T): Reply<T> {
  return new Reply(status, body);
}

type ResponseBody<E extends Endpoint> = E["response"] extends z.ZodType ? z.input<E["response"]> : null;

/** What a handler may return: the body (sent with the endpoint's status), a `Reply`, or a `Response` for streams. */
type HandlerResult<E extends Endpoint> = E extends { stream: string } ? Response : ResponseBody<E> | Reply<ResponseBody<E>>;

/** What a handler gets: the parsed input, and the request's abort signal (streams stop when the client leaves). */
export type RouteInput<E extends Endpoint> = ParsedInput<E> & { signal: AbortSignal };

export interface RouteOptions {
  /** Headers added to every success answer (e.g. `Cache-Control: no-store` for live data). */
  headers?: Record<string, string>;
}

/** Parses each field on its own, so that an error names the field by its description ("invalid run id: …"). */
function parseFields(schema: FieldsSchema, raw: Record<string, unknown>, what: string): Record<string, unknown> {
  const parsed: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(schema.shape)) {
    const value = parseWith(field, raw[key], field.description ?? `${what} ${key}`);
    if (value !== undefined) parsed[key] = value;
  }
  return parsed;
}

function queryOf(request: Request): Record<string, string> {
  return Object.fromEntries(new URL(request.url).searchParams);
}

function headersOf(schema: FieldsSchema, request: Request): Record<string, string | undefined> {
  return Object.fromEntries(Object.keys(schema.shape).map((name) => [name, request.headers.get(name) ?? undefined]));
}

/** Parses the request as `endpoint` describes it. @throws ApiError 400 for a bad parameter, query value, header or body. */
export async function parseRequest<E extends Endpoint>(endpoint: E, request: Request, rawParams: Record<string, string>): Promise<ParsedInput<E>> {
  const params = endpoint.params ? parseFields(endpoint.params, rawParams, "path parameter") : {};
  const query = endpoint.query ? parseWith(endpoint.query, queryOf(request), "query") : {};
  const headers = endpoint.headers ? parseWith(endpoint.headers, headersOf(endpoint.headers, request), "headers") : {};
  const body = endpoint.body ? await readBody(request, endpoint.body) : undefined;
  // The schemas above are the endpoint's own, so the values have the types `ParsedInput<E>` derives from them.
  return { params, query, headers, body } as ParsedInput<E>;
}

function serialise<E extends Endpoint>(endpoint: E, result: unknown, options: RouteOptions): Response {
  if (result instanceof Response) return result;
  const { status, body } = result instanceof Reply ? result : { status: endpoint.status, body: result };
  if (endpoint.response === null) return new Response(null, { status, headers: options.headers });
  return Response.json(body, { status, headers: options.headers });
}

/** A Next route handler for `endpoint`: `export const GET = route(apiContract.x, handler)`. */
export function route<E extends Endpoint>(endpoint: E, handler: (input: RouteInput<E>) => Promise<HandlerResult<E>> | HandlerResult<E>, options: RouteOptions = {}) {
  return async (request: Request, context: { params: Promise<PathParams<E["path"]>> }): Promise<Response> =>
    handle(async () => {
      const rawParams: Record<string, string> = { ...((await context?.params) ?? {}) };
      const input = await parseRequest(endpoint, request, rawParams);
      return serialise(endpoint, await handler({ ...input, signal: request.signal }), options);
    });
}
