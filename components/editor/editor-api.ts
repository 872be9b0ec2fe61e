/**
 * The editor store's IO seam: HTTP calls to the API and the run event stream. The browser's
 * implementation is the default; tests and benches hand the store their own.
 */
import type { StreamMessage } from "@/lib/server/api/runs-service";
import { apiCall, type ApiResult } from "../ui/api-client";
import { subscribeToRunEvents } from "./run-event-source";

/** Where the store's side effects go: the HTTP API and the run event stream. */
export interface EditorApi {
  call<T>(path: string, init?: { method?: string; body?: unknown; version?: string }): Promise<ApiResult<T>>;
  subscribe(runId: string, onMessage: (message: StreamMessage) => void): () => void;
}

/** The real API of the page's own server. */
export const browserApi: EditorApi = {
  call: apiCall,
  subscribe: subscribeToRunEvents,
};
