/**
 * `ctx.runs.latest` as pure logic: which run of another pipeline answers a block's question, given the runs
 * the store listed (newest first). Logical dates compare as instants, so `2024-01-31` and
 * `2024-01-31T00:00:00.000Z` name the same date.
 */
import { UserError } from "./errors";
import type { RunLookupAnswer, RunLookupQuery } from "./execution";
import { RUN_STATES, type RunState } from "./run-model";

/**
 * Checks what block code passed to `ctx.runs.latest` and resolves its logical date (default: the asking
 * run's own).
 *
 * @throws UserError `invalid_run_query` naming the bad field.
 */
export function parseRunQuery(query: unknown, ownLogicalDate: string): RunLookupQuery {
  if (typeof query !== "object" || query === null) throw new UserError("invalid_run_query", "ctx.runs.latest({ pipeline, logicalDate?, state? }): expected an object");
  const { pipeline, logicalDate, state } = query as Record<string, unknown>;
  if (typeof pipeline !== "string" || pipeline === "") throw new UserError("invalid_run_query", "ctx.runs.latest: pipeline must be a pipeline name");
  let at: number;
  if (logicalDate === undefined) at = Date.parse(ownLogicalDate);
  else if (logicalDate instanceof Date) at = logicalDate.getTime();
  else if (typeof logicalDate === "string") at = Date.parse(logicalDate);
  else at = Number.NaN;
  if (!Number.isFinite(at)) throw new UserError("invalid_run_query", `ctx.runs.latest: logicalDate ${JSON.stringify(logicalDate)} is not a date (use a Date or ISO text such as 2024-01-31)`);
  if (state !== undefined && !(RUN_STATES as readonly unknown[]).includes(state)) {
    throw new UserError("invalid_run_query", `ctx.runs.latest: state ${JSON.stringify(state)} is not one of ${RUN_STATES.join(", ")}`);
  }
  return { pipeline, logicalDate: new Date(at).toISOString(), state: (state as RunState | undefined) ?? null };
}

/** The first (newest) run of `runs` that matches the query, or null. */
export function latestMatchingRun(runs: readonly { id: string; pipeline: string; state: RunState; logicalDate: string }[], query: RunLookupQuery): RunLookupAnswer {
  const at = Date.parse(query.logicalDate);
  const found = runs.find((run) => run.pipeline === query.pipeline && Date.parse(run.logicalDate) === at && (query.state === null || run.state === query.state));
  return found ? { id: found.id, state: found.state, logicalDate: found.logicalDate } : null;
}
