/**
 * The one registry of error codes that mean something beyond their kind: the HTTP status the API answers
 * with, and whether trying the same thing again later can succeed.
 *
 * A code not listed here takes the default of its kind: a user error is 422 and not retryable, an
 * operational error is 503 and retryable, an unexpected error (a bug) is 500 and not retryable. Listing a
 * code is how a layer says "this is a missing thing (404)" or "this conflicts with current state (409)"
 * once, for the API, the runner and the OpenAPI document alike.
 */
import type { ErrorKind } from "./errors";

export interface ErrorCodeRule {
  /** The HTTP status of a response carrying this code. */
  status: number;
  /** Whether the same request or attempt can succeed later without anyone changing it. */
  retryable: boolean;
  /** What the code means, for the API's documentation. */
  meaning: string;
}

function rule(status: number, retryable: boolean, meaning: string): ErrorCodeRule {
  return { status, retryable, meaning };
}

export const ERROR_CODES = {
  // The request itself is malformed.
  invalid_input: rule(400, false, "a parameter, query value or body field failed validation; details.issues names each one"),
  invalid_json: rule(400, false, "the request body is not valid JSON"),
  json_too_deep: rule(400, false, "the request body nests arrays and objects too deeply"),
  invalid_name: rule(400, false, "a pipeline, block or trigger name is not lowercase letters, digits and _"),
  invalid_run_id: rule(400, false, "a run id has characters a run id never has"),
  invalid_attempt: rule(400, false, "an attempt number is not a positive integer"),
  path_escape: rule(400, false, "a name resolves to a file outside its pipeline folder"),
  // Who is asking.
  unauthorized: rule(401, false, "missing or invalid credentials (an API trigger's bearer token)"),
  // Something named does not exist.
  not_found: rule(404, false, "the pipeline, or the API route, does not exist"),
  run_not_found: rule(404, false, "there is no run with this id"),
  block_run_not_found: rule(404, false, "the run has no such block"),
  output_not_found: rule(404, false, "the block has no persisted output in this run"),
  column_not_found: rule(404, false, "the block output has no such column; details.columns lists the ones it has"),
  unknown_block: rule(404, false, "the pipeline has no such block"),
  missing_block: rule(404, false, "an upstream names a block the pipeline does not have"),
  trigger_not_found: rule(404, false, "the pipeline has no such trigger"),
  backfill_not_found: rule(404, false, "the trigger has no such backfill"),
  connection_not_found: rule(404, false, "sluice.yaml has no connection of that name"),
  // The request conflicts with the current state.
  stale_version: rule(409, false, "the file changed since the version the write was based on; details.current_version is the new one"),
  cycle: rule(409, false, "the change would make the pipeline's graph cyclic; details.cycle names the blocks"),
  already_exists: rule(409, false, "a pipeline, block or trigger of that name exists"),
  run_finished: rule(409, false, "the run already ended"),
  run_not_finished: rule(409, false, "the run is still active; only a finished run can be retried"),
  nothing_to_retry: rule(409, false, "the run has no failed, upstream_failed or cancelled block"),
  upstream_not_succeeded: rule(409, false, "a retry from this block needs its upstreams to have succeeded"),
  trigger_disabled: rule(409, false, "the trigger is disabled"),
  // The request is well formed but refused.
  not_api_trigger: rule(422, false, "only API triggers have tokens"),
  variable_not_allowed: rule(422, false, "an API trigger caller set a variable the trigger does not allow"),
  invalid_variable_type: rule(422, false, "an API trigger caller set a variable to a value of the wrong type"),
  invalid_connection: rule(422, false, "the connection (or the sluice.yaml it would be written into) is invalid; details.errors names each field"),
  version_required: rule(428, false, "the write does not say which version it is based on (If-Match)"),
  max_active_runs: rule(429, true, "the trigger already has as many active runs as it allows"),
  // The server.
  internal: rule(500, false, "a bug: the details are in the server's log, never in the answer"),
} satisfies Record<string, ErrorCodeRule>;

/** A code with its own status and retryability. */
export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

const KIND_DEFAULTS: Record<ErrorKind, { status: number; retryable: boolean }> = {
  user: { status: 422, retryable: false },
  operational: { status: 503, retryable: true },
  unexpected: { status: 500, retryable: false },
};

/** The HTTP status of an error of this kind and code. A bug is always 500, whatever code it carries. */
export function httpStatusOf(kind: ErrorKind, code: string): number {
  if (kind === "unexpected") return KIND_DEFAULTS.unexpected.status;
  return isErrorCode(code) ? ERROR_CODES[code].status : KIND_DEFAULTS[kind].status;
}

/** Whether a failure of this kind and code is worth another attempt. A bug never is. */
export function isRetryableCode(kind: ErrorKind, code: string): boolean {
  if (kind === "unexpected") return false;
  return isErrorCode(code) ? ERROR_CODES[code].retryable : KIND_DEFAULTS[kind].retryable;
}
