/**
 * The network edge of a component test: replaces `fetch` with a small in-test API that answers the way the
 * Sluice server does (JSON bodies, `{ error: { code, message } }` on failure, `GET /api/session` with the
 * cookie session's CSRF token), and records every request so a test can assert what the UI sent.
 * Nothing else is replaced: the component, its API client and React run for real.
 */

export interface ApiRequest {
  method: string;
  /** Path and query, as the client asked (`/api/runs/r1/retry`). */
  path: string;
  headers: Record<string, string>;
  /** The parsed JSON body, or undefined when none was sent. */
  body: unknown;
}

export interface ApiAnswer {
  status: number;
  body?: unknown;
}

/** Answers one request; undefined falls through to a 404 like an unknown route. */
export type ApiHandler = (request: ApiRequest) => ApiAnswer | undefined | Promise<ApiAnswer | undefined>;

export interface FakeApi {
  /** Every request but the session look-up, in order. */
  requests: ApiRequest[];
  /** Puts the original `fetch` back. */
  restore(): void;
}

/** The CSRF token the fake session hands out; writes must carry it in `X-CSRF-Token`. */
export const TEST_CSRF_TOKEN = "csrf-token-of-the-test-session";

const STATUS_TEXT: Record<number, string> = { 200: "OK", 201: "Created", 202: "Accepted", 400: "Bad Request", 404: "Not Found", 409: "Conflict", 422: "Unprocessable Entity", 500: "Internal Server Error" };

function requestPath(input: unknown): string {
  if (typeof input === "string") return input;
  if (input instanceof URL) return `${input.pathname}${input.search}`;
  if (typeof input === "object" && input !== null && "url" in input && typeof input.url === "string") return input.url;
  throw new Error(`fetch called with ${String(input)}`);
}

function headersOf(init: RequestInit | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  new Headers(init?.headers).forEach((value, name) => {
    headers[name] = value;
  });
  return headers;
}

/** The part of a `Response` the app's API client reads (jsdom has no `Response`). */
function answerOf(status: number, body: unknown) {
  const text = body === undefined ? "" : JSON.stringify(body);
  return {
    ok: status >= 200 && status < 300,
    status,
    statusText: STATUS_TEXT[status] ?? "",
    text: async () => text,
    json: async (): Promise<unknown> => JSON.parse(text),
  };
}

/** Serves `handle` as the API until `restore()`. Writes without the session's CSRF token are refused with 403. */
export function serveApi(handle: ApiHandler): FakeApi {
  const requests: ApiRequest[] = [];
  const original = Object.getOwnPropertyDescriptor(globalThis, "fetch");
  const fakeFetch = async (input: unknown, init?: RequestInit) => {
    const method = (init?.method ?? "GET").toUpperCase();
    const path = requestPath(input);
    if (method === "GET" && path === "/api/session") return answerOf(200, { authenticated_by: "cookie", csrf_token: TEST_CSRF_TOKEN });
    const headers = headersOf(init);
    const body: unknown = typeof init?.body === "string" && init.body.length > 0 ? JSON.parse(init.body) : undefined;
    const request: ApiRequest = { method, path, headers, body };
    requests.push(request);
    if (method !== "GET" && method !== "HEAD" && headers["x-csrf-token"] !== TEST_CSRF_TOKEN) {
      return answerOf(403, { error: { code: "csrf_token_invalid", message: "a request authenticated by the login cookie needs the X-CSRF-Token header" } });
    }
    const answer = await handle(request);
    if (!answer) return answerOf(404, { error: { code: "not_found", message: `no route for ${method} ${path.split("?")[0]}` } });
    return answerOf(answer.status, answer.body);
  };
  Object.defineProperty(globalThis, "fetch", { value: fakeFetch, configurable: true, writable: true });
  return {
    requests,
    restore() {
      if (original) Object.defineProperty(globalThis, "fetch", original);
      else Reflect.deleteProperty(globalThis, "fetch");
    },
  };
}
