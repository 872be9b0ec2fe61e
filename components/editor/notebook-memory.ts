/**
 * The notebook as the runs left it (pure): turns what the API remembers — each block's newest block run,
 * the newest output per block, or one chosen run — into the editor's per-block status and previews. The
 * store loads these on open and when the run picker changes; the live event stream keeps updating the same
 * fields afterwards.
 */
import type { BlockRunJson, ResponseOf, RunJson } from "@/lib/core/api-contract";
import type { RunMode } from "@/lib/core/model";
import type { RunState } from "@/lib/core/run-model";
import { describeRunKind } from "../runs/run-kind";
import type { BlockStatus, EditorState } from "./editor-store";

/** What a cell says about the run its state or preview came from. */
export interface RunLabel {
  id: string;
  state: RunState;
  mode: RunMode;
  block: string | null;
  createdAt: string;
}

/** The status of one block run as the cell shows it (state, timings, rows, pokes, writes, tests). */
export function statusOfBlockRun(runId: string, b: BlockRunJson): BlockStatus {
  return {
    runId,
    state: b.state,
    attempt: b.attempt,
    rows: b.rows,
    durationMs: b.duration_ms,
    error: b.error ? { code: b.error.code, message: b.error.message } : null,
    pokes: b.pokes,
    writes: b.writes,
    tests: b.tests,
  };
}

export function labelOfRun(run: Pick<RunJson, "id" | "state" | "mode" | "block" | "created_at">): RunLabel {
  return { id: run.id, state: run.state, mode: run.mode, block: run.block, createdAt: run.created_at };
}

/** How a run reads in a picker or a cell label: `pipeline`, `block clean`, `from block clean`, `clean with upstream`. */
export function describeRunMode(mode: RunMode, block: string | null): string {
  return describeRunKind({ mode, block });
}

/** The slice of the editor state a remembered notebook sets. */
export type NotebookSlice = Pick<EditorState, "status" | "outputs" | "runLabels">;

/** Every block as last run, each from whichever run ran it last, with its newest output (maybe from an older run). */
export function rememberedNotebook(answer: ResponseOf<"latestBlockRuns">, blocks: readonly string[]): NotebookSlice {
  const known = new Set(blocks);
  const status: NotebookSlice["status"] = {};
  const outputs: NotebookSlice["outputs"] = {};
  const runLabels: NotebookSlice["runLabels"] = {};
  for (const b of answer.blocks) {
    if (!known.has(b.block)) continue;
    status[b.block] = statusOfBlockRun(b.run.id, b);
    runLabels[b.run.id] = labelOfRun(b.run);
  }
  for (const o of answer.outputs) {
    if (!known.has(o.block)) continue;
    outputs[o.block] = { runId: o.run_id, serial: 0, endedAt: o.ended_at ?? "" };
  }
  return { status, outputs, runLabels };
}

/** The notebook as of one run: its block runs and outputs; blocks it did not run show nothing. */
export function notebookOfRun(answer: ResponseOf<"getRun">): NotebookSlice {
  const status: NotebookSlice["status"] = {};
  const outputs: NotebookSlice["outputs"] = {};
  for (const b of answer.blocks) {
    status[b.block] = statusOfBlockRun(answer.run.id, b);
    if (b.has_output) outputs[b.block] = { runId: answer.run.id, serial: 0, endedAt: b.ended_at ?? "" };
  }
  return { status, outputs, runLabels: { [answer.run.id]: labelOfRun(answer.run) } };
}

/** `1 test passed`, `3 tests passed`, or the failing assertion. */
export function describeTests(tests: NonNullable<BlockStatus["tests"]>): string {
  if (tests.failed !== null) return tests.passed ? `${tests.passed} passed, then failed: ${tests.failed}` : tests.failed;
  const n = tests.passed ?? 0;
  return `${n} ${n === 1 ? "test" : "tests"} passed`;
}
