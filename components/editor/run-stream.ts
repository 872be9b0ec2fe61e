/**
 * Following the current run's event stream into the editor state: every event goes through the pure
 * `applyRunEvent`, except progress reports, which are folded in at most every `PROGRESS_FLUSH_MS` (a
 * block may report thousands a second). A snapshot (joining a run late) loads the logs of blocks it names.
 */
import type { ResponseOf } from "@/lib/core/api-contract";
import { isTerminalRunState } from "@/lib/core/run-model";
import type { StreamMessage } from "@/lib/server/api/runs-service";
import type { ApiResult } from "../ui/api-client";
import type { EditorApi } from "./editor-api";
import type { EditorState } from "./editor-store";
import { recordMetric } from "./metrics";
import type { PipelineRequests } from "./pipeline-requests";
import { mergeProgress, type BlockProgressView } from "./progress";
import { applyRunEvent, withLoadedLogs } from "./run-events-reducer";

/** Progress events are folded into the store at most this often. */
const PROGRESS_FLUSH_MS = 100;

export interface RunStream {
  /** Follows `runId` from now on (and stops following the previous run). */
  follow(runId: string): void;
  /** Stops following and drops a pending progress flush (the editor unmounts). */
  dispose(): void;
}

/** The store as the stream sees it: read the state, merge a patch into it. */
export interface EditorStateAccess {
  get(): EditorState;
  set(patch: Partial<EditorState>): void;
}

/** What the stream reads besides events: earlier log lines, and the finished run (writes and tests come with it). */
export interface RunStreamRequests extends Pick<PipelineRequests, "getLogs"> {
  getRun?(runId: string): Promise<ApiResult<ResponseOf<"getRun">>>;
}

export function createRunStream(api: EditorApi, requests: RunStreamRequests, store: EditorStateAccess): RunStream {
  let unsubscribe: (() => void) | null = null;
  let outputSerial = 0;
  const pendingProgress = new Map<string, BlockProgressView>();
  let progressTimer: ReturnType<typeof setTimeout> | null = null;

  const flushProgress = () => {
    progressTimer = null;
    if (pendingProgress.size === 0) return;
    store.set({ progress: { ...store.get().progress, ...Object.fromEntries(pendingProgress) } });
    pendingProgress.clear();
  };

  const onMessage = (message: StreamMessage) => {
    if (message.type === "progress") {
      const previous = pendingProgress.get(message.block) ?? store.get().progress[message.block];
      pendingProgress.set(message.block, mergeProgress(previous, message.runId, message.progress));
      progressTimer ??= setTimeout(flushProgress, PROGRESS_FLUSH_MS);
      return;
    }
    // A batched progress report must not bring back the progress of a block that stopped running.
    if (message.type === "block_state" && message.state !== "running") pendingProgress.delete(message.block);
    if (message.type === "block_state" && message.state === "success") recordMetric("block-end", { block: message.block, serverAt: Date.parse(message.at) });
    const outcome = applyRunEvent(store.get(), message, outputSerial, new Date().toISOString());
    outputSerial = outcome.outputSerial;
    if (Object.keys(outcome.patch).length > 0) store.set(outcome.patch);
    if (message.type === "run_state" && isTerminalRunState(message.state)) refreshFinished(message.runId);
    if (message.type !== "snapshot") return;
    for (const block of outcome.logsToLoad) {
      void requests.getLogs(message.run.id, block).then((result) => {
        const logs = result.ok ? withLoadedLogs(store.get().logs, block, result.data.lines) : null;
        if (logs) store.set({ logs });
      });
    }
  };

  /**
   * A finished run's writes, tests and pokes are not in its events: read the run once and fold it in like a
   * snapshot (states it carries are the final ones; log lines are already here).
   */
  const refreshFinished = (runId: string) => {
    void requests.getRun?.(runId).then((result) => {
      if (!result.ok) return;
      const snapshot: StreamMessage = { type: "snapshot", run: result.data.run, blocks: result.data.blocks };
      const outcome = applyRunEvent(store.get(), snapshot, outputSerial, new Date().toISOString());
      outputSerial = outcome.outputSerial;
      if (outcome.patch.status) {
        // Only blocks whose shown state still comes from this run (a newer run may have started since).
        const status = { ...store.get().status };
        for (const [block, s] of Object.entries(outcome.patch.status)) if (status[block]?.runId === runId) status[block] = s;
        store.set({ status });
      }
    });
  };

  return {
    follow(runId) {
      unsubscribe?.();
      unsubscribe = api.subscribe(runId, onMessage);
    },
    dispose() {
      if (progressTimer) clearTimeout(progressTimer);
      progressTimer = null;
      unsubscribe?.();
      unsubscribe = null;
    },
  };
}
