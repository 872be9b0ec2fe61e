/**
 * Runs over HTTP (DESIGN §10): start, history, detail, cancel, retry, live events (SSE), output pages and logs.
 */
import { z } from "zod";
import type { VariableValue } from "@/lib/core/model";
import { isVariableValue } from "@/lib/core/pipeline-checks";
import { RUN_STATES, isTerminalRunState, type RunState } from "@/lib/core/run-model";
import type { RunEvent } from "@/lib/runner/events";
import type { BlockRun, Run } from "@/lib/store/metadata/run-store";
import { getServices } from "../global-services";
import { ApiError, nameSchema, parseWith, readBody, runIdSchema } from "./http";

const variableSchema = z.record(z.string(), z.custom<VariableValue>(isVariableValue, "variables must be JSON values"));

const startSchema = z.strictObject({
  variables: variableSchema.optional(),
  block: nameSchema.optional(),
  mode: z.enum(["pipeline", "block", "with_upstream", "from"]).optional(),
});

/** POST /api/pipelines/:p/runs → 201 {run_id}. */
export async function startRun(pipelineName: string, request: Request): Promise<Response> {
  parseWith(nameSchema, pipelineName, "pipeline name");
  const body = await readBody(request, startSchema);
  const mode = body.mode ?? (body.block ? "block" : "pipeline");
  if (mode !== "pipeline" && !body.block) throw new ApiError(400, "invalid_input", `mode "${mode}" needs a block`);
  const variables = body.variables;
  const started = await getServices().runner.start({ pipeline: pipelineName, mode, block: body.block, variables, trigger: "manual" });
  return Response.json({ run_id: started.runId }, { status: 201 });
}

/** The JSON shape of a run (snake_case, like every API body). */
export function runJson(run: Run) {
  return {
    id: run.id,
    pipeline: run.pipeline,
    state: run.state,
    trigger: run.trigger,
    mode: run.mode,
    block: run.block,
    logical_date: run.logicalDate,
    created_at: run.createdAt,
    started_at: run.startedAt,
    ended_at: run.endedAt,
    error: run.error,
  };
}

export function blockRunJson(blockRun: BlockRun) {
  return {
    block: blockRun.block,
    state: blockRun.state,
    attempt: blockRun.attempt,
    started_at: blockRun.startedAt,
    ended_at: blockRun.endedAt,
    duration_ms: blockRun.durationMs,
    rows: blockRun.rows,
    error: blockRun.error,
    has_output: blockRun.output !== null,
  };
}

export type RunJson = ReturnType<typeof runJson>;
export type BlockRunJson = ReturnType<typeof blockRunJson>;

const listSchema = z.object({
  pipeline: nameSchema.optional(),
  status: z.enum(RUN_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

export async function listRuns(request: Request): Promise<Response> {
  const params = Object.fromEntries(new URL(request.url).searchParams);
  const query = parseWith(listSchema, params, "query");
  const runs = await getServices().runs.listRuns({ pipeline: query.pipeline, state: query.status, limit: query.limit ?? 50 });
  return Response.json({ runs: runs.map(runJson) });
}

async function loadRun(id: string) {
  parseWith(runIdSchema, id, "run id");
  const found = await getServices().runs.getRun(id);
  if (!found) throw new ApiError(404, "run_not_found", `there is no run ${id}`);
  return found;
}

export async function getRun(id: string): Promise<Response> {
  const { run, blockRuns } = await loadRun(id);
  return Response.json({ run: runJson(run), blocks: blockRuns.map(blockRunJson) });
}

export async function cancelRun(id: string): Promise<Response> {
  const { run } = await loadRun(id);
  if (isTerminalRunState(run.state)) throw new ApiError(409, "run_finished", `run ${id} already ended (${run.state})`);
  const cancelled = getServices().runner.cancel(id);
  if (!cancelled) throw new ApiError(409, "run_not_live", `run ${id} is not running in this server`);
  return Response.json({ cancelled: true }, { status: 202 });
}

const retrySchema = z.strictObject({ from_block: nameSchema.optional() });

/** POST /api/runs/:id/retry {from_block?} — a new run of the same pipeline: whole, or from a block downstream. */
export async function retryRun(id: string, request: Request): Promise<Response> {
  const { run } = await loadRun(id);
  const body = await readBody(request, retrySchema);
  const started = await getServices().runner.start({
    pipeline: run.pipeline,
    mode: body.from_block ? "from" : run.mode,
    block: body.from_block ?? run.block ?? undefined,
    variables: run.variables,
    trigger: "manual",
  });
  return Response.json({ run_id: started.runId }, { status: 201 });
}

const pageSchema = z.object({
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(5000).default(200),
});

/** GET /api/runs/:id/blocks/:b/output?offset=&limit= → {schema, total_rows, offset, rows, stats}. */
export async function getOutputPage(id: string, block: string, request: Request): Promise<Response> {
  parseWith(runIdSchema, id, "run id");
  parseWith(nameSchema, block, "block name");
  const query = parseWith(pageSchema, Object.fromEntries(new URL(request.url).searchParams), "query");
  const { outputs } = getServices();
  const record = await outputs.read(id, block);
  if (!record) throw new ApiError(404, "output_not_found", `block ${block} of run ${id} has no output (it has not finished, failed, or returns nothing)`);
  const page = await outputs.readPage(record.ref, query.offset, query.limit);
  return Response.json({
    schema: page.columns,
    total_rows: page.totalRows,
    offset: page.offset,
    rows: page.rows,
    stats: record.summary.columns,
    bytes: record.summary.bytes,
  });
}

export async function getLogs(id: string, block: string): Promise<Response> {
  parseWith(runIdSchema, id, "run id");
  parseWith(nameSchema, block, "block name");
  const lines = await getServices().logs.read(id, block);
  return Response.json({ lines });
}

/** What the events stream sends: a snapshot first, then engine events as they happen. */
export type StreamMessage = { type: "snapshot"; run: RunJson; blocks: BlockRunJson[] } | RunEvent;

const TERMINAL: readonly RunState[] = ["success", "failed", "cancelled"];

/**
 * GET /api/runs/:id/events — server-sent events. Subscribes before reading the snapshot (so nothing falls in
 * between), sends the snapshot, then every event of the run; closes after the run's terminal state.
 */
export async function runEvents(id: string, request: Request): Promise<Response> {
  parseWith(runIdSchema, id, "run id");
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
      request.signal.addEventListener("abort", close);
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
