/**
 * The HTTP API, written down once: every route's method, path, parameters, query, headers, request body,
 * success status and response body as zod schemas. Route handlers parse with these (`route()` in
 * lib/server/api/route.ts), the browser's client is typed from them (`api` in components/ui/api-client.ts),
 * and `GET /api/openapi.json` is generated from them, so the three cannot drift apart.
 *
 * Pure: zod and lib/core only, so that the browser bundle can import it. Response schemas are documentation
 * and compile-time types; the server does not re-validate what it builds.
 */
import { z } from "zod";
import { ERROR_CODES } from "./error-codes";
import { BLOCK_LANGUAGES, BLOCK_TYPES, SENSOR_MODES, type VariableValue } from "./model";
import type { PipelineChange } from "./pipeline-changes";
import { isVariableValue } from "./pipeline-checks";
import { BLOCK_RUN_STATES, RUN_STATES } from "./run-model";
import { TRIGGER_RULES } from "./trigger-rules";

// ---------------------------------------------------------------------------------------------------
// Shared pieces

/** The longest pipeline, block or trigger name and run id: names become file names and URL segments. */
export const MAX_NAME_LENGTH = 100;

export const nameSchema = z
  .string()
  .max(MAX_NAME_LENGTH, `names are at most ${MAX_NAME_LENGTH} characters`)
  .regex(/^[a-z0-9_]+$/, "use lowercase letters, digits and _ only");

export const runIdSchema = z
  .string()
  .max(MAX_NAME_LENGTH, `run ids are at most ${MAX_NAME_LENGTH} characters`)
  .regex(/^[A-Za-z0-9_-]+$/, "invalid run id");

/** The description of a path parameter doubles as its name in error messages ("invalid pipeline name: …"). */
const pipelineParam = nameSchema.describe("pipeline name");
const blockParam = nameSchema.describe("block name");
/** A block run of a run: a block, or a dynamic instance of one (`download[0]`, `download[2020-10]`). */
const blockRunParam = z
  .string()
  .max(MAX_NAME_LENGTH * 2 + 2, "block run names are a block name and an instance key")
  .regex(/^[a-z0-9_]+(\[[A-Za-z0-9_-]{1,100}\])?$/, "use a block name, or a dynamic instance such as download[0]")
  .describe("block name");
const triggerParam = nameSchema.describe("trigger id");
const runParam = runIdSchema.describe("run id");
const backfillParam = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,200}$/)
  .describe("backfill id");
/** Any column name a block can produce (Arrow allows nearly anything), within reason. */
const columnParam = z.string().min(1).max(1000).describe("column name");
/** `<pipeline>.<trigger>` as shown on the triggers page; a malformed one is answered like a bad token. */
const publicTriggerParam = z.string().max(300).describe("public trigger id");

/** A JSON value (variables): the body is JSON already, the refinement adds the engine's own rules. */
const variableValueSchema: z.ZodType<VariableValue> = z.json().refine(isVariableValue, "variables must be JSON values");
const variablesSchema = z.record(z.string(), variableValueSchema);

/** `If-Match: "<version>"`: the version a write is based on (a `version` body field also works). */
const ifMatchHeaders = z.object({ "if-match": z.string().optional() });

const runIdBody = z.object({ run_id: z.string() });

const retryPolicySchema = z.object({
  count: z.number(),
  delayMs: z.number(),
  backoff: z.enum(["constant", "exponential"]),
  maxDelayMs: z.number(),
});

/** A block as `pipeline.yaml` holds it, in the engine's camelCase model. */
export const blockSpecSchema = z.object({
  name: z.string(),
  type: z.enum(BLOCK_TYPES),
  language: z.enum(BLOCK_LANGUAGES),
  upstream: z.array(z.string()),
  retries: retryPolicySchema,
  timeoutMs: z.number().nullable(),
  connection: z.string().nullable(),
  queue: z.string().nullable(),
  memoryBytes: z.number().optional(),
  pokeIntervalMs: z.number().optional(),
  softFail: z.boolean().optional(),
  mode: z.enum(SENSOR_MODES).optional(),
});

export const pipelineSchema = z.object({
  version: z.literal(1),
  name: z.string(),
  description: z.string(),
  variables: z.record(z.string(), z.json()),
  secretVariables: z.array(z.string()).optional(),
  blocks: z.array(blockSpecSchema),
});

/** The block panel's settings (`null`: back to the default); the values are checked again with the whole file. */
const blockSettingsSchema = z.strictObject({
  type: z.enum(BLOCK_TYPES).optional(),
  language: z.enum(BLOCK_LANGUAGES).optional(),
  retries: z.strictObject({ count: z.number().int().min(0).optional(), delayMs: z.number().int().min(0).optional(), backoff: z.enum(["constant", "exponential"]).optional(), maxDelayMs: z.number().int().min(0).optional() }).nullable().optional(),
  timeoutMs: z.number().int().positive().nullable().optional(),
  connection: z.string().min(1).max(MAX_NAME_LENGTH).nullable().optional(),
  queue: z.string().min(1).max(MAX_NAME_LENGTH).nullable().optional(),
  memoryBytes: z.number().int().positive().nullable().optional(),
  pokeIntervalMs: z.number().int().positive().nullable().optional(),
  softFail: z.boolean().nullable().optional(),
  mode: z.enum(SENSOR_MODES).nullable().optional(),
  triggerRule: z.enum(TRIGGER_RULES).nullable().optional(),
  conditions: z.array(nameSchema).nullable().optional(),
  dynamic: z.boolean().nullable().optional(),
  dynamicKey: z.string().min(1).max(MAX_NAME_LENGTH).nullable().optional(),
  reduce: z.boolean().nullable().optional(),
});

const changeSchema: z.ZodType<PipelineChange> = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("set_block_type"), block: nameSchema, blockType: z.enum(BLOCK_TYPES) }),
  z.strictObject({ type: z.literal("set_upstream"), block: nameSchema, upstream: z.array(nameSchema) }),
  z.strictObject({ type: z.literal("add_upstream"), block: nameSchema, upstream: nameSchema }),
  z.strictObject({ type: z.literal("remove_upstream"), block: nameSchema, upstream: nameSchema }),
  z.strictObject({ type: z.literal("set_description"), description: z.string() }),
  z.strictObject({ type: z.literal("set_variable"), name: z.string().min(1).max(MAX_NAME_LENGTH), value: variableValueSchema, secret: z.boolean().optional() }),
  z.strictObject({ type: z.literal("remove_variable"), name: z.string().min(1).max(MAX_NAME_LENGTH) }),
  z.strictObject({ type: z.literal("rename_variable"), from: z.string().min(1).max(MAX_NAME_LENGTH), to: z.string().min(1).max(MAX_NAME_LENGTH) }),
  z.strictObject({ type: z.literal("set_block_settings"), block: nameSchema, settings: blockSettingsSchema }),
]);

// ---------------------------------------------------------------------------------------------------
// Response bodies

export const pipelineListItemSchema = z.object({
  name: z.string(),
  description: z.string(),
  blocks: z.number().nullable(),
  version: z.string().nullable(),
  /** Why the pipeline cannot be read (a broken pipeline.yaml); null when it can. */
  error: z.string().nullable(),
  last_run: z.object({ id: z.string(), state: z.string(), created_at: z.string(), ended_at: z.string().nullable() }).nullable(),
  triggers: z.number(),
  /** The enabled schedule triggers, described for people ("At 03:00 (UTC)"); empty when none. */
  schedules: z.array(z.string()),
});

export const blockCodeSchema = z.object({ name: z.string(), code: z.string(), version: z.string(), exists: z.boolean() });

/** A pipeline with every block's code and versions: what the editor opens. */
export const pipelineDocumentSchema = z.object({ pipeline: pipelineSchema, version: z.string(), blocks: z.array(blockCodeSchema) });

export const runJsonSchema = z.object({
  id: z.string(),
  pipeline: z.string(),
  state: z.enum(RUN_STATES),
  trigger: z.enum(["manual", "schedule", "api", "backfill"]),
  mode: z.enum(["pipeline", "block", "with_upstream", "from"]),
  block: z.string().nullable(),
  logical_date: z.string(),
  data_interval: z.object({ start: z.string(), end: z.string() }),
  created_at: z.string(),
  started_at: z.string().nullable(),
  ended_at: z.string().nullable(),
  error: z.string().nullable(),
});

export const blockRunJsonSchema = z.object({
  block: z.string(),
  state: z.enum(BLOCK_RUN_STATES),
  attempt: z.number(),
  started_at: z.string().nullable(),
  ended_at: z.string().nullable(),
  duration_ms: z.number().nullable(),
  rows: z.number().nullable(),
  /** Why the latest attempt failed (never a stack trace: those stay in the server's log). */
  error: z.object({ code: z.string(), message: z.string(), kind: z.enum(["user", "operational", "unexpected"]).optional() }).nullable(),
  has_output: z.boolean(),
  pokes: z.number(),
  last_poke_at: z.string().nullable(),
  /** The `ctx.io` writes of its successful attempt (an exporter's rows written, and where); null when none. */
  writes: z.array(z.object({ connector: z.string(), location: z.string(), rows: z.number(), bytes: z.number().optional() })).nullable(),
  /** Its data test: checks passed (null when a failure stopped the count) and the failing assertion; null without a `test()`. */
  tests: z.object({ passed: z.number().nullable(), failed: z.string().nullable() }).nullable(),
});

/** A block's newest block run in its pipeline, with the run it came from (what the editor shows on open). */
export const notebookBlockRunSchema = blockRunJsonSchema.extend({
  run: z.object({ id: z.string(), state: z.enum(RUN_STATES), mode: runJsonSchema.shape.mode, block: z.string().nullable(), trigger: runJsonSchema.shape.trigger, created_at: z.string() }),
});

export const logLineSchema = z.object({ at: z.string(), level: z.enum(["debug", "info", "warn", "error"]), message: z.string(), attempt: z.number() });

const histogramSchema = z.object({ kind: z.enum(["number", "time"]), edges: z.array(z.number()), counts: z.array(z.number()) });

const statValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** A column's summary, computed when the output was written. */
export const columnStatsSchema = z.object({
  name: z.string(),
  type: z.string(),
  nulls: z.number(),
  min: statValue,
  max: statValue,
  distinct: z.number(),
  histogram: histogramSchema.optional(),
});

/** One page of a block output: rows as JSON-safe records (timestamps ISO strings, big integers strings). */
export const outputPageSchema = z.object({
  schema: z.array(z.object({ name: z.string(), type: z.string() })),
  total_rows: z.number(),
  offset: z.number(),
  rows: z.array(z.record(z.string(), z.unknown())),
  stats: z.array(columnStatsSchema),
  bytes: z.number(),
});

export const topValuesSchema = z.object({
  column: z.string(),
  type: z.string(),
  total_rows: z.number(),
  nulls: z.number(),
  /** Null when the column has too many values to count exactly. */
  distinct: z.number().nullable(),
  values: z.array(z.object({ value: z.json(), count: z.number() })),
  /** False when the counts are lower bounds (a very big column counted in bounded memory). */
  exact: z.boolean(),
});

export const triggerJsonSchema = z.object({
  name: z.string(),
  type: z.enum(["schedule", "api"]),
  description: z.string(),
  enabled: z.boolean(),
  schedule: z.string().nullable(),
  interval: z.string().nullable(),
  timezone: z.string().nullable(),
  start_date: z.string().nullable(),
  end_date: z.string().nullable(),
  missed_run_policy: z.string().nullable(),
  variables: z.record(z.string(), z.json()),
  /** API triggers: the variables a caller may set (empty: none); null for schedules. */
  variables_allowed: z.array(z.string()).nullable(),
  /** API triggers: an example value per allowed variable, for the curl line. */
  example_variables: z.record(z.string(), z.json()).nullable(),
  max_active_runs: z.number().nullable(),
  on_max_active: z.enum(["skip", "wait"]),
  run_timeout: z.string().nullable(),
  /** Human description of the schedule, null for API triggers. */
  describe: z.string().nullable(),
  next_run: z.string().nullable(),
  last_run: z.object({ id: z.string(), state: z.string(), created_at: z.string() }).nullable(),
  /** The public id and URL path of an API trigger (`POST` with a bearer token). */
  public_id: z.string(),
  url_path: z.string().nullable(),
  has_token: z.boolean().nullable(),
});

/** One problem in a trigger definition, with the form field it belongs to (in a 422's details.errors). */
export const triggerFieldErrorSchema = z.object({ field: z.string().nullable(), code: z.string(), message: z.string() });

export const schedulePreviewSchema = z.object({
  description: z.string().nullable(),
  timezone: z.string(),
  next: z.array(z.object({ at: z.string(), local: z.string() })),
});

export const backfillJsonSchema = z.object({
  id: z.string(),
  state: z.enum(["running", "success", "failed", "cancelled"]),
  range_start: z.string(),
  range_end: z.string(),
  concurrency: z.number(),
  total: z.number(),
  pending: z.number(),
  queued: z.number(),
  running: z.number(),
  success: z.number(),
  failed: z.number(),
  cancelled: z.number(),
});

export const blockTemplateSchema = z.object({
  /** `io/<file name>`: stable, unique. */
  id: z.string(),
  /** The file's stem: the new block's name stem. */
  stem: z.string(),
  label: z.string(),
  type: z.enum(BLOCK_TYPES),
  language: z.enum(BLOCK_LANGUAGES),
  description: z.string(),
  /** What the block reads (`@sluice expects: table` in its header): `table` needs an upstream, `nothing` does not. */
  expects: z.enum(["table", "nothing"]),
  /** The connection a SQL template runs in. */
  connection: z.string().optional(),
  code: z.string(),
});

const workerJobSchema = z.object({
  job_id: z.string(),
  queue: z.string(),
  run_id: z.string(),
  block: z.string(),
  /** 2+ when an earlier delivery was lost with its worker. */
  delivery: z.number(),
  started_at: z.string(),
});

export const workerRowSchema = z.object({
  id: z.string(),
  host: z.string(),
  pid: z.number(),
  queues: z.array(z.string()),
  concurrency: z.number(),
  state: z.enum(["running", "stopping"]),
  started_at: z.string(),
  last_heartbeat: z.string(),
  current_jobs: z.array(workerJobSchema),
  jobs_done: z.number(),
});

export const queueRowSchema = z.object({
  queue: z.string(),
  waiting: z.number(),
  active: z.number(),
  delayed: z.number(),
  failed: z.number(),
  completed: z.number(),
});

export const workersResponseSchema = z.discriminatedUnion("executor", [
  z.object({ executor: z.literal("queue"), prefix: z.string(), checked_at: z.string(), workers: z.array(workerRowSchema), queues: z.array(queueRowSchema) }),
  z.object({ executor: z.literal("local"), message: z.string(), enable: z.string() }),
]);

/** The kinds of `sluice.yaml` connection (lib/io/profiles.ts validates each; a test keeps the two lists equal). */
export const CONNECTION_KIND_NAMES = ["postgres", "duckdb", "gcs", "s3", "bigquery", "http", "files"] as const;

const connectionParam = z
  .string()
  .max(MAX_NAME_LENGTH, `connection names are at most ${MAX_NAME_LENGTH} characters`)
  .regex(/^[A-Za-z0-9_-]+$/, "connection names are letters, digits, _ and -")
  .describe("connection name");

const secretStateSchema = z.object({ set: z.boolean(), env_var: z.string().nullable() });

/** A connection as the page sees it: the file's text for plain fields, only "set" (and an `env_var()` name) for secrets. */
export const connectionViewSchema = z.object({
  name: z.string(),
  kind: z.string(),
  fields: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  secrets: z.record(z.string(), secretStateSchema),
  headers: z.array(secretStateSchema.extend({ name: z.string() })),
  /** Send it back as `If-Match` with an edit or a delete: a connection changed since is not overwritten (409). */
  version: z.string(),
});

/** What the connection form sends: a secret left out keeps its stored value, unless named in `clear`. */
export const connectionEditSchema = z.strictObject({
  kind: z.enum(CONNECTION_KIND_NAMES),
  fields: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  clear: z.array(z.string()).optional(),
  /** HTTP headers; one without `value` keeps its stored value. */
  headers: z.array(z.strictObject({ name: z.string(), value: z.string().optional() })).optional(),
});

export const connectionFieldSpecSchema = z.object({
  key: z.string(),
  type: z.enum(["string", "number", "boolean", "headers"]),
  secret: z.boolean(),
  description: z.string(),
  default: z.string().nullable(),
});

export const connectionsListingSchema = z.object({
  file: z.string(),
  exists: z.boolean(),
  connections: z.array(connectionViewSchema.extend({ line: z.number().nullable() })),
  problem: z.object({ message: z.string(), line: z.number().nullable(), column: z.number().nullable() }).nullable(),
  loaded_at: z.string(),
  kinds: z.array(z.object({ kind: z.enum(CONNECTION_KIND_NAMES), description: z.string(), fields: z.array(connectionFieldSpecSchema) })),
});

export const connectionTestSchema = z.object({ ok: z.boolean(), message: z.string(), elapsed_ms: z.number() });

/** Every error answer: `code` is one of `ERROR_CODES` or an engine code (then 422 for user errors, 503 for operational ones). */
export const errorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).optional() }),
});

// ---------------------------------------------------------------------------------------------------
// Endpoints

export type HttpMethod = "GET" | "POST" | "PUT" | "DELETE";

/** A schema for named string values: path parameters, query values or headers. */
export type FieldsSchema = z.ZodObject<Record<string, z.ZodType>>;

export interface Endpoint {
  method: HttpMethod;
  /** OpenAPI-style template: `/api/pipelines/{p}`; parameter names are the route folders' (`[p]`). */
  path: string;
  summary: string;
  params?: FieldsSchema;
  query?: FieldsSchema;
  /** Request headers the handler reads, lowercase. */
  headers?: FieldsSchema;
  body?: z.ZodType;
  /** The success status. */
  status: number;
  /** Other success statuses with the same body (documentation). */
  otherStatuses?: readonly number[];
  /** The success body; null for an empty answer (204). */
  response: z.ZodType | null;
  /** Answers that are not JSON: the media type (the handler builds the response itself). */
  stream?: "text/event-stream";
  /** Error codes this route answers with beyond the generic ones (invalid_input, internal). */
  errors?: readonly (keyof typeof ERROR_CODES)[];
  /** Callers authenticate with an API trigger's bearer token instead of the server's. */
  triggerToken?: true;
}

function endpoint<E extends Endpoint>(definition: E): E {
  return definition;
}

export const apiContract = {
  health: endpoint({ method: "GET", path: "/api/health", summary: "Liveness: the server answers", status: 200, response: z.object({ ok: z.literal(true) }) }),
  openApi: endpoint({ method: "GET", path: "/api/openapi.json", summary: "This API as an OpenAPI 3.1 document", status: 200, response: z.record(z.string(), z.unknown()) }),

  listPipelines: endpoint({
    method: "GET",
    path: "/api/pipelines",
    summary: "Pipelines with block count, last run and triggers (and the error of a broken one)",
    status: 200,
    response: z.object({ pipelines: z.array(pipelineListItemSchema) }),
  }),
  createPipeline: endpoint({
    method: "POST",
    path: "/api/pipelines",
    summary: "Create a pipeline, blank or copied from another",
    body: z.strictObject({
      name: nameSchema,
      /** "blank" (default) or the name of a pipeline to copy (an example, or duplicate). */
      template: z.string().optional(),
      description: z.string().optional(),
    }),
    status: 201,
    response: z.object({ name: z.string(), version: z.string() }),
    errors: ["already_exists", "not_found"],
  }),
  getPipeline: endpoint({
    method: "GET",
    path: "/api/pipelines/{p}",
    summary: "A pipeline with its version and every block's code and version",
    params: z.object({ p: pipelineParam }),
    status: 200,
    response: pipelineDocumentSchema,
    errors: ["not_found"],
  }),
  savePipeline: endpoint({
    method: "PUT",
    path: "/api/pipelines/{p}",
    summary: "Apply structural changes to the pipeline, or rename it (If-Match: pipeline version)",
    params: z.object({ p: pipelineParam }),
    headers: ifMatchHeaders,
    body: z.strictObject({
      version: z.string().optional(),
      /** Structural edits applied to the current file (add/remove/rename blocks have their own routes: they touch files). */
      changes: z.array(changeSchema).optional(),
      /** Or a rename of the pipeline. */
      name: nameSchema.optional(),
    }),
    status: 200,
    response: z.union([z.object({ version: z.string(), pipeline: pipelineSchema }), z.object({ name: z.string(), version: z.string() })]),
    errors: ["not_found", "stale_version", "cycle", "already_exists", "version_required"],
  }),
  deletePipeline: endpoint({
    method: "DELETE",
    path: "/api/pipelines/{p}",
    summary: "Delete a pipeline folder (If-Match optional)",
    params: z.object({ p: pipelineParam }),
    headers: ifMatchHeaders,
    status: 204,
    response: null,
    errors: ["not_found", "stale_version"],
  }),
  addBlock: endpoint({
    method: "POST",
    path: "/api/pipelines/{p}/blocks",
    summary: "Add a block and write its code file (If-Match: pipeline version)",
    params: z.object({ p: pipelineParam }),
    headers: ifMatchHeaders,
    body: z.strictObject({
      name: nameSchema,
      type: z.enum(BLOCK_TYPES),
      language: z.enum(BLOCK_LANGUAGES),
      upstream: z.array(nameSchema).default([]),
      code: z.string().default(""),
      /** A `sluice.yaml` connection a SQL block runs in (ELT in the warehouse). */
      connection: z.string().min(1).max(100).optional(),
      version: z.string().optional(),
    }),
    status: 201,
    response: z.object({ pipeline_version: z.string(), block_version: z.string(), block: blockSpecSchema }),
    errors: ["not_found", "stale_version", "cycle", "already_exists", "missing_block", "version_required"],
  }),
  getBlock: endpoint({
    method: "GET",
    path: "/api/pipelines/{p}/blocks/{b}",
    summary: "One block's spec, code and version",
    params: z.object({ p: pipelineParam, b: blockParam }),
    status: 200,
    response: z.object({ block: blockSpecSchema, code: z.string(), version: z.string(), exists: z.boolean() }),
    errors: ["not_found", "unknown_block"],
  }),
  putBlock: endpoint({
    method: "PUT",
    path: "/api/pipelines/{p}/blocks/{b}",
    summary: "Save a block's code (If-Match: block version) or rename it (If-Match: pipeline version)",
    params: z.object({ p: pipelineParam, b: blockParam }),
    headers: ifMatchHeaders,
    body: z.strictObject({
      code: z.string().optional(),
      /** Rename the block (file, name and upstream entries); If-Match is then the pipeline version. */
      name: nameSchema.optional(),
      version: z.string().optional(),
    }),
    status: 200,
    response: z.union([
      z.object({ version: z.string() }),
      z.object({ pipeline_version: z.string(), block_version: z.string(), downstream_to_review: z.array(z.string()) }),
    ]),
    errors: ["not_found", "unknown_block", "stale_version", "already_exists", "version_required"],
  }),
  deleteBlock: endpoint({
    method: "DELETE",
    path: "/api/pipelines/{p}/blocks/{b}",
    summary: "Remove a block and its file; detach=true also removes it from downstream upstream lists",
    params: z.object({ p: pipelineParam, b: blockParam }),
    query: z.object({ detach: z.enum(["true", "false"]).optional() }),
    headers: ifMatchHeaders,
    status: 200,
    response: z.object({ pipeline_version: z.string() }),
    errors: ["not_found", "unknown_block", "stale_version"],
  }),
  startRun: endpoint({
    method: "POST",
    path: "/api/pipelines/{p}/runs",
    summary: "Start a run of the pipeline, one block, a block with its upstreams, or from a block",
    params: z.object({ p: pipelineParam }),
    body: z.strictObject({
      variables: variablesSchema.optional(),
      block: nameSchema.optional(),
      mode: z.enum(["pipeline", "block", "with_upstream", "from"]).optional(),
    }),
    status: 201,
    response: runIdBody,
    errors: ["not_found", "unknown_block"],
  }),

  listTriggers: endpoint({
    method: "GET",
    path: "/api/pipelines/{p}/triggers",
    summary: "The pipeline's triggers with next and last run",
    params: z.object({ p: pipelineParam }),
    status: 200,
    response: z.object({ triggers: z.array(triggerJsonSchema) }),
    errors: ["not_found"],
  }),
  createTrigger: endpoint({
    method: "POST",
    path: "/api/pipelines/{p}/triggers",
    summary: "Add a trigger, in the triggers.yaml shape (422 lists every problem in details.errors)",
    params: z.object({ p: pipelineParam }),
    body: z.record(z.string(), z.unknown()),
    status: 201,
    response: z.object({ trigger: triggerJsonSchema }),
    errors: ["not_found", "already_exists"],
  }),
  getTrigger: endpoint({
    method: "GET",
    path: "/api/pipelines/{p}/triggers/{id}",
    summary: "One trigger",
    params: z.object({ p: pipelineParam, id: triggerParam }),
    status: 200,
    response: z.object({ trigger: triggerJsonSchema }),
    errors: ["not_found", "trigger_not_found"],
  }),
  updateTrigger: endpoint({
    method: "PUT",
    path: "/api/pipelines/{p}/triggers/{id}",
    summary: "Replace a trigger's definition (triggers.yaml shape; the name stays)",
    params: z.object({ p: pipelineParam, id: triggerParam }),
    body: z.record(z.string(), z.unknown()),
    status: 200,
    response: z.object({ trigger: triggerJsonSchema }),
    errors: ["not_found", "trigger_not_found"],
  }),
  deleteTrigger: endpoint({
    method: "DELETE",
    path: "/api/pipelines/{p}/triggers/{id}",
    summary: "Remove a trigger from triggers.yaml; its run history stays",
    params: z.object({ p: pipelineParam, id: triggerParam }),
    status: 200,
    response: z.object({ deleted: z.literal(true) }),
    errors: ["not_found", "trigger_not_found"],
  }),
  issueTriggerToken: endpoint({
    method: "POST",
    path: "/api/pipelines/{p}/triggers/{id}/token",
    summary: "Issue or rotate an API trigger's token (the only time it is shown)",
    params: z.object({ p: pipelineParam, id: triggerParam }),
    status: 201,
    response: z.object({ token: z.string(), url_path: z.string() }),
    errors: ["not_found", "trigger_not_found", "not_api_trigger"],
  }),
  revokeTriggerToken: endpoint({
    method: "DELETE",
    path: "/api/pipelines/{p}/triggers/{id}/token",
    summary: "Revoke an API trigger's token: calls are refused until a new one is issued",
    params: z.object({ p: pipelineParam, id: triggerParam }),
    status: 200,
    response: z.object({ revoked: z.boolean() }),
    errors: ["not_found", "trigger_not_found"],
  }),
  runTriggerNow: endpoint({
    method: "POST",
    path: "/api/pipelines/{p}/triggers/{id}/run",
    summary: "Run now with the trigger's variables (those in the body override them for this run)",
    params: z.object({ p: pipelineParam, id: triggerParam }),
    body: z.strictObject({ variables: variablesSchema.optional() }).optional(),
    status: 201,
    response: runIdBody,
    errors: ["not_found", "trigger_not_found"],
  }),
  previewSchedule: endpoint({
    method: "GET",
    path: "/api/pipelines/{p}/triggers/{id}/preview",
    summary: "Describe a schedule and list its next 5 times (422 with field errors when it is invalid)",
    params: z.object({ p: pipelineParam, id: triggerParam }),
    query: z.object({ cron: z.string().optional(), interval: z.string().optional(), timezone: z.string().optional(), start_date: z.string().optional() }),
    status: 200,
    response: schedulePreviewSchema,
  }),
  listBackfills: endpoint({
    method: "GET",
    path: "/api/pipelines/{p}/triggers/{id}/backfills",
    summary: "A schedule trigger's backfills, newest first",
    params: z.object({ p: pipelineParam, id: triggerParam }),
    status: 200,
    response: z.object({ backfills: z.array(backfillJsonSchema) }),
    errors: ["not_found", "trigger_not_found"],
  }),
  createBackfill: endpoint({
    method: "POST",
    path: "/api/pipelines/{p}/triggers/{id}/backfills",
    summary: "Backfill a schedule trigger over a date range",
    params: z.object({ p: pipelineParam, id: triggerParam }),
    body: z.strictObject({ start: z.string().min(1), end: z.string().min(1), concurrency: z.coerce.number().int().min(1).max(32).optional() }),
    status: 201,
    response: z.object({ backfill: backfillJsonSchema }),
    errors: ["not_found", "trigger_not_found"],
  }),
  getBackfill: endpoint({
    method: "GET",
    path: "/api/pipelines/{p}/triggers/{id}/backfills/{bid}",
    summary: "A backfill's progress",
    params: z.object({ p: pipelineParam, id: triggerParam, bid: backfillParam }),
    status: 200,
    response: z.object({ backfill: backfillJsonSchema }),
    errors: ["not_found", "trigger_not_found", "backfill_not_found"],
  }),
  cancelBackfill: endpoint({
    method: "POST",
    path: "/api/pipelines/{p}/triggers/{id}/backfills/{bid}/cancel",
    summary: "Cancel a backfill: no new slot starts",
    params: z.object({ p: pipelineParam, id: triggerParam, bid: backfillParam }),
    status: 200,
    response: z.object({ cancelled: z.boolean(), backfill: backfillJsonSchema }),
    errors: ["not_found", "trigger_not_found", "backfill_not_found"],
  }),
  fireApiTrigger: endpoint({
    method: "POST",
    path: "/api/triggers/{id}/runs",
    summary: "Start a run through an API trigger (Authorization: Bearer <trigger token>), setting only allowed variables",
    params: z.object({ id: publicTriggerParam }),
    headers: z.object({ authorization: z.string().optional() }),
    body: z.strictObject({ variables: variablesSchema.optional() }),
    status: 201,
    response: runIdBody,
    errors: ["unauthorized", "trigger_disabled", "max_active_runs", "variable_not_allowed", "invalid_variable_type"],
    triggerToken: true,
  }),

  listTemplates: endpoint({
    method: "GET",
    path: "/api/templates",
    summary: "Connector block templates (templates/io) for the add-block menu, and the files that are not usable templates",
    status: 200,
    response: z.object({ templates: z.array(blockTemplateSchema), problems: z.array(z.object({ file: z.string(), message: z.string() })) }),
  }),
  workers: endpoint({
    method: "GET",
    path: "/api/workers",
    summary: "Live queue workers and job counts per queue, or which executor is in use",
    status: 200,
    response: workersResponseSchema,
  }),

  listConnections: endpoint({
    method: "GET",
    path: "/api/connections",
    summary: "The connections of sluice.yaml (secrets only as set / not set), the file's problem if it has one, and each kind's fields",
    status: 200,
    response: connectionsListingSchema,
  }),
  getConnection: endpoint({
    method: "GET",
    path: "/api/connections/{name}",
    summary: "One connection of sluice.yaml, secrets masked",
    params: z.object({ name: connectionParam }),
    status: 200,
    response: z.object({ connection: connectionViewSchema }),
    errors: ["connection_not_found"],
  }),
  putConnection: endpoint({
    method: "PUT",
    path: "/api/connections/{name}",
    summary: "Add or replace a connection (validated like sluice.yaml; comments kept; secrets not sent are kept). If-Match: the connection's version, or \"new\" to refuse an existing name",
    params: z.object({ name: connectionParam }),
    headers: ifMatchHeaders,
    body: connectionEditSchema,
    status: 200,
    response: z.object({ connection: connectionViewSchema, created: z.boolean() }),
    errors: ["invalid_connection", "stale_version", "already_exists"],
  }),
  deleteConnection: endpoint({
    method: "DELETE",
    path: "/api/connections/{name}",
    summary: "Remove a connection from sluice.yaml (If-Match: its version, optional)",
    params: z.object({ name: connectionParam }),
    headers: ifMatchHeaders,
    status: 200,
    response: z.object({ deleted: z.literal(true) }),
    errors: ["connection_not_found", "stale_version"],
  }),
  testConnection: endpoint({
    method: "POST",
    path: "/api/connections/{name}/test",
    summary: "Connect once (Postgres SELECT 1, DuckDB open, list one object, BigQuery dataset, HTTP HEAD): the saved connection, or `edit` unsaved",
    params: z.object({ name: connectionParam }),
    body: z.strictObject({ edit: connectionEditSchema.optional() }),
    status: 200,
    response: connectionTestSchema,
    errors: ["connection_not_found", "invalid_connection"],
  }),

  listRuns: endpoint({
    method: "GET",
    path: "/api/runs",
    summary: "Runs, newest first",
    query: z.object({
      pipeline: nameSchema.optional(),
      status: z.enum(RUN_STATES).optional(),
      limit: z.coerce.number().int().min(1).max(1000).optional(),
    }),
    status: 200,
    response: z.object({ runs: z.array(runJsonSchema) }),
  }),
  latestBlockRuns: endpoint({
    method: "GET",
    path: "/api/pipelines/{p}/latest-block-runs",
    summary: "Per block, its newest block run from whichever run, and the newest run holding its output: the notebook as last run",
    params: z.object({ p: pipelineParam }),
    status: 200,
    response: z.object({
      blocks: z.array(notebookBlockRunSchema),
      outputs: z.array(z.object({ block: z.string(), run_id: z.string(), ended_at: z.string().nullable(), rows: z.number().nullable() })),
    }),
  }),
  getRun: endpoint({
    method: "GET",
    path: "/api/runs/{id}",
    summary: "A run and its block runs (state, attempt, timings, rows)",
    params: z.object({ id: runParam }),
    status: 200,
    response: z.object({ run: runJsonSchema, blocks: z.array(blockRunJsonSchema) }),
    errors: ["run_not_found"],
  }),
  cancelRun: endpoint({
    method: "POST",
    path: "/api/runs/{id}/cancel",
    summary: "Cancel a run: 202 when its owner will stop it, 200 when it was ended here (its owner is gone)",
    params: z.object({ id: runParam }),
    status: 202,
    otherStatuses: [200],
    response: z.object({ cancelled: z.literal(true) }),
    errors: ["run_not_found", "run_finished"],
  }),
  retryRun: endpoint({
    method: "POST",
    path: "/api/runs/{id}/retry",
    summary: "Clear and re-run a finished run's failed, upstream_failed and cancelled blocks (or from_block and its downstream) in place",
    params: z.object({ id: runParam }),
    // A dynamic instance (`fetch[1]`) may be retried alone.
    body: z.strictObject({ from_block: blockRunParam.optional() }),
    status: 202,
    response: runIdBody,
    errors: ["run_not_found", "run_not_finished", "nothing_to_retry", "upstream_not_succeeded", "unknown_block"],
  }),
  rerunRun: endpoint({
    method: "POST",
    path: "/api/runs/{id}/rerun",
    summary: "Run again: a new run with the same logical date, data interval and variables",
    params: z.object({ id: runParam }),
    status: 201,
    response: runIdBody,
    errors: ["run_not_found"],
  }),
  runEvents: endpoint({
    method: "GET",
    path: "/api/runs/{id}/events",
    summary: "Server-sent events: a snapshot of the run, then state changes, log lines and progress; ends after the run ends",
    params: z.object({ id: runParam }),
    status: 200,
    response: null,
    stream: "text/event-stream",
  }),
  getLogs: endpoint({
    method: "GET",
    path: "/api/runs/{id}/blocks/{b}/logs",
    summary: "A block's log lines in a run, every attempt",
    params: z.object({ id: runParam, b: blockRunParam }),
    status: 200,
    response: z.object({ lines: z.array(logLineSchema) }),
  }),
  getOutputPage: endpoint({
    method: "GET",
    path: "/api/runs/{id}/blocks/{b}/output",
    summary: "A page of a block's output with its schema and column statistics",
    params: z.object({ id: runParam, b: blockRunParam }),
    query: z.object({ offset: z.coerce.number().int().min(0).default(0), limit: z.coerce.number().int().min(1).max(5000).default(200) }),
    status: 200,
    response: outputPageSchema,
    errors: ["output_not_found"],
  }),
  getColumnTopValues: endpoint({
    method: "GET",
    path: "/api/runs/{id}/blocks/{b}/output/columns/{col}/top",
    summary: "The most frequent values of one column of a block output",
    params: z.object({ id: runParam, b: blockRunParam, col: columnParam }),
    query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(10) }),
    status: 200,
    response: topValuesSchema,
    errors: ["output_not_found", "column_not_found"],
  }),
} satisfies Record<string, Endpoint>;

export type ApiContract = typeof apiContract;
export type EndpointName = keyof ApiContract;

// ---------------------------------------------------------------------------------------------------
// Types derived from the contract

type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;
type Sent<S> = S extends z.ZodType ? z.input<S> : undefined;

/** The success body of an endpoint (what the client receives). */
export type ResponseOf<N extends EndpointName> = ApiContract[N]["response"] extends z.ZodType ? z.output<ApiContract[N]["response"]> : null;
/** The body an endpoint accepts, as a caller writes it (defaults not yet applied). */
export type RequestBodyOf<N extends EndpointName> = ApiContract[N] extends { body: infer B } ? Sent<B> : undefined;

/** What a handler receives after parsing: typed params, query, headers and body. */
export interface ParsedInput<E extends Endpoint> {
  params: E extends { params: infer P } ? Parsed<P> : Record<string, never>;
  query: E extends { query: infer Q } ? Parsed<Q> : Record<string, never>;
  headers: E extends { headers: infer H } ? Parsed<H> : Record<string, never>;
  body: E extends { body: infer B } ? Parsed<B> : undefined;
}

/** What the service behind an endpoint receives. */
export type InputOf<N extends EndpointName> = ParsedInput<ApiContract[N]>;

/** `"/api/runs/{id}/blocks/{b}"` → `{ id: string; b: string }`: the path parameters Next passes a route. */
export type PathParams<P extends string> = P extends `${string}{${infer Name}}${infer Rest}` ? { [K in Name]: string } & PathParams<Rest> : unknown;

/** The JSON error body, as every failing call answers. */
export type ApiErrorBody = z.output<typeof errorBodySchema>;
export type PipelineListItem = z.output<typeof pipelineListItemSchema>;
export type PipelineDocument = z.output<typeof pipelineDocumentSchema>;
export type RunJson = z.output<typeof runJsonSchema>;
export type BlockRunJson = z.output<typeof blockRunJsonSchema>;
export type NotebookBlockRun = z.output<typeof notebookBlockRunSchema>;
export type OutputPage = z.output<typeof outputPageSchema>;
export type ColumnStats = z.output<typeof columnStatsSchema>;
export type TopValues = z.output<typeof topValuesSchema>;
export type TriggerJson = z.output<typeof triggerJsonSchema>;
export type TriggerFieldError = z.output<typeof triggerFieldErrorSchema>;
export type SchedulePreview = z.output<typeof schedulePreviewSchema>;
export type BackfillJson = z.output<typeof backfillJsonSchema>;
export type BlockTemplateFile = z.output<typeof blockTemplateSchema>;
export type WorkerRow = z.output<typeof workerRowSchema>;
export type QueueRow = z.output<typeof queueRowSchema>;
export type WorkersResponse = z.output<typeof workersResponseSchema>;
export type ConnectionViewJson = z.output<typeof connectionViewSchema>;
export type ConnectionEditJson = z.output<typeof connectionEditSchema>;
export type ConnectionsListingJson = z.output<typeof connectionsListingSchema>;
export type ConnectionFieldSpecJson = z.output<typeof connectionFieldSpecSchema>;
export type ConnectionTestJson = z.output<typeof connectionTestSchema>;
