/**
 * The state of one pipeline editor and its actions: a zustand store created per editor instance (see
 * `EditorProvider`), never a module singleton. Structural edits go through the pure
 * `applyPipelineChanges` first (so a cycle is refused before anything is sent), then to the server with
 * the version they were based on. The store composes the parts that do IO, each in its own module: the
 * HTTP calls (`pipeline-requests.ts` over the `EditorApi` seam of `editor-api.ts`), autosave of block code
 * (`block-autosave.ts`) and the run's event stream (`run-stream.ts`).
 */
import { createStore, type StoreApi } from "zustand/vanilla";
import type { Pipeline, RunMode, Variables } from "@/lib/core/model";
import { applyPipelineChanges, type PipelineChange } from "@/lib/core/pipeline-changes";
import type { BlockRunState, RunState } from "@/lib/core/run-model";
import type { BlockRunJson, PipelineDocument, ResponseOf, RunJson } from "@/lib/core/api-contract";
import { seg, type ApiErrorInfo } from "../ui/api-client";
import { createBlockAutosave } from "./block-autosave";
import { codeStateOf, conflictFor, focusedRunMode, reloadedCode, saveDecision } from "./code-state";
import { browserApi, type EditorApi } from "./editor-api";
import { pipelineRequests, type NewBlockSpec } from "./pipeline-requests";
import type { BlockProgressView } from "./progress";
import { notebookOfRun, rememberedNotebook, type RunLabel } from "./notebook-memory";
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
  /** Sensors: checks that found the condition false. */
  pokes?: number;
  /** The `ctx.io` writes of the block run (an exporter's rows written, and where); known once the run ends. */
  writes?: BlockRunJson["writes"];
  /** Its data test's outcome; known once the run ends. */
  tests?: BlockRunJson["tests"];
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
  /** Per block: the run whose output the preview shows (maybe older than its state's), and a counter bumped on every new output. */
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
  /** The runs the cells' states and previews came from, by id: what their labels say. */
  runLabels: Record<string, RunLabel>;
  /** The run the notebook shows (the run picker), or null for each block's latest. */
  viewRunId: string | null;
  /** The pipeline's recent runs for the run picker, newest first; null until asked for. */
  runHistory: RunJson[] | null;
}

export interface EditorActions {
  setCode(block: string, code: string): void;
  saveBlock(block: string, options?: { force?: boolean }): Promise<boolean>;
  saveAll(): Promise<boolean>;
  changePipeline(changes: PipelineChange[]): Promise<boolean>;
  addBlock(spec: NewBlockSpec): Promise<boolean>;
  renameBlock(from: string, to: string): Promise<boolean>;
  removeBlock(block: string): Promise<boolean>;
  /** Runs the whole pipeline; `variables` override the pipeline's defaults for this run only. */
  runPipeline(variables?: Variables): Promise<void>;
  runBlock(block: string, mode: Exclude<RunMode, "pipeline">): Promise<void>;
  /** Shift+Enter: the block alone when its upstreams have outputs, else with its upstreams. */
  runFocused(block: string): Promise<void>;
  cancelRun(): Promise<void>;
  reload(): Promise<void>;
  resolveConflict(choice: "reload" | "overwrite"): Promise<void>;
  setFocused(block: string | null): void;
  dismissNotice(): void;
  setGraphError(message: string | null): void;
  /** Shows every block as last run (each from whichever run ran it last) with its newest output. */
  loadLatest(): Promise<void>;
  /** Shows the notebook as of one run of this pipeline (null: back to the latest). */
  showRun(runId: string | null): Promise<void>;
  /** Reads the pipeline's recent runs for the run picker. */
  loadRunHistory(): Promise<void>;
  /** Reads a block's log lines from the run its state came from (a remembered block's logs load on demand). */
  loadLogs(block: string): Promise<void>;
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

    const stream = createRunStream(api, { getLogs: requests.getLogs, getRun: (runId) => api.call<ResponseOf<"getRun">>(`/api/runs/${seg(runId)}`) }, { get, set });

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

    const startRun = async (body: { mode: RunMode; block?: string; variables?: Variables }) => {
      if (!(await get().saveAll())) return;
      const result = await requests.startRun(body);
      if (!result.ok) return fail(result.error, body.block);
      const id = result.data.run_id;
      const label: RunLabel = { id, state: "queued", mode: body.mode, block: body.block ?? null, createdAt: new Date().toISOString() };
      set({ run: { id, state: "queued", mode: body.mode, block: body.block ?? null, blocks: [] }, notice: null, viewRunId: null, runLabels: { ...get().runLabels, [id]: label } });
      stream.follow(id);
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
      runLabels: {},
      viewRunId: null,
      runHistory: null,

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

      runPipeline: (variables) => startRun({ mode: "pipeline", ...(variables ? { variables } : {}) }),
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

      async loadLatest() {
        const result = await api.call<ResponseOf<"latestBlockRuns">>(`/api/pipelines/${seg(get().name)}/latest-block-runs`);
        if (!result.ok) return fail(result.error);
        if (get().viewRunId !== null) return; // the picker moved on while this loaded
        const remembered = rememberedNotebook(result.data, get().pipeline.blocks.map((b) => b.name));
        set({ ...keepLive(get(), remembered), runLabels: { ...get().runLabels, ...remembered.runLabels }, logs: logsOfSameRuns(get(), remembered.status) });
      },

      async showRun(runId) {
        if (runId === null) {
          set({ viewRunId: null });
          return get().loadLatest();
        }
        set({ viewRunId: runId });
        const result = await api.call<ResponseOf<"getRun">>(`/api/runs/${seg(runId)}`);
        if (!result.ok) return fail(result.error);
        if (get().viewRunId !== runId) return;
        const shown = notebookOfRun(result.data);
        set({ status: shown.status, outputs: shown.outputs, progress: {}, runLabels: { ...get().runLabels, ...shown.runLabels }, logs: logsOfSameRuns(get(), shown.status) });
      },

      async loadRunHistory() {
        const result = await api.call<ResponseOf<"listRuns">>(`/api/runs?pipeline=${seg(get().name)}&limit=50`);
        if (!result.ok) return fail(result.error);
        const runLabels = { ...get().runLabels };
        for (const r of result.data.runs) runLabels[r.id] = { id: r.id, state: r.state, mode: r.mode, block: r.block, createdAt: r.created_at };
        set({ runHistory: result.data.runs, runLabels });
      },

      async loadLogs(block) {
        const runId = get().status[block]?.runId;
        if (!runId) return;
        const result = await requests.getLogs(runId, block);
        if (!result.ok) return fail(result.error, block);
        if (get().status[block]?.runId !== runId) return;
        set({ logs: { ...get().logs, [block]: result.data.lines.map((l) => ({ at: l.at, level: l.level, message: l.message })) } });
      },

      dispose() {
        autosave.dispose();
        stream.dispose();
      },
    };
  });
}

/**
 * The remembered notebook, except for blocks the live run already reported (the stream is fresher than a
 * page of history that was read while the run started).
 */
function keepLive(state: EditorState, remembered: Pick<EditorState, "status" | "outputs">): Pick<EditorState, "status" | "outputs"> {
  const liveRun = state.run?.id;
  if (!liveRun) return { status: remembered.status, outputs: remembered.outputs };
  const status = { ...remembered.status };
  const outputs = { ...remembered.outputs };
  for (const [block, s] of Object.entries(state.status)) if (s.runId === liveRun) status[block] = s;
  for (const [block, o] of Object.entries(state.outputs)) if (o.runId === liveRun) outputs[block] = o;
  return { status, outputs };
}

/** Log lines stay only for blocks whose shown state is from the same run as before; others load on demand. */
function logsOfSameRuns(state: EditorState, status: EditorState["status"]): EditorState["logs"] {
  const logs: EditorState["logs"] = {};
  for (const [block, lines] of Object.entries(state.logs)) if (status[block] && status[block].runId === state.status[block]?.runId) logs[block] = lines;
  return logs;
}
