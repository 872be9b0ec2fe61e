/**
 * `pipeline.yaml`, version 1: the zod schema of the file format, the loader that turns text
 * into a `Pipeline` with every error located (file, key path, line, column, block), and the writer that
 * turns a `Pipeline` back into the same clean, hand-editable format. The file is snake_case with
 * durations as text (`10m`); the model is camelCase with milliseconds.
 */
import { Document, isMap, isScalar, isSeq, visit } from "yaml";
import { z } from "zod";
import { describeByteSize, formatByteSize, parseByteSize } from "./byte-size";
import { formatDuration, parseDuration } from "./duration";
import { messageOf, UserError } from "./errors";
import type { PathSegment } from "./key-path";
import {
  BLOCK_LANGUAGES,
  BLOCK_TYPES,
  DEFAULT_POKE_INTERVAL_MS,
  SENSOR_MODES,
  DEFAULT_RETRY_POLICY,
  MIN_BLOCK_MEMORY_BYTES,
  type BlockSpec,
  type Pipeline,
  type RetryPolicy,
  type Variables,
} from "./model";
import { findInvalidVariableValue, findPipelineIssues, isVariableValue } from "./pipeline-checks";
import { notifyRuleSchema } from "./notify";
import { TRIGGER_RULES } from "./trigger-rules";
import { describeValue, loadYaml, locatedError, schemaErrors, sortByPosition, yamlErrorMap, type LoadedYaml } from "./yaml-file";

export { validatePipeline } from "./pipeline-checks";

/** A duration as written in the file: `"5s"`, `"10m"`, … or a number of milliseconds. */
const durationSchema = z
  .union([z.number(), z.string()], {
    error: (issue) =>
      issue.input === undefined ? "missing required key" : `expected a duration such as 500ms, 5s, 10m, 1h or 1d, got ${describeValue(issue.input)}`,
  })
  .transform((value, ctx) => {
    try {
      return parseDuration(value);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: messageOf(error), input: value });
      return z.NEVER;
    }
  })
  .meta({ title: "duration (500ms, 5s, 10m, 1h, 1d)" });

/** A memory size as written in the file (`512m`, `2g`), in bytes, at least what a block process needs to start. */
const memorySchema = z
  .union([z.number(), z.string()], {
    error: (issue) => (issue.input === undefined ? "missing required key" : `expected a size such as 512m or 2g, got ${describeValue(issue.input)}`),
  })
  .transform((value, ctx) => {
    try {
      const bytes = parseByteSize(value);
      if (bytes >= MIN_BLOCK_MEMORY_BYTES) return bytes;
      ctx.addIssue({ code: "custom", message: `${describeByteSize(bytes)} is below the ${formatByteSize(MIN_BLOCK_MEMORY_BYTES)} a block process needs to start`, input: value });
    } catch (error) {
      ctx.addIssue({ code: "custom", message: messageOf(error), input: value });
    }
    return z.NEVER;
  })
  .meta({ title: "size (512m, 2g)" });

const retriesSchema = z.strictObject({
  /** Extra attempts after the first one. */
  count: z
    .int({ error: (issue) => (issue.input === undefined ? undefined : `expected a whole number, got ${describeValue(issue.input)}`) })
    .min(0)
    .optional()
    .meta({ description: "Extra attempts after the first one.", default: DEFAULT_RETRY_POLICY.count }),
  delay: durationSchema.optional().meta({ description: "The wait before the first retry.", default: formatDuration(DEFAULT_RETRY_POLICY.delayMs) }),
  backoff: z
    .enum(["constant", "exponential"])
    .optional()
    .meta({ description: "`constant` waits `delay` every time; `exponential` doubles it on each retry (delay × 2^(attempt−1)).", default: DEFAULT_RETRY_POLICY.backoff }),
  max_delay: durationSchema.optional().meta({ description: "The longest wait between two attempts.", default: formatDuration(DEFAULT_RETRY_POLICY.maxDelayMs) }),
});

const blockSchema = z.strictObject({
  name: z.string().meta({ description: "Unique in the pipeline; lower-case letters, digits and `_`. Also the block's file stem and, in SQL, its table name." }),
  type: z.enum(BLOCK_TYPES).meta({
    description:
      "`loader` (no input, returns a table), `transformer` (input → table), `exporter` (input → nothing), `sensor` (returns true once its condition holds; poked until then), `condition` (returns a boolean, or SQL one boolean cell; gates the blocks listing it in `conditions:`).",
  }),
  language: z.enum(BLOCK_LANGUAGES).meta({ description: "`ts`: the block is `<name>.ts`; `sql`: `<name>.sql`, a DuckDB query." }),
  upstream: z
    .array(z.string())
    .nullish()
    .meta({ description: "Blocks that must succeed first. A TS block gets the first one's output as `input` and each as `ctx.inputs.<name>`; a SQL block reads each as a table of its name.", default: [] }),
  retries: retriesSchema.nullish().meta({ description: "Retries of a failed attempt. Timeouts and operational errors (network, database down) are retried; user errors such as bad SQL are not." }),
  timeout: durationSchema.nullish().meta({ description: "An attempt running longer is stopped and fails (retried per `retries`). For a sensor: all its pokes together.", default: "1h (the server's default)" }),
  connection: z.string().min(1).nullish().meta({ description: "SQL blocks: run the query in this `sluice.yaml` connection (`kind: postgres` or `duckdb`) instead of the run's DuckDB; the upstreams it names are staged there." }),
  queue: z.string().min(1).nullish().meta({ description: "With the queue executor (`SLUICE_EXECUTOR=queue`): the queue this block's jobs go to, served by `sluice worker --queue <name>`.", default: "default" }),
  /** TypeScript blocks: the most memory the block's process may use (`512m`, `2g`). */
  memory: memorySchema.nullish().meta({
    description: "TypeScript blocks: the most memory the block's process may use; above it the block fails with `memory_limit` (retried per `retries`), and the server and other blocks go on.",
    default: "2g, or SLUICE_BLOCK_MEMORY",
  }),
  /** Sensors: time between checks of the condition. */
  poke_interval: durationSchema.nullish().meta({ description: "Sensors: time between checks of the condition.", default: formatDuration(DEFAULT_POKE_INTERVAL_MS) }),
  /** Sensors: a timeout skips the sensor and what it gates instead of failing them. */
  soft_fail: z.boolean().nullish().meta({ description: "Sensors: a timeout skips the sensor and what it gates instead of failing them.", default: false }),
  /** Sensors: whether a sensor keeps its parallel slot between pokes. */
  mode: z.enum(SENSOR_MODES).nullish().meta({
    description:
      "Sensors: `poke` keeps the sensor's parallel slot while it waits between checks; `reschedule` gives the slot back between checks (the block run stays `running`, waiting for its next check at now + poke_interval), so many long-waiting sensors cannot starve the other blocks. `timeout` still bounds all checks together.",
    default: "poke",
  }),
  trigger_rule: z.enum(TRIGGER_RULES).nullish().meta({
    description:
      "When the block runs given its upstreams' states, as in Airflow: `all_success`, `all_failed`, `all_done` (e.g. a cleanup after a failure), `all_skipped`, `one_success`, `one_failed`, `one_done`, `none_failed`, `none_failed_min_one_success` (the join after a branch), `none_skipped`, `always`. A block that cannot run under its rule ends `skipped` or `upstream_failed`; the run's state follows its last blocks (leaves).",
    default: "all_success",
  }),
  conditions: z.array(z.string()).nullish().meta({
    description: "Condition blocks (`type: condition`, TS returning a boolean or SQL returning one boolean cell) run first; if any is false this block is `skipped` (reason recorded) and the skip flows on per the downstream trigger rules.",
    default: [],
  }),
  dynamic: z.boolean().nullish().meta({
    description: "Each row of this block's output becomes one instance of each direct downstream block (`child[0]`, `child[1]`…), run in parallel with the row as `ctx.item` (`{{ item.x }}` in SQL). No rows: the downstream blocks are skipped.",
    default: false,
  }),
  dynamic_key: z.string().min(1).nullish().meta({ description: "With `dynamic`: the column whose values name the instances (`child[2020-10]`); letters, digits, `_` and `-`, unique per row." }),
  reduce: z.boolean().nullish().meta({
    description: "On a direct downstream of a dynamic block: its instances' outputs are gathered into one table (columns unified, rows in instance order), the input of the blocks after it.",
    default: false,
  }),
}).superRefine((block, ctx) => {
  // SQL blocks run in DuckDB inside the server process, where no per-block limit applies: refuse rather than ignore.
  if (block.memory != null && block.language === "sql") {
    ctx.addIssue({ code: "custom", path: ["memory"], input: block.memory, message: "applies to TypeScript blocks only (SQL blocks run in DuckDB inside the server)" });
  }
});

/** Callback files by name (`alert_team` is `alert_team.ts` in the pipeline folder). */
const callbackListSchema = z.array(z.string().regex(/^[a-z0-9_]+$/, { error: "a callback is a file name without .ts: lower-case letters, digits and _" })).nullish();

const variablesSchema = z.record(z.string(), z.unknown()).superRefine((variables, ctx) => {
  for (const [key, value] of Object.entries(variables)) {
    const bad = findInvalidVariableValue(value, [key]);
    if (bad) ctx.addIssue({ code: "custom", message: bad.message, path: bad.path, input: value });
  }
});

/**
 * The file format, strict: an unknown key anywhere is an error naming its path (a typo such as
 * `upstrem:` must not silently mean "no upstream"). Empty values (`upstream:` with nothing after it)
 * read as the default.
 */
export const pipelineFileSchema = z.strictObject({
  version: z.literal(1, {
    error: (issue) =>
      issue.input === undefined
        ? "missing required key (write version: 1)"
        : `unsupported version ${JSON.stringify(issue.input) ?? String(issue.input)}; this Sluice reads version: 1`,
  }).meta({ description: "The file format's version: write `version: 1`." }),
  name: z.string().meta({ description: "The pipeline's name: lower-case letters, digits and `_`." }),
  description: z.string().nullish().meta({ description: "Free text shown in the editor and on the pipelines list." }),
  variables: variablesSchema.nullish().meta({
    description: "Defaults of the variables blocks read (`ctx.variables.x`, `{{ variables.x }}` in SQL): any JSON-like YAML value. A trigger, then a run, may override them.",
  }),
  /** Names of variables whose values are secrets (hidden in logs, errors, events and run records). */
  secret_variables: z
    .array(z.string().min(1))
    .nullish()
    .meta({ description: "Names of variables whose values are secrets: hidden in logs, errors, events and run records." }),
  blocks: z.array(blockSchema).nullish().meta({ description: "The blocks, in any order (the upstreams decide the order they run in); see below.", default: [] }),
  notify: z
    .array(notifyRuleSchema)
    .nullish()
    .meta({ description: "Notifications of every run of the pipeline: `[{ on: [failure, retry], channel: team_slack }]`, channels from `sluice.yaml`. A notification that cannot be delivered is logged and retried; it never fails the run." }),
  on_success: callbackListSchema.meta({ description: "Callback files (`<name>.ts` beside the blocks, default-exporting `(ctx: CallbackContext) => …`) run once a run succeeds." }),
  on_failure: callbackListSchema.meta({ description: "Callback files run once a run fails; `ctx.error` is the failed block's error." }),
  on_retry: callbackListSchema.meta({ description: "Callback files run each time a block attempt fails and will be retried." }),
});

/** `pipeline.yaml` as written by hand, before defaults (the schema's input type). */
export type PipelineFile = z.input<typeof pipelineFileSchema>;

const TOP_KEYS = Object.keys(pipelineFileSchema.shape);
const BLOCK_KEYS = Object.keys(blockSchema.shape);
const RETRY_KEYS = Object.keys(retriesSchema.shape);

function knownKeys(path: readonly PathSegment[]): readonly string[] {
  if (path.length === 0) return TOP_KEYS;
  if (path.length === 2 && path[0] === "blocks") return BLOCK_KEYS;
  if (path.length === 3 && path[0] === "blocks" && path[2] === "retries") return RETRY_KEYS;
  return [];
}

function blockAt(value: unknown): (path: readonly PathSegment[]) => string | undefined {
  return (path) => {
    if (path[0] !== "blocks" || typeof path[1] !== "number") return undefined;
    if (typeof value !== "object" || value === null || !("blocks" in value) || !Array.isArray(value.blocks)) return undefined;
    const block: unknown = value.blocks[path[1]];
    if (typeof block !== "object" || block === null || !("name" in block)) return undefined;
    return typeof block.name === "string" ? block.name : undefined;
  };
}

/** The outcome of checking a `pipeline.yaml` without throwing, for editors that list every problem. */
export interface PipelineLintResult {
  /**
   * The pipeline when the file matches the schema, even if semantic errors remain (so the editor can
   * still draw the graph); `null` when the YAML or the schema is broken.
   */
  pipeline: Pipeline | null;
  /** Every problem found, in file order within each stage; empty when the pipeline is valid. */
  errors: UserError[];
}

/**
 * Every problem in a `pipeline.yaml`, each a located `UserError`. Stages stop at the first failing one:
 * YAML syntax (one error), then the schema (all issues), then semantic checks (all issues).
 */
export function lintPipelineYaml(text: string, file: string): PipelineLintResult {
  let loaded: LoadedYaml;
  try {
    loaded = loadYaml(text, file);
  } catch (error) {
    if (error instanceof UserError) return { pipeline: null, errors: [error] };
    throw error;
  }
  const options = { knownKeys, blockAt: blockAt(loaded.value) };
  const parsed = pipelineFileSchema.safeParse(loaded.value, { error: yamlErrorMap });
  if (!parsed.success) {
    if (loaded.value === null || loaded.value === undefined) {
      return { pipeline: null, errors: [locatedError(loaded, "invalid_value", [], "the file is empty; a pipeline needs at least version: 1, name and blocks")] };
    }
    return { pipeline: null, errors: schemaErrors(parsed.error.issues, loaded, options) };
  }
  const pipeline = fromFileFormat(parsed.data);
  const issues = findPipelineIssues(pipeline, (path) => `line ${loaded.locate(path).line}`);
  return { pipeline, errors: sortByPosition(issues.map((issue) => locatedError(loaded, issue.code, issue.path, issue.message, options))) };
}

/**
 * Parse and validate a `pipeline.yaml`. `file` is only used in messages and locations (the caller
 * reads the file; lib/core does no IO).
 *
 * @throws UserError — the first problem `lintPipelineYaml` finds — with code `invalid_yaml`,
 *   `unknown_key`, `invalid_value`, `duplicate_block`, `missing_upstream` or `cycle` and a location
 *   `{file, path, line, column, block}`; the message starts with `file:line:column:`.
 */
export function parsePipelineYaml(text: string, file: string): Pipeline {
  const { pipeline, errors } = lintPipelineYaml(text, file);
  const [first] = errors;
  if (first) throw first;
  if (!pipeline) throw new UserError("invalid_value", `${file}: not a pipeline`, { file });
  return pipeline;
}

type ParsedFile = z.output<typeof pipelineFileSchema>;
type ParsedBlock = NonNullable<ParsedFile["blocks"]>[number];

function fromFileFormat(file: ParsedFile): Pipeline {
  const variables: Variables = {};
  for (const [key, value] of Object.entries(file.variables ?? {})) {
    if (isVariableValue(value)) variables[key] = value;
  }
  return {
    version: 1,
    name: file.name,
    description: file.description ?? "",
    variables,
    ...(file.secret_variables && file.secret_variables.length > 0 ? { secretVariables: [...new Set(file.secret_variables)] } : {}),
    blocks: (file.blocks ?? []).map(fromFileBlock),
    ...(file.notify && file.notify.length > 0 ? { notify: file.notify.map((rule) => ({ on: [...new Set(rule.on)], channel: rule.channel })) } : {}),
    ...(file.on_success?.length || file.on_failure?.length || file.on_retry?.length
      ? { callbacks: { onSuccess: file.on_success ?? [], onFailure: file.on_failure ?? [], onRetry: file.on_retry ?? [] } }
      : {}),
  };
}

function fromFileBlock(block: ParsedBlock): BlockSpec {
  const retries: RetryPolicy = {
    count: block.retries?.count ?? DEFAULT_RETRY_POLICY.count,
    delayMs: block.retries?.delay ?? DEFAULT_RETRY_POLICY.delayMs,
    backoff: block.retries?.backoff ?? DEFAULT_RETRY_POLICY.backoff,
    maxDelayMs: block.retries?.max_delay ?? DEFAULT_RETRY_POLICY.maxDelayMs,
  };
  return {
    name: block.name,
    type: block.type,
    language: block.language,
    upstream: block.upstream ?? [],
    retries,
    timeoutMs: block.timeout ?? null,
    connection: block.connection ?? null,
    queue: block.queue ?? null,
    ...(block.memory != null ? { memoryBytes: block.memory } : {}),
    ...(block.poke_interval != null ? { pokeIntervalMs: block.poke_interval } : {}),
    ...(block.soft_fail != null ? { softFail: block.soft_fail } : {}),
    ...(block.mode != null ? { mode: block.mode } : {}),
    ...(block.trigger_rule != null ? { triggerRule: block.trigger_rule } : {}),
    ...(block.conditions != null && block.conditions.length > 0 ? { conditions: block.conditions } : {}),
    ...(block.dynamic != null ? { dynamic: block.dynamic } : {}),
    ...(block.dynamic_key != null ? { dynamicKey: block.dynamic_key } : {}),
    ...(block.reduce != null ? { reduce: block.reduce } : {}),
  };
}

function isDefaultRetryPolicy(policy: RetryPolicy): boolean {
  return (
    policy.count === DEFAULT_RETRY_POLICY.count &&
    policy.delayMs === DEFAULT_RETRY_POLICY.delayMs &&
    policy.backoff === DEFAULT_RETRY_POLICY.backoff &&
    policy.maxDelayMs === DEFAULT_RETRY_POLICY.maxDelayMs
  );
}

/** A block in file format, keys in the order people read them, defaults left out (`yaml-edit.ts` diffs two of these). */
export function toFileBlock(block: BlockSpec): Record<string, unknown> {
  const out: Record<string, unknown> = { name: block.name, type: block.type, language: block.language, upstream: [...block.upstream] };
  if (!isDefaultRetryPolicy(block.retries)) {
    out.retries = {
      count: block.retries.count,
      delay: formatDuration(block.retries.delayMs),
      backoff: block.retries.backoff,
      max_delay: formatDuration(block.retries.maxDelayMs),
    };
  }
  if (block.timeoutMs !== null) out.timeout = formatDuration(block.timeoutMs);
  if (block.connection !== null) out.connection = block.connection;
  if (block.queue !== null) out.queue = block.queue;
  if (block.memoryBytes !== undefined) out.memory = formatByteSize(block.memoryBytes);
  if (block.pokeIntervalMs !== undefined) out.poke_interval = formatDuration(block.pokeIntervalMs);
  if (block.softFail !== undefined) out.soft_fail = block.softFail;
  if (block.mode !== undefined) out.mode = block.mode;
  if (block.triggerRule !== undefined) out.trigger_rule = block.triggerRule;
  if (block.conditions !== undefined && block.conditions.length > 0) out.conditions = [...block.conditions];
  if (block.dynamic !== undefined) out.dynamic = block.dynamic;
  if (block.dynamicKey !== undefined) out.dynamic_key = block.dynamicKey;
  if (block.reduce !== undefined) out.reduce = block.reduce;
  return out;
}

/**
 * `pipeline.yaml` text for a pipeline, in the file format people write by hand: snake_case keys,
 * durations as `10m`, `upstream` and `retries` on one line, a blank line between blocks, and defaults
 * left out (empty description and variables, default retries, no timeout, connection or queue).
 * `parsePipelineYaml(serializePipeline(p))` deep-equals `p` for any valid `p`.
 * Comments in an existing file are not kept (the editor rewrites the whole file).
 *
 * @throws UserError when a duration is not a whole number of milliseconds ≥ 0.
 */
export function serializePipeline(pipeline: Pipeline): string {
  const file: Record<string, unknown> = { version: 1, name: pipeline.name };
  if (pipeline.description !== "") file.description = pipeline.description;
  if (Object.keys(pipeline.variables).length > 0) file.variables = pipeline.variables;
  if (pipeline.secretVariables && pipeline.secretVariables.length > 0) file.secret_variables = [...pipeline.secretVariables];
  file.blocks = pipeline.blocks.map(toFileBlock);
  if (pipeline.notify && pipeline.notify.length > 0) file.notify = pipeline.notify.map((rule) => ({ on: [...rule.on], channel: rule.channel }));
  if (pipeline.callbacks?.onSuccess.length) file.on_success = [...pipeline.callbacks.onSuccess];
  if (pipeline.callbacks?.onFailure.length) file.on_failure = [...pipeline.callbacks.onFailure];
  if (pipeline.callbacks?.onRetry.length) file.on_retry = [...pipeline.callbacks.onRetry];

  const doc = new Document(file);
  // Short lists of plain values read best on one line: `months: [10, 11, 12]`.
  const variables = doc.get("variables", true);
  if (isMap(variables)) {
    visit(variables, {
      Seq(_, seq) {
        if (seq.items.length <= 20 && seq.items.every((item) => isScalar(item))) seq.flow = true;
      },
    });
  }
  const secretVariables = doc.get("secret_variables", true);
  if (isSeq(secretVariables)) secretVariables.flow = true;
  const blocks = doc.get("blocks", true);
  if (isSeq(blocks)) {
    blocks.items.forEach((item, index) => {
      if (!isMap(item)) return;
      if (index > 0) item.spaceBefore = true;
      const upstream = item.get("upstream", true);
      if (isSeq(upstream)) upstream.flow = true;
      const conditions = item.get("conditions", true);
      if (isSeq(conditions)) conditions.flow = true;
      const retries = item.get("retries", true);
      if (isMap(retries)) retries.flow = true;
    });
  }
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}
