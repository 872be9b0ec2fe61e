/**
 * Runs over HTTP: start, history, detail, cancel, retry, output pages and logs. Services take input parsed
 * by the API contract and return the response body; the live events stream is in run-events-stream.ts.
 */
import type { BlockRunJson, InputOf, ResponseOf, RunJson } from "@/lib/core/api-contract";
import { isTerminalRunState } from "@/lib/core/run-model";
import type { RunEvent } from "@/lib/runner/events";
import { endOrphanedRun, orphanReason } from "@/lib/scheduler/recovery";
import type { BlockRun, Run } from "@/lib/store/metadata/run-store";
import { getServices } from "../global-services";
import { ApiError } from "./http";
import { replyWith } from "./route";

export type { BlockRunJson, RunJson } from "@/lib/core/api-contract";

/** POST /api/pipelines/:p/runs → 201 {run_id}. */
export async function startRun({ params, body }: InputOf<"startRun">): Promise<ResponseOf<"startRun">> {
  const mode = body.mode ?? (body.block ? "block" : "pipeline");
  if (mode !== "pipeline" && !body.block) throw ApiError.of("invalid_input", `mode "${mode}" needs a block`);
  const started = await getServices().runner.start({ pipeline: params.p, mode, block: body.block, variables: body.variables, trigger: "manual" });
  return { run_id: started.runId };
}

/** The JSON shape of a run (snake_case, like every API body). */
export function runJson(run: Run): RunJson {
  return {
    id: run.id,
    pipeline: run.pipeline,
    state: run.state,
    trigger: run.trigger,
    mode: run.mode,
    block: run.block,
    logical_date: run.logicalDate,
    data_interval: run.dataInterval,
    created_at: run.createdAt,
    started_at: run.startedAt,
    ended_at: run.endedAt,
    error: run.error,
  };
}

export function blockRunJson(blockRun: BlockRun): BlockRunJson {
  return {
    block: blockRun.block,
    state: blockRun.state,
    attempt: blockRun.attempt,
    started_at: blockRun.startedAt,
    ended_at: blockRun.endedAt,
    duration_ms: blockRun.durationMs,
    rows: blockRun.rows,
    // A stack names files of this machine: it stays in the metadata store and the server's log.
    error: blockRun.error ? { code: blockRun.error.code, message: blockRun.error.message, ...(blockRun.error.kind ? { kind: blockRun.error.kind } : {}) } : null,
    has_output: blockRun.output !== null,
    pokes: blockRun.pokes,
    last_poke_at: blockRun.lastPokeAt,
    writes: blockRun.writes,
    tests: testsJson(blockRun),
  };
}

/** A block's data test as the API shows it: the stored outcome, or the failing assertion of a block that failed its test. */
export function testsJson(blockRun: BlockRun): BlockRunJson["tests"] {
  if (blockRun.tests) return { passed: blockRun.tests.passed, failed: blockRun.tests.failed ?? null };
  if (blockRun.error?.code === "test_failed") return { passed: null, failed: blockRun.error.message };
  return null;
}

export async function listRuns({ query }: InputOf<"listRuns">): Promise<ResponseOf<"listRuns">> {
  const runs = await getServices().runs.listRuns({ pipeline: query.pipeline, state: query.status, limit: query.limit ?? 50 });
  return { runs: runs.map(runJson) };
}

async function loadRun(id: string) {
  const found = await getServices().runs.getRun(id);
  if (!found) throw ApiError.of("run_not_found", `there is no run ${id}`);
  return found;
}

export async function getRun({ params }: InputOf<"getRun">): Promise<ResponseOf<"getRun">> {
  const { run, blockRuns } = await loadRun(params.id);
  return { run: runJson(run), blocks: blockRuns.map(blockRunJson) };
}

/** 202 when the run's owner will stop it, 200 when nobody owns it any more and it was ended here. */
export async function cancelRun({ params }: InputOf<"cancelRun">) {
  const id = params.id;
  const { run } = await loadRun(id);
  if (isTerminalRunState(run.state)) throw ApiError.of("run_finished", `run ${id} already ended (${run.state})`);
  const { runner, runs } = getServices();
  const cancelled: ResponseOf<"cancelRun"> = { cancelled: true };
  if (runner.cancel(id)) return replyWith(202, cancelled);
  // Another process drives the run (`sluice run`, the standalone scheduler): the request waits in the
  // store, and that process, which polls for it, stops the run within a couple of seconds.
  const now = new Date();
  const at = now.toISOString();
  if (!(await runs.requestCancel(id, at))) throw ApiError.of("run_finished", `run ${id} already ended`);
  const ownership = await runs.getRunOwnership(id);
  if (ownership?.owner && Date.parse(ownership.owner.leaseExpiresAt) >= now.getTime()) return replyWith(202, cancelled);
  // Nobody is left to notice the request (the owner stopped heartbeating): end the run here.
  const ended = await endOrphanedRun(runs, id, "cancel", `cancelled: ${orphanReason(ownership ?? { owner: null, ownerId: null })}`, at);
  if (!ended) throw ApiError.of("run_finished", `run ${id} already ended`);
  return replyWith(200, cancelled);
}

/**
 * POST /api/runs/:id/retry {from_block?} → 202 {run_id} (the same id) — clears and re-runs the run's failed,
 * upstream_failed and cancelled blocks (or `from_block` and its downstream) inside the same run: same
 * logical date, data interval, variables and trigger; attempts accumulate. 409 while the run is live.
 */
export async function retryRun({ params, body }: InputOf<"retryRun">): Promise<ResponseOf<"retryRun">> {
  const id = params.id;
  const { run } = await loadRun(id);
  if (!isTerminalRunState(run.state)) throw ApiError.of("run_not_finished", `run ${id} is ${run.state}; only a finished run can be retried`);
  // The runner's refusals (`nothing_to_retry`, `upstream_not_succeeded`) are conflicts in ERROR_CODES: 409.
  const started = await getServices().runner.retry(id, { fromBlock: body.from_block });
  return { run_id: started.runId };
}

/** POST /api/runs/:id/rerun → 201 {run_id} — "run again": a new run with the same logical date, data interval and variables. */
export async function rerunRun({ params }: InputOf<"rerunRun">): Promise<ResponseOf<"rerunRun">> {
  await loadRun(params.id);
  const started = await getServices().runner.rerun(params.id);
  return { run_id: started.runId };
}

/** GET /api/runs/:id/blocks/:b/output?offset=&limit= → {schema, total_rows, offset, rows, stats}. */
export async function getOutputPage({ params, query }: InputOf<"getOutputPage">): Promise<ResponseOf<"getOutputPage">> {
  const { id, b: block } = params;
  const { outputs } = getServices();
  const record = await outputs.read(id, block);
  if (!record) throw ApiError.of("output_not_found", `block ${block} of run ${id} has no output (it has not finished, failed, or returns nothing)`);
  const page = await outputs.readPage(record.ref, query.offset, query.limit);
  return {
    schema: page.columns,
    total_rows: page.totalRows,
    offset: page.offset,
    rows: page.rows,
    stats: record.summary.columns,
    bytes: record.summary.bytes,
  };
}

export async function getLogs({ params }: InputOf<"getLogs">): Promise<ResponseOf<"getLogs">> {
  const lines = await getServices().logs.read(params.id, params.b);
  return { lines: lines.map((line) => ({ at: line.at, level: line.level, message: line.message, attempt: line.attempt })) };
}

/** What the events stream sends: a snapshot first, then engine events as they happen. */
export type StreamMessage = { type: "snapshot"; run: RunJson; blocks: BlockRunJson[] } | RunEvent;
