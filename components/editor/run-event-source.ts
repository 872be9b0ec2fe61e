/** The browser's subscription to a run's server-sent events (`/api/runs/:id/events`). */
import type { StreamMessage } from "@/lib/server/api/runs-service";
import { seg } from "../ui/api-client";

function isStreamMessage(value: unknown): value is StreamMessage {
  return typeof value === "object" && value !== null && "type" in value && typeof value.type === "string";
}

/** Calls `onMessage` with each event of the run until the returned function is called or the run ends. */
export function subscribeToRunEvents(runId: string, onMessage: (message: StreamMessage) => void): () => void {
  const source = new EventSource(`/api/runs/${seg(runId)}/events`);
  source.onmessage = (event: MessageEvent<string>) => {
    const value: unknown = JSON.parse(event.data);
    if (isStreamMessage(value)) onMessage(value);
  };
  source.onerror = () => {
    // The server closes the stream after the run's end; do not reconnect then.
    if (source.readyState === EventSource.CLOSED) return;
    source.close();
  };
  return () => source.close();
}
