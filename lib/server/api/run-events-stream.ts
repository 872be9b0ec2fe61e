/**
 * `GET /api/runs/:id/events`: the one route that streams (server-sent events) instead of answering with a
 * JSON body, so it builds its own `Response`. The contract documents it as `text/event-stream`.
 */
import { isTerminalRunState, type RunState } from "@/lib/core/run-model";
import type { RunEvent } from "@/lib/runner/events";
import { getServices } from "../global-services";
import { blockRunJson, runJson, type StreamMessage } from "./runs-service";

const TERMINAL: readonly RunState[] = ["success", "failed", "cancelled"];

/**
 * Subscribes before reading the snapshot (so nothing falls in between), sends the snapshot, then every event
 * of the run; closes after the run's terminal state, or when the client goes away (`signal`).
 */
export function runEvents(id: string, signal: AbortSignal): Response {
  const { runner, runs } = getServices();
  const encoder = new TextEncoder();
  let unsubscribe: () => void = () => undefined;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      let closed = false;
      const close = () => {
        if (closed) return;
        closed = true;
        unsubscribe();
        if (heartbeat) clearInterval(heartbeat);
        try {
          controller.close();
        } catch {
          // already closed by the client
        }
      };
      const send = (message: StreamMessage) => {
        if (closed) return;
        controller.enqueue(encoder.encode(`data: ${JSON.stringify(message)}\n\n`));
        if (message.type === "run_state" && TERMINAL.includes(message.state)) close();
      };
      const buffered: RunEvent[] = [];
      let live = false;
      unsubscribe = runner.events.subscribe((event) => (live ? send(event) : buffered.push(event)), id);
      signal.addEventListener("abort", close);
      const found = await runs.getRun(id);
      if (!found) {
        controller.enqueue(encoder.encode(`event: error\ndata: ${JSON.stringify({ error: { code: "run_not_found", message: `there is no run ${id}` } })}\n\n`));
        close();
        return;
      }
      send({ type: "snapshot", run: runJson(found.run), blocks: found.blockRuns.map(blockRunJson) });
      live = true;
      for (const event of buffered) send(event);
      if (isTerminalRunState(found.run.state)) return close();
      if (closed) return;
      heartbeat = setInterval(() => {
        if (!closed) controller.enqueue(encoder.encode(": keep-alive\n\n"));
      }, 15_000);
      // A forgotten stream must never keep the server process alive.
      heartbeat.unref?.();
    },
    cancel() {
      unsubscribe();
      if (heartbeat) clearInterval(heartbeat);
    },
  });
  return new Response(stream, {
    headers: { "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache, no-transform", Connection: "keep-alive", "X-Accel-Buffering": "no" },
  });
}
