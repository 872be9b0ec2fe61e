/**
 * The state of one pipeline editor and its actions: a zustand store created per editor instance (see
 * `EditorProvider`), never a module singleton. Structural edits go through the pure
 * `applyPipelineChanges` first (so a cycle is refused before anything is sent), then to the server with
 * the version they were based on. The store composes the parts that do IO, each in its own module: the
 * HTTP calls (`pipeline-requests.ts` over the `EditorApi` seam of `editor-api.ts`), autosave of block code
 * (`block-autosave.ts`) and the run's event stream (`run-stream.ts`).
 */
import { createStore, type StoreApi } from "zustand/vanilla";
import type { Pipeline, RunMode } from "@/lib/core/model";
import { applyPipelineChanges, type PipelineChange } from "@/lib/core/pipeline-changes";
import type { BlockRunState, RunState } from "@/lib/core/run-model";
import type { PipelineDocument } from "@/lib/core/api-contract";
import type { ApiErrorInfo } from "../ui/api-client";
import { createBlockAutosave } from "./block-autosave";
import { codeStateOf, conflictFor, focusedRunMode, reloadedCode, saveDecision } from "./code-state";
import { browserApi, type EditorApi } from "./editor-api";
import { pipelineRequests, type NewBlockSpec } from "./pipeline-requests";
import type { BlockProgressView } from "./progress";
import { createRunStream } from "./run-stream";

export { browserApi, type EditorApi } from "./editor-api";
export { recordMetric } from "./metrics";

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
  addBlock(spec: NewBlockSpec): Promise<boolean>;
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

export function createEditorStore(doc: PipelineDocument, api: EditorApi = browserApi): EditorStore {
  const requests = pipelineRequests(api, doc.pipeline.name);
  let pipelineChain: Promise<unknown> = Promise.resolve();
  /** Edits of pipeline.yaml run one after another, each with the version the previous one returned. */
  const serial = <T,>(work: () => Promise<T>): Promise<T> => {
    const next = pipelineChain.then(work, work);
    pipelineChain = next.catch(() => undefined);
    return next;
  };

  return createStore<EditorState & EditorActions>()((set, get) => {
    const fail = (error: ApiErrorInfo, block?: string) => set({ notice: { kind: "error", message: error.message, block } });

    const staleConflict = (block: string | null, error: ApiErrorInfo) => set({ conflict: conflictFor(block, error) });

    const stream = createRunStream(api, requests, { get, set });

    const writeBlock = async (block: string, force: boolean): Promise<boolean> => {
      const current = get().code[block];
      if (!current) return true;
      const decision = saveDecision(current, get().conflict, block, force);
      if (decision !== "send") return decision === "skip";
      const sent = current.code;
      set({ code: { ...get().code, [block]: { ...current, saving: true } } });
      const result = await requests.saveBlockCode(block, sent, current.version);
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

    const autosave = createBlockAutosave(writeBlock);

    const startRun = async (body: { mode: RunMode; block?: string }) => {
      if (!(await get().saveAll())) return;
      const result = await requests.startRun(body);
      if (!result.ok) return fail(result.error, body.block);
      set({ run: { id: result.data.run_id, state: "queued", mode: body.mode, block: body.block ?? null, blocks: [] }, notice: null });
      stream.follow(result.data.run_id);
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
        autosave.edited(block);
      },

      saveBlock: (block, options = {}) => autosave.save(block, options.force === true),

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
          const result = await requests.savePipeline(changes, get().version);
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
          const result = await requests.addBlock(spec, get().version);
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
          const result = await requests.renameBlock(from, to, get().version);
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
          const result = await requests.deleteBlock(block, get().version);
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
        const mode = focusedRunMode(get(), block);
        if (mode) await get().runBlock(block, mode);
      },

      async cancelRun() {
        const run = get().run;
        if (!run) return;
        const result = await requests.cancelRun(run.id);
        if (!result.ok) fail(result.error);
      },

      async reload() {
        const result = await requests.getPipeline();
        if (!result.ok) return fail(result.error);
        const fresh = result.data;
        set({ pipeline: fresh.pipeline, version: fresh.version, code: reloadedCode(fresh, get().code), conflict: null });
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
        const fresh = await requests.getPipeline();
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
        autosave.dispose();
        stream.dispose();
      },
    };
  });
}
