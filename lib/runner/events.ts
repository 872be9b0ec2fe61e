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

/** A tiny typed pub/sub: listeners per run id and listeners of every run. */
export class RunEventBus {
  private readonly all = new Set<RunEventListener>();
  private readonly byRun = new Map<string, Set<RunEventListener>>();

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

  emit(event: RunEvent): void {
    for (const listener of this.all) listener(event);
    const set = this.byRun.get(event.runId);
    if (set) for (const listener of set) listener(event);
  }
}
