/**
 * Semantic checks of a pipeline: what a schema cannot say (names unique and well-formed, upstreams that
 * exist, no cycles). They run on the plain `Pipeline`, so the same rules guard a file being loaded and a
 * pipeline edited in memory (`validatePipeline` before every save).
 */
import { UserError, type ErrorLocation } from "./errors";
import { findFlowIssues } from "./flow-checks";
import { findCycle } from "./graph/find-cycle";
import { formatKeyPath, type PathSegment } from "./key-path";
import { BLOCK_LANGUAGES, BLOCK_TYPES, NAME_PATTERN, type Pipeline, type VariableValue } from "./model";
import { tablesReadBy } from "./sql-tables";
import { didYouMean } from "./suggest";

/** Codes of the problems `findPipelineIssues` reports (a subset of the `UserError` codes). */
export type PipelineIssueCode = "invalid_value" | "duplicate_block" | "missing_upstream" | "cycle";

/** One problem, located by key path; `parsePipelineYaml` turns the path into a line. */
export interface PipelineIssue {
  code: PipelineIssueCode;
  message: string;
  path: PathSegment[];
  block?: string;
}

/**
 * How a message refers to a place in the pipeline. The default prints the key path
 * (`blocks[3].name`); the YAML loader passes one that prints `line 12`.
 */
export type DescribePlace = (path: readonly PathSegment[]) => string;

const describeByPath: DescribePlace = (path) => formatKeyPath(path);

/**
 * Every semantic problem, in file order: pipeline name, then per block its name, duplicates, type and
 * language, settings and upstream list, then one cycle (self-references are reported per block and not
 * again as a cycle). An empty list means the pipeline is valid.
 */
export function findPipelineIssues(pipeline: Pipeline, describe: DescribePlace = describeByPath): PipelineIssue[] {
  const issues: PipelineIssue[] = [];
  const add = (code: PipelineIssueCode, path: PathSegment[], message: string, block?: string): void => {
    issues.push(block === undefined ? { code, message, path } : { code, message, path, block });
  };

  if (!NAME_PATTERN.test(pipeline.name)) {
    add("invalid_value", ["name"], `pipeline name "${pipeline.name}" must be lowercase letters, digits and _ only ([a-z0-9_]+)`);
  }
  for (const [key, value] of Object.entries(pipeline.variables)) {
    const bad = findInvalidVariableValue(value, ["variables", key]);
    if (bad) add("invalid_value", bad.path, bad.message);
  }

  const firstIndex = new Map<string, number>();
  pipeline.blocks.forEach((block, index) => {
    if (!firstIndex.has(block.name)) firstIndex.set(block.name, index);
  });
  const names = [...firstIndex.keys()];

  pipeline.blocks.forEach((block, i) => {
    const at = (...rest: PathSegment[]): PathSegment[] => ["blocks", i, ...rest];
    const name = block.name;
    if (!NAME_PATTERN.test(name)) {
      add("invalid_value", at("name"), `block name "${name}" must be lowercase letters, digits and _ only ([a-z0-9_]+); it is also the file name and the SQL table name`, name);
    }
    const first = firstIndex.get(name) ?? i;
    if (first !== i) {
      add("duplicate_block", at("name"), `block "${name}" is defined twice: ${describe(["blocks", first, "name"])} and ${describe(at("name"))}`, name);
    }
    if (!BLOCK_TYPES.includes(block.type)) add("invalid_value", at("type"), `block type must be one of ${BLOCK_TYPES.join(", ")}`, name);
    if (!BLOCK_LANGUAGES.includes(block.language)) add("invalid_value", at("language"), `block language must be one of ${BLOCK_LANGUAGES.join(", ")}`, name);

    const { retries } = block;
    if (!Number.isSafeInteger(retries.count) || retries.count < 0) add("invalid_value", at("retries", "count"), `retries.count must be a whole number ≥ 0`, name);
    if (!isWholeMs(retries.delayMs)) add("invalid_value", at("retries", "delay"), `retries.delay must be a duration ≥ 0`, name);
    if (!isWholeMs(retries.maxDelayMs)) add("invalid_value", at("retries", "max_delay"), `retries.max_delay must be a duration ≥ 0`, name);
    if (retries.backoff !== "constant" && retries.backoff !== "exponential") add("invalid_value", at("retries", "backoff"), `retries.backoff must be constant or exponential`, name);
    if (isWholeMs(retries.delayMs) && isWholeMs(retries.maxDelayMs) && retries.maxDelayMs < retries.delayMs) {
      add("invalid_value", at("retries", "max_delay"), `retries.max_delay must not be shorter than retries.delay`, name);
    }
    if (block.timeoutMs !== null && !(isWholeMs(block.timeoutMs) && block.timeoutMs > 0)) {
      add("invalid_value", at("timeout"), `timeout must be a duration longer than 0 (or left out for the default)`, name);
    }
    if (block.connection === "") add("invalid_value", at("connection"), `connection must not be empty; leave it out instead`, name);
    else if (block.connection !== null && block.language !== "sql") {
      add("invalid_value", at("connection"), `connection is for SQL blocks; TypeScript block "${name}" opens connections itself through ctx.io`, name);
    }
    if (block.queue === "") add("invalid_value", at("queue"), `queue must not be empty; leave it out instead`, name);
    // Only the sensor loop reads these keys: on another block they would be silently ignored, so the author
    // would believe a block polls or soft-fails when it never does.
    if (block.type !== "sensor") {
      if (block.pokeIntervalMs !== undefined) add("invalid_value", at("poke_interval"), `block "${name}": poke_interval applies to sensors only (its type is ${block.type})`, name);
      if (block.softFail !== undefined) add("invalid_value", at("soft_fail"), `block "${name}": soft_fail applies to sensors only (its type is ${block.type})`, name);
      if (block.mode !== undefined) add("invalid_value", at("mode"), `block "${name}": mode applies to sensors only (its type is ${block.type})`, name);
    } else if (block.pokeIntervalMs !== undefined && !(isWholeMs(block.pokeIntervalMs) && block.pokeIntervalMs > 0)) {
      add("invalid_value", at("poke_interval"), `block "${name}": poke_interval must be a duration longer than 0`, name);
    }

    const listed = new Set<string>();
    block.upstream.forEach((up, j) => {
      if (up === name) {
        add("cycle", at("upstream", j), `block "${name}" lists itself as upstream`, name);
      } else if (!firstIndex.has(up)) {
        add("missing_upstream", at("upstream", j), `block "${name}" lists upstream "${up}", which is not a block of this pipeline${didYouMean(up, names)}`, name);
      } else if (listed.has(up)) {
        add("invalid_value", at("upstream", j), `block "${name}" lists upstream "${up}" twice`, name);
      }
      listed.add(up);
    });
  });

  const cycle = findCycle(pipeline.blocks.map((b) => ({ name: b.name, upstream: b.upstream.filter((u) => u !== b.name) })));
  if (cycle) {
    // Point at the edge that closes the cycle: the first block's upstream entry naming the last one.
    const head = cycle[0];
    const index = firstIndex.get(head) ?? 0;
    const entry = pipeline.blocks[index].upstream.indexOf(cycle[cycle.length - 2]);
    add("cycle", ["blocks", index, "upstream", entry], `the blocks form a cycle: ${cycle.join(" → ")}`, head);
  }
  issues.push(...findFlowIssues(pipeline));
  return issues;
}

/**
 * Throws the first problem `findPipelineIssues` finds, as a `UserError` whose location carries the key
 * path and block. Why a separate entry point: the editor and the API validate an edited pipeline before
 * writing it, where there is no YAML and so no line numbers.
 *
 * @throws UserError with code `invalid_value`, `duplicate_block`, `missing_upstream` or `cycle`.
 */
export function validatePipeline(pipeline: Pipeline, file?: string): void {
  const [first] = findPipelineIssues(pipeline);
  if (!first) return;
  const location: ErrorLocation = { path: formatKeyPath(first.path) };
  if (file !== undefined) location.file = file;
  if (first.block !== undefined) location.block = first.block;
  throw new UserError(first.code, `${formatKeyPath(first.path)}: ${first.message}`, location);
}

/**
 * The first part of a variable value that JSON cannot carry (NaN, Infinity, a Date, a function…),
 * because variables travel through the API, the metadata store and worker messages as JSON.
 */
export function findInvalidVariableValue(value: unknown, path: PathSegment[]): { path: PathSegment[]; message: string } | undefined {
  if (value === null || typeof value === "string" || typeof value === "boolean") return undefined;
  if (typeof value === "number") {
    return Number.isFinite(value) ? undefined : { path, message: `variable value ${value} is not a finite number` };
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const bad = findInvalidVariableValue(value[i], [...path, i]);
      if (bad) return bad;
    }
    return undefined;
  }
  if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      const bad = findInvalidVariableValue(item, [...path, key]);
      if (bad) return bad;
    }
    return undefined;
  }
  return { path, message: `variable values must be strings, numbers, booleans, null, lists or maps (got ${typeof value})` };
}

/** Type guard for a JSON-safe variable value (see `findInvalidVariableValue`). */
export function isVariableValue(value: unknown): value is VariableValue {
  return findInvalidVariableValue(value, []) === undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function isWholeMs(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

// ---------------------------------------------------------------------------------------------------
// Checks before a run: what the file format allows but a run would fail on (or silently get wrong).

/** Problems `findRunIssues` reports; each names the block and says how to fix it. */
export type RunIssueCode = "no_upstream" | "unknown_table" | "unknown_connection";

export interface RunIssue {
  code: RunIssueCode;
  block: string;
  message: string;
}

/** What the checks need besides the pipeline: block code by block name, and the connections `sluice.yaml` defines. */
export interface RunCheckInput {
  /** SQL of the blocks to check (blocks missing here are not checked for tables). */
  code: Readonly<Record<string, string>>;
  /** `file`: where `sluice.yaml` is (or would be), for the message; `names`: its connections. Absent: not checked. */
  connections?: { file: string; names: readonly string[] };
}

/** Block types whose code receives an input table: without an upstream it gets none. */
const NEEDS_INPUT = new Set(["transformer", "exporter"]);

/**
 * The problems of `blocks` (default: every block) that would make a run fail or read the wrong data:
 * a transformer or exporter without an upstream (its `input` would be undefined); a SQL block reading a
 * table that is not one of its upstreams (in the run's DuckDB only upstreams are guaranteed to exist, and
 * another block's table would be read without waiting for it); a `connection:` that `sluice.yaml` does not
 * define. A SQL block with `connection:` runs in that database, where any of its tables may be read: there
 * only a table named like another block of the pipeline (not staged, since it is not an upstream) is reported.
 */
export function findRunIssues(pipeline: Pipeline, input: RunCheckInput, blocks?: readonly string[]): RunIssue[] {
  const issues: RunIssue[] = [];
  const names = new Set(pipeline.blocks.map((b) => b.name));
  for (const block of pipeline.blocks) {
    if (blocks && !blocks.includes(block.name)) continue;
    const name = block.name;
    if (NEEDS_INPUT.has(block.type) && block.upstream.length === 0) {
      issues.push({ code: "no_upstream", block: name, message: `block "${name}" is ${block.type === "exporter" ? "an exporter" : "a transformer"} without an upstream, so it has no input; add an upstream (or make it a loader)` });
    }
    const { connections } = input;
    if (block.connection !== null && connections && !connections.names.includes(block.connection)) {
      const known = connections.names.length > 0 ? `known: ${connections.names.join(", ")}` : "it defines none";
      issues.push({
        code: "unknown_connection",
        block: name,
        message: `block "${name}" uses connection "${block.connection}", which ${connections.file} does not define (${known})${didYouMean(block.connection, connections.names)}`,
      });
    }
    const sql = input.code[name];
    if (block.language !== "sql" || sql === undefined) continue;
    const upstreams = new Set(block.upstream.map((u) => u.toLowerCase()));
    for (const table of tablesReadBy(sql)) {
      if (upstreams.has(table.toLowerCase())) continue;
      // In a connection's database any of its tables may be read: only another block's name is a sure mistake.
      if (block.connection !== null && !names.has(table)) continue;
      const listed = block.upstream.length > 0 ? `its upstreams are ${block.upstream.join(", ")}` : "it has no upstreams";
      const fix = names.has(table) ? `; add "${table}" as an upstream` : didYouMean(table, block.upstream);
      issues.push({ code: "unknown_table", block: name, message: `SQL block "${name}" reads table "${table}", which is not one of its upstreams (${listed})${fix}` });
    }
  }
  return issues;
}

/**
 * Refuses a run whose blocks `findRunIssues` faults, with every problem in one message.
 *
 * @throws UserError with the first issue's code and block.
 */
export function assertRunnable(pipeline: Pipeline, input: RunCheckInput, blocks?: readonly string[]): void {
  const issues = findRunIssues(pipeline, input, blocks);
  const [first] = issues;
  if (!first) return;
  const message = issues.length === 1 ? first.message : `${issues.length} problems: ${issues.map((i) => i.message).join("; ")}`;
  throw new UserError(first.code, `pipeline "${pipeline.name}" cannot run: ${message}`, { block: first.block });
}
