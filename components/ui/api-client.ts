/**
 * The browser's view of the HTTP API: one `fetch` wrapper that turns every answer into a result value, so
 * callers handle a 409 (stale version, cycle) or a 422 as data instead of exceptions; and `callApi`, which calls
 * an endpoint of the contract (lib/core/api-contract.ts) by name, so request and response types come from
 * the schemas the server parses with.
 */
import { apiContract, type ApiContract, type EndpointName, type RequestBodyOf, type ResponseOf } from "@/lib/core/api-contract";
import { messageOf } from "@/lib/core/errors";

export interface ApiErrorInfo {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export type ApiResult<T> = { ok: true; status: number; data: T } | { ok: false; status: number; error: ApiErrorInfo };

function isErrorBody(value: unknown): value is { error: ApiErrorInfo } {
  if (typeof value !== "object" || value === null || !("error" in value)) return false;
  const error: unknown = value.error;
  return typeof error === "object" && error !== null && "message" in error && typeof error.message === "string";
}

/** The header and endpoint of the CSRF token a cookie-authenticated browser sends with every write. */
const CSRF_HEADER = "X-CSRF-Token";
const SESSION_PATH = "/api/session";

let csrfToken: Promise<string | null> | null = null;

/**
 * The session's CSRF token (null when the server needs none: no token configured, or not a cookie session),
 * asked once per page load. A failed ask is forgotten, so the next write asks again.
 */
function sessionCsrfToken(): Promise<string | null> {
  csrfToken ??= fetch(SESSION_PATH, { cache: "no-store" })
    .then(async (response) => {
      if (!response.ok) throw new Error(`${SESSION_PATH}: ${response.status}`);
      const body: unknown = await response.json();
      return typeof body === "object" && body !== null && "csrf_token" in body && typeof body.csrf_token === "string" ? body.csrf_token : null;
    })
    .catch((error: unknown) => {
      csrfToken = null;
      throw error;
    });
  return csrfToken;
}

/**
 * Calls the API. Response bodies are trusted to have the documented shape `T` (the server builds them);
 * error bodies are checked. Writes are sent as JSON (the server refuses other content types) with the
 * session's CSRF token when it has one.
 */
export async function apiCall<T>(path: string, init: { method?: string; body?: unknown; version?: string } = {}): Promise<ApiResult<T>> {
  const method = init.method ?? "GET";
  const headers: Record<string, string> = {};
  if (init.body !== undefined || method !== "GET") headers["Content-Type"] = "application/json";
  if (init.version !== undefined) headers["If-Match"] = `"${init.version}"`;
  let response: Response;
  try {
    if (method !== "GET" && method !== "HEAD") {
      const csrf = await sessionCsrfToken();
      if (csrf !== null) headers[CSRF_HEADER] = csrf;
    }
    response = await fetch(path, { method, headers, body: init.body === undefined ? undefined : JSON.stringify(init.body), cache: "no-store" });
  } catch (error) {
    return { ok: false, status: 0, error: { code: "network", message: `the server did not answer: ${messageOf(error)}` } };
  }
  const text = await response.text();
  let value: unknown = null;
  if (text.length > 0) {
    try {
      value = JSON.parse(text);
    } catch {
      value = null;
    }
  }
  if (!response.ok) {
    const error = isErrorBody(value) ? value.error : { code: `http_${response.status}`, message: `${response.status} ${response.statusText}` };
    return { ok: false, status: response.status, error };
  }
  return { ok: true, status: response.status, data: value as T };
}

/** Path segment encoding for names in URLs. */
export const seg = (value: string) => encodeURIComponent(value);

type ContractEntry<N extends EndpointName> = ApiContract[N];
type PathParamsOf<N extends EndpointName> = ContractEntry<N> extends { params: infer P extends { shape: object } } ? { [K in keyof P["shape"]]: string } : never;
type QueryOf<N extends EndpointName> = ContractEntry<N> extends { query: infer Q extends { shape: object } } ? { [K in keyof Q["shape"]]?: string | number | boolean } : never;

/** What a call sends: path parameters, query, body and the `If-Match` version, each only where the endpoint has it. */
export type CallInput<N extends EndpointName> = ([PathParamsOf<N>] extends [never] ? { params?: undefined } : { params: PathParamsOf<N> }) &
  ([QueryOf<N>] extends [never] ? { query?: undefined } : { query?: QueryOf<N> }) &
  (RequestBodyOf<N> extends undefined ? { body?: undefined } : { body: RequestBodyOf<N> }) & { version?: string };

/** `/api/runs/{id}/blocks/{b}` with `{id, b}` → `/api/runs/r1/blocks/b`, each value URL-encoded, plus the query. */
export function endpointUrl(template: string, params: Record<string, string> = {}, query: Record<string, string | number | boolean | undefined> = {}): string {
  const path = template.replace(/\{(\w+)\}/g, (_match, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`${template}: missing path parameter ${name}`);
    return seg(value);
  });
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) search.set(key, String(value));
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}

/** The argument list of a call: optional when the endpoint has no path parameters and no required body. */
type CallArgs<N extends EndpointName> = Partial<CallInput<N>> extends CallInput<N> ? [input?: CallInput<N>] : [input: CallInput<N>];

/**
 * Calls one endpoint of the contract by name: `callApi("getRun", { params: { id } })`. The URL, method,
 * body type and response type all come from the contract entry.
 */
export function callApi<N extends EndpointName>(name: N, ...[input]: CallArgs<N>): Promise<ApiResult<ResponseOf<N>>> {
  const endpoint: { method: string; path: string } = apiContract[name];
  const url = endpointUrl(endpoint.path, input?.params, input?.query);
  // The server built the body with the endpoint's response schema (see apiCall).
  return apiCall<ResponseOf<N>>(url, { method: endpoint.method, body: input?.body, version: input?.version });
}
