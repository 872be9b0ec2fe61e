/**
 * How the run event stream changes the editor's state (pure): the snapshot sent when the stream connects,
 * run and block state changes, and log lines. The store applies the result and does the side effects it
 * names (reading earlier log lines, recording a metric); progress events are merged by `mergeProgress`
 * (progress.ts) and batched by the store, because a block may report thousands a second.
 */
import type { StreamMessage } from "@/lib/server/api/runs-service";
import type { BlockStatus, EditorState, LogEntry } from "./editor-store";
import { statusOfBlockRun } from "./notebook-memory";

/** Log lines kept per block in the editor: a chatty block must not grow the page without bound. */
export const LOG_LINES_KEPT = 500;

/** The part of the editor state the run event stream drives. */
export type RunEventSlice = Pick<EditorState, "status" | "outputs" | "logs" | "progress" | "run">;

/** Every stream message but `progress`, which the store batches. */
export type RunStateMessage = Exclude<StreamMessage, { type: "progress" }>;

export interface RunEventOutcome {
  /** The fields that change (empty when the message is about another run). */
  patch: Partial<RunEventSlice>;
  /** The output counter after this message: bumped once per new output, so a preview knows to reload. */
  outputSerial: number;
  /** Blocks whose log lines written before the stream connected should be read once from the log store. */
  logsToLoad: string[];
}

/**
 * The state change one stream message makes. `outputSerial` is the counter before it; `now` stands in for a
 * finished block's end time when the snapshot does not carry one.
 */
export function applyRunEvent(state: RunEventSlice, message: RunStateMessage, outputSerial: number, now: string): RunEventOutcome {
  switch (message.type) {
    case "snapshot": {
      const status = { ...state.status };
      for (const b of message.blocks) status[b.block] = statusOfBlockRun(message.run.id, b);
      // A block may have finished before the stream connected: its output comes with the snapshot.
      const outputs = { ...state.outputs };
      let serial = outputSerial;
      for (const b of message.blocks) {
        const known = outputs[b.block];
        if (b.state === "success" && b.has_output && known?.runId !== message.run.id) {
          outputs[b.block] = { runId: message.run.id, serial: ++serial, endedAt: b.ended_at ?? now };
        }
      }
      const run = state.run;
      return {
        patch: { status, outputs, run: run && run.id === message.run.id ? { ...run, state: message.run.state } : run },
        outputSerial: serial,
        logsToLoad: message.blocks.filter((b) => b.state !== "pending" && b.state !== "queued").map((b) => b.block),
      };
    }
    case "run_state": {
      const run = state.run;
      const patch: Partial<RunEventSlice> = run && run.id === message.runId ? { run: { ...run, state: message.state } } : {};
      return { patch, outputSerial, logsToLoad: [] };
    }
    case "block_state": {
      const previous = state.status[message.block];
      const status: BlockStatus = {
        runId: message.runId,
        state: message.state,
        attempt: message.attempt,
        rows: message.rows ?? (previous?.runId === message.runId ? previous.rows : null),
        durationMs: message.durationMs ?? null,
        error: message.error ? { code: message.error.code, message: message.error.message } : null,
      };
      const patch: Partial<RunEventSlice> = { status: { ...state.status, [message.block]: status } };
      // A block that stops running drops its progress (its row count and duration take over).
      if (message.state !== "running" && message.block in state.progress) {
        const progress = { ...state.progress };
        delete progress[message.block];
        patch.progress = progress;
      }
      // A retry keeps the earlier attempts' lines above the new ones; a fresh run starts an empty log.
      if (message.state === "running" && message.attempt <= 1) patch.logs = { ...state.logs, [message.block]: [] };
      let serial = outputSerial;
      // The runner reports rows only for a block that returned an output: an exporter or a sensor succeeds
      // without one, and a preview of it would only answer "no output".
      if (message.state === "success" && message.rows !== undefined) {
        patch.outputs = { ...state.outputs, [message.block]: { runId: message.runId, serial: ++serial, endedAt: message.at } };
      }
      return { patch, outputSerial: serial, logsToLoad: [] };
    }
    case "log": {
      const lines = state.logs[message.block] ?? [];
      return { patch: { logs: { ...state.logs, [message.block]: [...lines, message.line].slice(-LOG_LINES_KEPT) } }, outputSerial, logsToLoad: [] };
    }
  }
}

/**
 * The logs after reading a block's lines from the log store, or null when the stream already delivered
 * as many (it is the fresher source: reading is only to catch up on lines written before it connected).
 */
export function withLoadedLogs(logs: EditorState["logs"], block: string, lines: LogEntry[]): EditorState["logs"] | null {
  if (lines.length <= (logs[block]?.length ?? 0)) return null;
  return { ...logs, [block]: lines.slice(-LOG_LINES_KEPT) };
}
