/**
 * The state of one pipeline editor (STYLE §4): a zustand store created per editor instance (see
 * `EditorProvider`), never a module singleton. Structural edits go through the pure
 * `applyPipelineChanges` first (so a cycle is refused before anything is sent), then to the server with
 * the version they were based on; code edits are autosaved after a pause. IO is passed in (`EditorApi`).
 */
import { createStore, type StoreApi } from "zustand/vanilla";
import type { BlockLanguage, BlockType, Pipeline, RunMode } from "@/lib/core/model";
import { applyPipelineChanges, type PipelineChange } from "@/lib/core/pipeline-changes";
import type { BlockRunState, RunState } from "@/lib/core/run-model";
import type { PipelineDocument } from "@/lib/server/api/pipelines-service";
import type { StreamMessage } from "@/lib/server/api/runs-service";
import { apiCall, seg, type ApiErrorInfo, type ApiResult } from "../ui/api-client";
import { mergeProgress, type BlockProgressView } from "./progress";

export interface BlockCodeState {
  code: string;
  /** Version of the file the code is based on (sent as If-Match). */
  version: string;
  /** The code as last saved or loaded. */
  savedCode: string;
  saving: boolean;
}

export interface BlockStatus {
  runId: string;
  state: BlockRunState;
  attempt: number;
  rows: number | null;
  durationMs: number | null;
  error: { code: string; message: string } | null;
}

export interface LogEntry {
  at: string;
  level: "debug" | "info" | "warn" | "error";
  message: string;
}

export interface Conflict {
  /** The block whose code could not be saved, or null for pipeline.yaml. */
  block: string | null;
  message: string;
}

export interface Notice {
  kind: "error" | "info";
  message: string;
  block?: string;
}

export interface RunInfo {
  id: string;
  state: RunState;
  mode: RunMode;
  block: string | null;
  blocks: string[];
}

export interface EditorState {
  name: string;
  pipeline: Pipeline;
  version: string;
  code: Record<string, BlockCodeState>;
  status: Record<string, BlockStatus>;
  /** Per block: the run whose output the preview shows, and a counter bumped on every new output. */
  outputs: Record<string, { runId: string; serial: number; endedAt: string }>;
  logs: Record<string, LogEntry[]>;
  /** Rows and bytes each running block reported (cleared when it stops running). */
  progress: Record<string, BlockProgressView>;
  run: RunInfo | null;
  conflict: Conflict | null;
  notice: Notice | null;
  /** Why the last graph edit was refused (a cycle, named). */
  graphError: string | null;
  focused: string | null;
}

export interface EditorActions {
  setCode(block: string, code: string): void;
  saveBlock(block: string, options?: { force?: boolean }): Promise<boolean>;
  saveAll(): Promise<boolean>;
  changePipeline(changes: PipelineChange[]): Promise<boolean>;
  addBlock(spec: { name: string; type: BlockType; language: BlockLanguage; upstream: string[]; code: string; connection?: string }): Promise<boolean>;
  renameBlock(from: string, to: string): Promise<boolean>;
  removeBlock(block: string): Promise<boolean>;
  runPipeline(): Promise<void>;
  runBlock(block: string, mode: Exclude<RunMode, "pipeline">): Promise<void>;
  /** Shift+Enter: the block alone when its upstreams have outputs, else with its upstreams. */
  runFocused(block: string): Promise<void>;
  cancelRun(): Promise<void>;
  reload(): Promise<void>;
  resolveConflict(choice: "reload" | "overwrite"): Promise<void>;
  setFocused(block: string | null): void;
  dismissNotice(): void;
  setGraphError(message: string | null): void;
  /** Stops timers and the event stream (the editor unmounts). */
  dispose(): void;
}

export type EditorStore = StoreApi<EditorState & EditorActions>;

/** Where the store's side effects go: the HTTP API and the run event stream. Tests and benches may replace it. */
export interface EditorApi {
  call<T>(path: string, init?: { method?: string; body?: unknown; version?: string }): Promise<ApiResult<T>>;
  subscribe(runId: string, onMessage: (message: StreamMessage) => void): () => void;
}

function isStreamMessage(value: unknown): value is StreamMessage {
  return typeof value === "object" && value !== null && "type" in value && typeof value.type === "string";
}

export const browserApi: EditorApi = {
  call: apiCall,
  subscribe(runId, onMessage) {
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
  },
};

const AUTOSAVE_MS = 800;
/** Progress events are folded into the store at most this often (a block may report thousands a second). */
const PROGRESS_FLUSH_MS = 100;

function codeStateOf(doc: PipelineDocument): Record<string, BlockCodeState> {
  return Object.fromEntries(doc.blocks.map((b) => [b.name, { code: b.code, version: b.version, savedCode: b.code, saving: false }]));
}

/** Records a measured moment for the benchmark (bench/editor-preview.ts reads `window.sluiceMetrics`). */
export function recordMetric(name: string, detail: Record<string, string | number>): void {
  if (typeof window === "undefined") return;
  const target: { sluiceMetrics?: { name: string; at: number; detail: Record<string, string | number> }[] } & Window = window;
  target.sluiceMetrics ??= [];
  target.sluiceMetrics.push({ name, at: Date.now(), detail });
}

export function createEditorStore(doc: PipelineDocument, api: EditorApi = browserApi): EditorStore {
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  const saving = new Map<string, Promise<boolean>>();
  let pipelineChain: Promise<unknown> = Promise.resolve();
  /** Edits of pipeline.yaml run one after another, each with the version the previous one returned. */
  const serial = <T,>(work: () => Promise<T>): Promise<T> => {
    const next = pipelineChain.then(work, work);
    pipelineChain = next.catch(() => undefined);
    return next;
  };
  let unsubscribe: (() => void) | null = null;
  let outputSerial = 0;
  const pendingProgress = new Map<string, BlockProgressView>();
  let progressTimer: ReturnType<typeof setTimeout> | null = null;

  return createStore<EditorState & EditorActions>()((set, get) => {
    const fail = (error: ApiErrorInfo, block?: string) => set({ notice: { kind: "error", message: error.message, block } });

    const staleConflict = (block: string | null, error: ApiErrorInfo) =>
      set({
        conflict: {
          block,
          message:
            error.code === "stale_version"
              ? `${block ? `Block "${block}"` : "pipeline.yaml"} changed since you opened it — in another tab or on disk. Your change was not saved.`
              : error.message,
        },
      });

    const flushProgress = () => {
      progressTimer = null;
      if (pendingProgress.size === 0) return;
      set({ progress: { ...get().progress, ...Object.fromEntries(pendingProgress) } });
      pendingProgress.clear();
    };

    /** A block that stops running drops its progress (its row count and duration take over). */
    const clearProgress = (block: string) => {
      pendingProgress.delete(block);
      if (!(block in get().progress)) return;
      const progress = { ...get().progress };
      delete progress[block];
      set({ progress });
    };

    const onStream = (message: StreamMessage) => {
      switch (message.type) {
        case "snapshot": {
          const status = { ...get().status };
          for (const b of message.blocks) {
            status[b.block] = { runId: message.run.id, state: b.state, attempt: b.attempt, rows: b.rows, durationMs: b.duration_ms, error: b.error ? { code: b.error.code, message: b.error.message } : null };
          }
          // A block may have finished before the stream connected: its output comes with the snapshot.
          const outputs = { ...get().outputs };
          for (const b of message.blocks) {
            const known = outputs[b.block];
            if (b.state === "success" && b.has_output && known?.runId !== message.run.id) {
              outputs[b.block] = { runId: message.run.id, serial: ++outputSerial, endedAt: b.ended_at ?? new Date().toISOString() };
            }
          }
          const run = get().run;
          set({ status, outputs, run: run && run.id === message.run.id ? { ...run, state: message.run.state } : run });
          // Log lines written before the stream connected are read once from the log store.
          for (const b of message.blocks) {
            if (b.state === "pending" || b.state === "queued") continue;
            void api.call<{ lines: LogEntry[] }>(`/api/runs/${seg(message.run.id)}/blocks/${seg(b.block)}/logs`).then((result) => {
              if (result.ok && result.data.lines.length > (get().logs[b.block]?.length ?? 0)) set({ logs: { ...get().logs, [b.block]: result.data.lines.slice(-500) } });
            });
          }
          return;
        }
        case "run_state": {
          const run = get().run;
          if (run && run.id === message.runId) set({ run: { ...run, state: message.state } });
          return;
        }
        case "block_state": {
          const previous = get().status[message.block];
          const status: BlockStatus = {
            runId: message.runId,
            state: message.state,
            attempt: message.attempt,
            rows: message.rows ?? (previous?.runId === message.runId ? previous.rows : null),
            durationMs: message.durationMs ?? null,
            error: message.error ? { code: message.error.code, message: message.error.message } : null,
          };
          if (message.state !== "running") clearProgress(message.block);
          const patch: Partial<EditorState> = { status: { ...get().status, [message.block]: status } };
          if (message.state === "running" && message.attempt <= 1) patch.logs = { ...get().logs, [message.block]: [] };
          if (message.state === "success") {
            recordMetric("block-end", { block: message.block, serverAt: Date.parse(message.at) });
            patch.outputs = { ...get().outputs, [message.block]: { runId: message.runId, serial: ++outputSerial, endedAt: message.at } };
          }
          set(patch);
          return;
        }
        case "log": {
          const lines = get().logs[message.block] ?? [];
          set({ logs: { ...get().logs, [message.block]: [...lines, message.line].slice(-500) } });
          return;
        }
        case "progress": {
          const previous = pendingProgress.get(message.block) ?? get().progress[message.block];
          pendingProgress.set(message.block, mergeProgress(previous, message.runId, message.progress));
          progressTimer ??= setTimeout(flushProgress, PROGRESS_FLUSH_MS);
          return;
        }
      }
    };

    const writeBlock = async (block: string, force: boolean): Promise<boolean> => {
      const current = get().code[block];
      if (!current) return true;
      if (current.code === current.savedCode && !force) return true;
      if (get().conflict?.block === block && !force) return false;
      const sent = current.code;
      set({ code: { ...get().code, [block]: { ...current, saving: true } } });
      const result = await api.call<{ version: string }>(`/api/pipelines/${seg(get().name)}/blocks/${seg(block)}`, { method: "PUT", body: { code: sent }, version: current.version });
      const latest = get().code[block];
      if (!latest) return false;
      if (!result.ok) {
        set({ code: { ...get().code, [block]: { ...latest, saving: false } } });
        if (result.status === 409) staleConflict(block, result.error);
        else fail(result.error, block);
        return false;
      }
      set({ code: { ...get().code, [block]: { ...latest, saving: false, version: result.data.version, savedCode: sent } } });
      return true;
    };

    const startRun = async (body: { mode: RunMode; block?: string }) => {
      if (!(await get().saveAll())) return;
      const result = await api.call<{ run_id: string }>(`/api/pipelines/${seg(get().name)}/runs`, { method: "POST", body });
      if (!result.ok) return fail(result.error, body.block);
      unsubscribe?.();
      set({ run: { id: result.data.run_id, state: "queued", mode: body.mode, block: body.block ?? null, blocks: [] }, notice: null });
      unsubscribe = api.subscribe(result.data.run_id, onStream);
    };

    return {
      name: doc.pipeline.name,
      pipeline: doc.pipeline,
      version: doc.version,
      code: codeStateOf(doc),
      status: {},
      outputs: {},
      logs: {},
      progress: {},
      run: null,
      conflict: null,
      notice: null,
      graphError: null,
      focused: null,

      setCode(block, code) {
        const current = get().code[block];
        if (!current || current.code === code) return;
        set({ code: { ...get().code, [block]: { ...current, code } } });
        const timer = timers.get(block);
        if (timer) clearTimeout(timer);
        timers.set(
          block,
          setTimeout(() => {
            timers.delete(block);
            void get().saveBlock(block);
          }, AUTOSAVE_MS),
        );
      },

      saveBlock(block, options = {}) {
        const timer = timers.get(block);
        if (timer) {
          clearTimeout(timer);
          timers.delete(block);
        }
        // One save per block at a time: a second save waits for the first and then sends with its new version.
        const queued = (saving.get(block) ?? Promise.resolve(true)).then(() => writeBlock(block, options.force === true));
        saving.set(block, queued);
        void queued.finally(() => {
          if (saving.get(block) === queued) saving.delete(block);
        });
        return queued;
      },

      async saveAll() {
        const blocks = Object.keys(get().code);
        const results = await Promise.all(blocks.map((b) => get().saveBlock(b)));
        return results.every(Boolean);
      },

      changePipeline(changes) {
        return serial(async () => {
          const applied = applyPipelineChanges(get().pipeline, changes);
          if (!applied.ok) {
            set({ graphError: applied.error.message, notice: { kind: "error", message: applied.error.message, block: applied.error.block } });
            return false;
          }
          const before = get().pipeline;
          set({ pipeline: applied.pipeline, graphError: null });
          const result = await api.call<{ version: string }>(`/api/pipelines/${seg(get().name)}`, { method: "PUT", body: { changes }, version: get().version });
          if (!result.ok) {
            set({ pipeline: before });
            if (result.error.code === "stale_version") staleConflict(null, result.error);
            else set({ graphError: result.error.message, notice: { kind: "error", message: result.error.message } });
            return false;
          }
          set({ version: result.data.version });
          return true;
        });
      },

      addBlock(spec) {
        return serial(async () => {
          const result = await api.call<{ pipeline_version: string; block_version: string; block: Pipeline["blocks"][number] }>(`/api/pipelines/${seg(get().name)}/blocks`, {
            method: "POST",
            body: spec,
            version: get().version,
          });
          if (!result.ok) {
            if (result.error.code === "stale_version") staleConflict(null, result.error);
            else fail(result.error);
            return false;
          }
          const { block, pipeline_version, block_version } = result.data;
          set({
            pipeline: { ...get().pipeline, blocks: [...get().pipeline.blocks, block] },
            version: pipeline_version,
            code: { ...get().code, [block.name]: { code: spec.code, savedCode: spec.code, version: block_version, saving: false } },
            focused: block.name,
            notice: null,
          });
          return true;
        });
      },

      renameBlock(from, to) {
        return serial(async () => {
          if (!(await get().saveBlock(from))) return false;
          const result = await api.call<{ downstream_to_review: string[] }>(`/api/pipelines/${seg(get().name)}/blocks/${seg(from)}`, { method: "PUT", body: { name: to }, version: get().version });
          if (!result.ok) {
            if (result.error.code === "stale_version") staleConflict(null, result.error);
            else fail(result.error, from);
            return false;
          }
          await get().reload();
          const review = result.data.downstream_to_review;
          if (review.length > 0) set({ notice: { kind: "info", message: `Renamed. Update the code of ${review.join(", ")}: it still reads "${from}".` } });
          return true;
        });
      },

      removeBlock(block) {
        return serial(async () => {
          const result = await api.call<{ pipeline_version: string }>(`/api/pipelines/${seg(get().name)}/blocks/${seg(block)}?detach=true`, { method: "DELETE", version: get().version });
          if (!result.ok) {
            if (result.error.code === "stale_version") staleConflict(null, result.error);
            else fail(result.error, block);
            return false;
          }
          await get().reload();
          return true;
        });
      },

      runPipeline: () => startRun({ mode: "pipeline" }),
      runBlock: (block, mode) => startRun({ mode, block }),

      async runFocused(block) {
        const spec = get().pipeline.blocks.find((b) => b.name === block);
        if (!spec) return;
        const cached = spec.upstream.every((u) => get().outputs[u] !== undefined || get().status[u]?.state === "success");
        await get().runBlock(block, cached ? "block" : "with_upstream");
      },

      async cancelRun() {
        const run = get().run;
        if (!run) return;
        const result = await api.call<{ cancelled: boolean }>(`/api/runs/${seg(run.id)}/cancel`, { method: "POST" });
        if (!result.ok) fail(result.error);
      },

      async reload() {
        const result = await api.call<PipelineDocument>(`/api/pipelines/${seg(get().name)}`);
        if (!result.ok) return fail(result.error);
        const fresh = result.data;
        const code = codeStateOf(fresh);
        // Keep unsaved edits of blocks that did not change on disk.
        for (const [block, mine] of Object.entries(get().code)) {
          const theirs = code[block];
          if (theirs && mine.code !== mine.savedCode && theirs.version === mine.version) code[block] = mine;
        }
        set({ pipeline: fresh.pipeline, version: fresh.version, code, conflict: null });
      },

      async resolveConflict(choice) {
        const conflict = get().conflict;
        if (!conflict) return;
        if (choice === "reload") {
          if (conflict.block) {
            const current = get().code[conflict.block];
            if (current) set({ code: { ...get().code, [conflict.block]: { ...current, code: current.savedCode } } });
          }
          set({ conflict: null });
          await get().reload();
          return;
        }
        // Overwrite: take the current version from the server, then write mine on top of it.
        const fresh = await api.call<PipelineDocument>(`/api/pipelines/${seg(get().name)}`);
        if (!fresh.ok) return fail(fresh.error);
        set({ version: fresh.data.version, conflict: null });
        if (conflict.block) {
          const theirs = fresh.data.blocks.find((b) => b.name === conflict.block);
          const mine = get().code[conflict.block];
          if (theirs && mine) {
            set({ code: { ...get().code, [conflict.block]: { ...mine, version: theirs.version } } });
            await get().saveBlock(conflict.block, { force: true });
          }
        }
      },

      setFocused: (block) => set({ focused: block }),
      dismissNotice: () => set({ notice: null }),
      setGraphError: (message) => set({ graphError: message }),

      dispose() {
        for (const timer of timers.values()) clearTimeout(timer);
        timers.clear();
        if (progressTimer) clearTimeout(progressTimer);
        progressTimer = null;
        unsubscribe?.();
        unsubscribe = null;
      },
    };
  });
}
