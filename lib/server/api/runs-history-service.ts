/**
 * What the runs pages show: history with filters (state, pipeline, trigger) and one run with
 * its block runs, every attempt, logs per attempt and variables. Server components call this directly;
 * live updates re-render them (the page refreshes while the run is active).
 */
import { z } from "zod";
import { RUN_STATES, isTerminalRunState } from "@/lib/core/run-model";
import { getServices } from "../global-services";
import type { BlockRunJson } from "@/lib/core/api-contract";
import { ApiError, nameSchema, parseWith, runIdSchema } from "./http";
import { testsJson } from "./runs-service";

/** One row of the history. */
export interface RunRow {
  id: string;
  pipeline: string;
  state: string;
  trigger: string;
  trigger_id: string | null;
  /** pipeline | block | with_upstream | from; the block it is about for the others. */
  mode: string;
  block: string | null;
  logical_date: string;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  error: string | null;
}

export interface HistoryFilter {
  state?: string;
  pipeline?: string;
  trigger?: string;
  /** Logical dates from this day (YYYY-MM-DD, UTC) … */
  from?: string;
  /** … to this day, inclusive. */
  to?: string;
}

const filterSchema = z.object({
  state: z.enum(RUN_STATES).optional(),
  pipeline: nameSchema.optional(),
  /** A trigger kind (manual, schedule, api, backfill) or a trigger id. */
  trigger: z.string().regex(/^[a-z0-9_]+$/).optional(),
  from: z.iso.date().optional(),
  to: z.iso.date().optional(),
});

const KINDS = new Set(["manual", "schedule", "api", "backfill"]);

/**
 * Newest first; `trigger` matches a kind or a trigger's name; `from`/`to` bound the logical date (whole UTC
 * days). @throws ApiError 400 for bad filters.
 */
export async function runHistory(filter: HistoryFilter, limit = 200): Promise<RunRow[]> {
  const clean = Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined && v !== ""));
  const query = parseWith(filterSchema, clean, "filter");
  const filtersInMemory = query.trigger !== undefined || query.from !== undefined || query.to !== undefined;
  const runs = await getServices().runs.listRuns({ pipeline: query.pipeline, state: query.state, limit: filtersInMemory ? 1000 : limit });
  const trigger = query.trigger;
  const from = query.from ? Date.parse(`${query.from}T00:00:00Z`) : -Infinity;
  const to = query.to ? Date.parse(`${query.to}T00:00:00Z`) + 86_400_000 : Infinity;
  const matching = runs.filter((r) => {
    if (trigger !== undefined && (KINDS.has(trigger) ? r.trigger !== trigger : r.triggerId !== trigger)) return false;
    const logical = Date.parse(r.logicalDate);
    return logical >= from && logical < to;
  });
  return matching.slice(0, limit).map((r) => ({
    id: r.id,
    pipeline: r.pipeline,
    state: r.state,
    trigger: r.trigger,
    trigger_id: r.triggerId,
    mode: r.mode,
    block: r.block,
    logical_date: r.logicalDate,
    created_at: r.createdAt,
    started_at: r.startedAt,
    ended_at: r.endedAt,
    error: r.error,
  }));
}

export interface AttemptView {
  attempt: number;
  state: string;
  started_at: string | null;
  ended_at: string | null;
  error: string | null;
  log: { at: string; level: string; message: string }[];
}

export interface BlockView {
  block: string;
  state: string;
  attempt: number;
  started_at: string | null;
  ended_at: string | null;
  duration_ms: number | null;
  rows: number | null;
  error: string | null;
  /** Sensors: checks that found the condition false (pokes are not attempts). */
  pokes: number;
  last_poke_at: string | null;
  /** Whether the block run persisted an output the run page can preview. */
  has_output: boolean;
  writes: BlockRunJson["writes"];
  tests: BlockRunJson["tests"];
  attempts: AttemptView[];
}

export interface RunView {
  run: RunRow & { variables: Record<string, unknown>; data_interval: { start: string; end: string }; active: boolean };
  blocks: BlockView[];
}

/** A run with its blocks, attempts and logs. @throws ApiError 404 when there is no such run. */
export async function runDetail(id: string): Promise<RunView> {
  parseWith(runIdSchema, id, "run id");
  const { runs, logs } = getServices();
  const found = await runs.getRun(id);
  if (!found) throw ApiError.of("run_not_found", `there is no run ${id}`);
  const { run, blockRuns } = found;
  const attempts = await runs.listAttempts(id);
  const blocks: BlockView[] = [];
  for (const b of blockRuns) {
    const lines = await logs.read(id, b.block);
    const history = attempts.filter((a) => a.block === b.block);
    const numbers = new Set<number>([...history.map((a) => a.attempt), ...lines.map((l) => l.attempt)]);
    if (b.attempt > 0) numbers.add(b.attempt);
    const views: AttemptView[] = [...numbers]
      .sort((x, y) => x - y)
      .map((n) => {
        const a = history.find((h) => h.attempt === n);
        const current = n === b.attempt;
        return {
          attempt: n,
          state: a?.state ?? (current ? b.state : "unknown"),
          started_at: a?.startedAt ?? (current ? b.startedAt : null),
          ended_at: a?.endedAt ?? (current ? b.endedAt : null),
          error: (a?.error ?? (current ? b.error : null))?.message ?? null,
          log: lines.filter((l) => l.attempt === n).map((l) => ({ at: l.at, level: l.level, message: l.message })),
        };
      });
    blocks.push({
      block: b.block,
      state: b.state,
      attempt: b.attempt,
      started_at: b.startedAt,
      ended_at: b.endedAt,
      duration_ms: b.durationMs,
      rows: b.rows,
      error: b.error?.message ?? null,
      pokes: b.pokes,
      last_poke_at: b.lastPokeAt,
      has_output: b.output !== null,
      writes: b.writes,
      tests: testsJson(b),
      attempts: views,
    });
  }
  return {
    run: {
      id: run.id,
      pipeline: run.pipeline,
      state: run.state,
      trigger: run.trigger,
      trigger_id: run.triggerId,
      logical_date: run.logicalDate,
      created_at: run.createdAt,
      started_at: run.startedAt,
      ended_at: run.endedAt,
      error: run.error,
      mode: run.mode,
      block: run.block,
      variables: run.variables,
      data_interval: run.dataInterval,
      active: !isTerminalRunState(run.state),
    },
    blocks,
  };
}
