import type { BlockRunState, RunState } from "../core/run-model";
import type { LogLine, Progress } from "../executors/types";

/** A serialisable failure, as stored with a block run and shown in the UI/CLI. */
export interface BlockError {
  code: string;
  kind: "user" | "operational" | "unexpected";
  message: string;
  stack?: string;
}

/** What a run reports while it goes: the editor subscribes through SSE, the CLI draws progress from it. */
export type RunEvent =
  | { type: "run_state"; runId: string; pipeline: string; state: RunState; at: string; error?: string }
  | {
      type: "block_state";
      runId: string;
      block: string;
      state: BlockRunState;
      attempt: number;
      at: string;
      rows?: number;
      durationMs?: number;
      error?: BlockError;
    }
  | { type: "log"; runId: string; block: string; attempt: number; line: LogLine }
  | { type: "progress"; runId: string; block: string; progress: Progress };

export type RunEventListener = (event: RunEvent) => void;

/** Hides secrets in text; see lib/io/redact.ts. */
export type RedactText = (text: string) => string;

/** The event with every free text it carries (log lines, progress messages, errors) passed through `redact`. */
export function redactEvent(event: RunEvent, redact: RedactText): RunEvent {
  switch (event.type) {
    case "run_state":
      return event.error === undefined ? event : { ...event, error: redact(event.error) };
    case "block_state":
      return event.error === undefined ? event : { ...event, error: redactBlockError(event.error, redact) };
    case "log":
      return { ...event, line: { ...event.line, message: redact(event.line.message) } };
    case "progress":
      return event.progress.message === undefined ? event : { ...event, progress: { ...event.progress, message: redact(event.progress.message) } };
  }
}

export function redactBlockError(error: BlockError, redact: RedactText): BlockError {
  return { ...error, message: redact(error.message), ...(error.stack === undefined ? {} : { stack: redact(error.stack) }) };
}

/** A tiny typed pub/sub: listeners per run id and listeners of every run. */
export class RunEventBus {
  private readonly all = new Set<RunEventListener>();
  private readonly byRun = new Map<string, Set<RunEventListener>>();
  private redact: RedactText | null = null;

  /**
   * Every event is redacted with `redact` before any listener sees it (the composition root passes the
   * process's secret redactor: SSE streams and the CLI listen here).
   */
  redactWith(redact: RedactText): void {
    this.redact = redact;
  }

  /** Listens to every run (runId omitted) or to one run. Returns the unsubscribe function. */
  subscribe(listener: RunEventListener, runId?: string): () => void {
    if (runId === undefined) {
      this.all.add(listener);
      return () => this.all.delete(listener);
    }
    let set = this.byRun.get(runId);
    if (!set) {
      set = new Set();
      this.byRun.set(runId, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.byRun.delete(runId);
    };
  }

  emit(raw: RunEvent): void {
    const event = this.redact === null ? raw : redactEvent(raw, this.redact);
    for (const listener of this.all) listener(event);
    const set = this.byRun.get(event.runId);
    if (set) for (const listener of set) listener(event);
  }
}
