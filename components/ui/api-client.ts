/**
 * The browser's view of the HTTP API (DESIGN §10): one `fetch` wrapper that turns every answer into a
 * result value, so callers handle a 409 (stale version, cycle) or a 422 as data instead of exceptions.
 */

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

/**
 * Calls the API. Response bodies are trusted to have the documented shape `T` (the server builds them);
 * error bodies are checked.
 */
export async function apiCall<T>(path: string, init: { method?: string; body?: unknown; version?: string } = {}): Promise<ApiResult<T>> {
  const headers: Record<string, string> = {};
  if (init.body !== undefined) headers["Content-Type"] = "application/json";
  if (init.version !== undefined) headers["If-Match"] = `"${init.version}"`;
  let response: Response;
  try {
    response = await fetch(path, { method: init.method ?? "GET", headers, body: init.body === undefined ? undefined : JSON.stringify(init.body), cache: "no-store" });
  } catch (error) {
    return { ok: false, status: 0, error: { code: "network", message: `the server did not answer: ${error instanceof Error ? error.message : String(error)}` } };
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
