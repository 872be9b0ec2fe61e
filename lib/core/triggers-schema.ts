/**
 * `pipelines/<p>/triggers.yaml`, version 1: the source of truth for a pipeline's
 * triggers, hand-editable and written by the triggers page. The zod schema, a loader whose errors name
 * file, key path, line and column (`yaml-file.ts`), and a writer that gives the same clean file back.
 *
 * ```yaml
 * version: 1
 * triggers:
 *   - name: nightly
 *     type: schedule
 *     schedule: "0 3 * * *"        # cron (5 or 6 fields) or @once @hourly @daily @weekly @monthly
 *     timezone: Europe/London      # IANA; default UTC
 *     start_date: 2024-01-01       # ISO; without an offset it is wall time in `timezone`
 *     missed_run_policy: latest    # none | latest | all
 *     max_active_runs: 1
 *     on_max_active: wait          # skip | wait
 *     run_timeout: 2h
 *     variables: { months: [10] }
 *   - name: every_15m
 *     type: schedule
 *     interval: 15m                # fixed interval instead of `schedule`
 *   - name: webhook
 *     type: api
 *     variables_allowed: [months]  # what a caller may set; default: nothing
 * ```
 * The file is snake_case with durations as text; the model is camelCase with milliseconds.
 */
import { Document } from "yaml";
import { z } from "zod";
import { formatDuration, parseDuration } from "./duration";
import { messageOf, UserError } from "./errors";
import type { PathSegment } from "./key-path";
import { NAME_PATTERN, type Variables } from "./model";
import { notifyRuleSchema, type NotifyRule } from "./notify";
import { findInvalidVariableValue, isVariableValue } from "./pipeline-checks";
import { CRON_PRESETS, cronProblem, isCronPreset, isValidTimeZone, type MissedRunPolicy, type ScheduleSpec } from "./schedule";
import { describeValue, loadYaml, locatedError, schemaErrors, sortByPosition, yamlErrorMap, type LoadedYaml } from "./yaml-file";

export const TRIGGER_TYPES = ["schedule", "api"] as const;
export type TriggerType = (typeof TRIGGER_TYPES)[number];
export const MISSED_RUN_POLICIES: readonly MissedRunPolicy[] = ["none", "latest", "all"];
export type OnMaxActive = "skip" | "wait";

/** What every trigger has. */
export interface TriggerCommon {
  /** Unique in the pipeline; `[a-z0-9_]+`; the trigger's id (runs record it as `triggerId`). */
  name: string;
  description: string;
  enabled: boolean;
  /** Overrides of the pipeline's variables for runs of this trigger. */
  variables: Variables;
  /** Runs of this trigger queued or running at once; null = no limit. */
  maxActiveRuns: number | null;
  /** When the limit is reached: `skip` drops the new run, `wait` starts it once a slot frees. */
  onMaxActive: OnMaxActive;
  /** A run of this trigger still active after this long is cancelled; null = never. */
  runTimeoutMs: number | null;
  /** Notifications of this trigger's runs (`notify:`), besides the pipeline's; absent = none. */
  notify?: NotifyRule[];
  /** `sla:` — a run of this trigger not done this long after it was created sends `sla_miss` once; absent = none. */
  slaMs?: number;
}

/** A trigger that fires on a clock. */
export interface ScheduleTrigger extends TriggerCommon {
  type: "schedule";
  /** As written: a cron expression, a preset (`@daily`, `@once`, …), or null for an interval. */
  cron: string | null;
  /** As written in milliseconds, or null for cron. */
  intervalMs: number | null;
  timezone: string;
  /** As written (ISO), kept for writing the file back; `schedule` holds the instants. */
  startDate: string | null;
  endDate: string | null;
  missedRunPolicy: MissedRunPolicy;
  /** The schedule to compute with (`compileSchedule`). */
  schedule: ScheduleSpec;
}

/** A trigger fired over HTTP with a bearer token (`POST /api/triggers/:id/runs`). */
export interface ApiTrigger extends TriggerCommon {
  type: "api";
  /**
   * Variables a caller may set in the request body (`variables_allowed:`); empty = none. A token holder can
   * start the pipeline, not steer it: a path or a query is only theirs to choose when the file says so.
   */
  variablesAllowed: string[];
}

export type Trigger = ScheduleTrigger | ApiTrigger;

export interface TriggersFile {
  version: 1;
  triggers: Trigger[];
}

const durationSchema = z
  .union([z.number(), z.string()], {
    error: (issue) => (issue.input === undefined ? "missing required key" : `expected a duration such as 15m, 1h or 1d, got ${describeValue(issue.input)}`),
  })
  .transform((value, ctx) => {
    try {
      return parseDuration(value);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: messageOf(error), input: value });
      return z.NEVER;
    }
  })
  .meta({ title: "duration (15m, 1h, 1d)" });

const variablesSchema = z.record(z.string(), z.unknown()).superRefine((variables, ctx) => {
  for (const [key, value] of Object.entries(variables)) {
    const bad = findInvalidVariableValue(value, [key]);
    if (bad) ctx.addIssue({ code: "custom", message: bad.message, path: bad.path, input: value });
  }
});

const commonShape = {
  name: z
    .string()
    .regex(NAME_PATTERN, { error: "use lower-case letters, digits and _ only" })
    .meta({ description: "Unique in the pipeline; lower-case letters, digits and `_`. Runs record it as their trigger." }),
  description: z.string().nullish().meta({ description: "Free text shown on the triggers page." }),
  enabled: z.boolean().nullish().meta({ description: "A disabled trigger starts no runs (the triggers page toggles it).", default: true }),
  variables: variablesSchema.nullish().meta({ description: "Overrides of the pipeline's variables for runs of this trigger." }),
  max_active_runs: z.int().min(1).nullish().meta({ description: "Runs of this trigger queued or running at once.", default: "no limit" }),
  on_max_active: z.enum(["skip", "wait"]).nullish().meta({ description: "When `max_active_runs` is reached: `skip` drops the new run, `wait` starts it once a slot frees.", default: "wait" }),
  run_timeout: durationSchema.nullish().meta({ description: "A run of this trigger still active after this long is cancelled.", default: "never" }),
  notify: z
    .array(notifyRuleSchema)
    .nullish()
    .meta({ description: "Notifications of this trigger's runs, besides the pipeline's: `[{ on: [failure, sla_miss], channel: team_slack }]`." }),
  sla: durationSchema.nullish().meta({ description: "A run of this trigger not finished this long after it was queued sends `sla_miss` (once per run) to the `notify:` channels that list it." }),
};

const scheduleTriggerSchema = z.strictObject({
  ...commonShape,
  type: z.literal("schedule"),
  schedule: z
    .string()
    .min(1)
    .nullish()
    .meta({ description: "A cron expression (5 fields, or 6 with seconds) or a preset: `@once` (at `start_date`), `@hourly`, `@daily`, `@weekly`, `@monthly`. Give this or `interval`." }),
  interval: durationSchema.nullish().meta({ description: "A fixed interval (at least 1s) instead of `schedule`, counted from `start_date`." }),
  timezone: z.string().min(1).nullish().meta({ description: "The IANA time zone the cron and dates are read in (DST-correct), e.g. `Europe/London`.", default: "UTC" }),
  start_date: z
    .string()
    .min(1)
    .nullish()
    .meta({ description: "The first date the schedule covers: ISO, e.g. `2024-01-01` or `2024-01-01T06:00:00Z`; without an offset it is wall time in `timezone`." }),
  end_date: z.string().min(1).nullish().meta({ description: "The last date the schedule covers (same format as `start_date`); none = no end." }),
  missed_run_policy: z
    .enum(["none", "latest", "all"])
    .nullish()
    .meta({
      description: "Runs that fell due while the scheduler was down: `all` runs every one, oldest first; `latest` only the newest; `none` only the newest, and only if it fell due within the last minute.",
      default: "latest",
    }),
});

const apiTriggerSchema = z.strictObject({
  ...commonShape,
  type: z.literal("api"),
  variables_allowed: z
    .array(z.string().min(1, { error: "a variable name cannot be empty" }))
    .nullish()
    .meta({ description: "Variables a caller may set in the request body; any other is refused (422). A token holder can start the pipeline, not steer it.", default: [] }),
});

const triggerSchema = z.discriminatedUnion("type", [scheduleTriggerSchema, apiTriggerSchema], {
  error: (issue) => (issue.input === undefined ? "missing required key" : `expected a mapping with type: schedule or type: api`),
});

/** The file format, strict: an unknown key anywhere is an error naming its path. */
export const triggersFileSchema = z.strictObject({
  version: z.literal(1, {
    error: (issue) => (issue.input === undefined ? "missing required key (write version: 1)" : `unsupported version ${String(issue.input)}; this Sluice reads version: 1`),
  }).meta({ description: "The file format's version: write `version: 1`." }),
  triggers: z.array(triggerSchema).nullish().meta({ description: "The pipeline's triggers, each a schedule or an API trigger; see below.", default: [] }),
});

/** `triggers.yaml` as written by hand (the schema's input type). */
export type TriggersFileInput = z.input<typeof triggersFileSchema>;

const SCHEDULE_KEYS = Object.keys(scheduleTriggerSchema.shape);
const API_KEYS = Object.keys(apiTriggerSchema.shape);

function knownKeys(value: unknown): (path: readonly PathSegment[]) => readonly string[] {
  return (path) => {
    if (path.length === 0) return Object.keys(triggersFileSchema.shape);
    if (path.length === 2 && path[0] === "triggers") return typeAt(value, path[1]) === "api" ? API_KEYS : SCHEDULE_KEYS;
    return [];
  };
}

function typeAt(value: unknown, index: PathSegment): unknown {
  if (typeof value !== "object" || value === null || !("triggers" in value) || !Array.isArray(value.triggers) || typeof index !== "number") return undefined;
  const item: unknown = value.triggers[index];
  return typeof item === "object" && item !== null && "type" in item ? item.type : undefined;
}

const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?$/;
const HAS_OFFSET = /(?:Z|[+-]\d{2}:?\d{2})$/i;

/** Offset of `zone` from UTC at the instant `ms`, in ms (positive east of Greenwich). */
function zoneOffsetMs(ms: number, zone: string): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(new Date(ms));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const wall = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return wall - Math.floor(ms / 1000) * 1000;
}

/**
 * The instant of a date as written in the file: ISO with an offset (`2024-01-01T00:00:00Z`) as is;
 * without one (`2024-01-01`, `2024-01-01T06:00`) as wall time in `zone` (a wall time in a DST gap moves
 * forward by the gap). Null when the text is not a date.
 */
export function parseTriggerDate(text: string, zone: string): number | null {
  const trimmed = text.trim();
  if (HAS_OFFSET.test(trimmed)) {
    const ms = Date.parse(trimmed);
    return Number.isNaN(ms) ? null : ms;
  }
  const m = LOCAL_DATE_TIME.exec(trimmed);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4] ?? "0", m[5] ?? "0", m[6] ?? "0"].map(Number);
  const millis = Number((m[7] ?? "0").padEnd(3, "0"));
  const wall = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  const check = new Date(wall);
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return null;
  // An instant is right when the zone's offset at it is the offset used to get it. In a DST overlap the
  // first pass finds the earlier occurrence; in a gap neither pass is consistent and the later one wins.
  const firstOffset = zoneOffsetMs(wall, zone);
  const a = wall - firstOffset;
  const offsetAtA = zoneOffsetMs(a, zone);
  if (offsetAtA === firstOffset) return a;
  const b = wall - offsetAtA;
  if (zoneOffsetMs(b, zone) === offsetAtA) return b;
  return Math.max(a, b);
}

type ParsedFile = z.output<typeof triggersFileSchema>;
type ParsedTrigger = NonNullable<ParsedFile["triggers"]>[number];

interface Issue {
  path: PathSegment[];
  message: string;
}

function toTrigger(raw: ParsedTrigger, index: number, issues: Issue[]): Trigger {
  const common: TriggerCommon = {
    name: raw.name,
    description: raw.description ?? "",
    enabled: raw.enabled ?? true,
    variables: toVariables(raw.variables ?? {}),
    maxActiveRuns: raw.max_active_runs ?? null,
    onMaxActive: raw.on_max_active ?? "wait",
    runTimeoutMs: raw.run_timeout ?? null,
    ...(raw.notify && raw.notify.length > 0 ? { notify: raw.notify.map((rule) => ({ on: [...new Set(rule.on)], channel: rule.channel })) } : {}),
    ...(raw.sla != null ? { slaMs: raw.sla } : {}),
  };
  const at = (key: string): PathSegment[] => ["triggers", index, key];
  if (raw.type === "api") {
    const allowed = raw.variables_allowed ?? [];
    allowed.forEach((name, i) => {
      const first = allowed.indexOf(name);
      if (first !== i) issues.push({ path: ["triggers", index, "variables_allowed", i], message: `"${name}" is listed twice (also at variables_allowed[${first}])` });
    });
    return { ...common, type: "api", variablesAllowed: [...new Set(allowed)] };
  }
  const timezone = raw.timezone ?? "UTC";
  if (!isValidTimeZone(timezone)) issues.push({ path: at("timezone"), message: `unknown time zone "${timezone}"; use an IANA name such as Europe/London or America/New_York` });
  const zone = isValidTimeZone(timezone) ? timezone : "UTC";
  const date = (key: "start_date" | "end_date"): number | null => {
    const text = raw[key];
    if (text === undefined || text === null) return null;
    const ms = parseTriggerDate(text, zone);
    if (ms === null) issues.push({ path: at(key), message: `"${text}" is not a date; write e.g. 2024-01-01, 2024-01-01T06:00 or 2024-01-01T06:00:00Z` });
    return ms;
  };
  const startMs = date("start_date");
  const endMs = date("end_date");
  if (startMs !== null && endMs !== null && endMs < startMs) issues.push({ path: at("end_date"), message: "end_date is before start_date" });
  const cron = raw.schedule ?? null;
  const intervalMs = raw.interval ?? null;
  let schedule: ScheduleSpec = { kind: "interval", everyMs: 60_000, startMs, endMs };
  if (cron !== null && intervalMs !== null) {
    issues.push({ path: at("interval"), message: "give either schedule (cron or preset) or interval, not both" });
  } else if (cron === null && intervalMs === null) {
    issues.push({ path: at("schedule"), message: `missing required key: give schedule (cron or @once @hourly @daily @weekly @monthly) or interval (e.g. 15m)` });
  } else if (intervalMs !== null) {
    if (intervalMs < 1000) issues.push({ path: at("interval"), message: "an interval must be at least 1s" });
    schedule = { kind: "interval", everyMs: intervalMs, startMs, endMs };
  } else if (cron === "@once") {
    if (startMs === null) issues.push({ path: at("start_date"), message: "missing required key: @once runs once at start_date" });
    schedule = { kind: "once", atMs: startMs ?? 0 };
  } else if (cron !== null) {
    const expression = isCronPreset(cron) ? CRON_PRESETS[cron] : cron;
    if (cron.startsWith("@") && !isCronPreset(cron)) {
      issues.push({ path: at("schedule"), message: `unknown preset "${cron}"; use @once, @hourly, @daily, @weekly or @monthly` });
    } else {
      const problem = cronProblem(expression, zone);
      if (problem !== null) issues.push({ path: at("schedule"), message: `invalid cron "${cron}": ${problem}` });
    }
    schedule = { kind: "cron", cron: expression, timezone: zone, startMs, endMs };
  }
  return {
    ...common,
    type: "schedule",
    cron,
    intervalMs,
    timezone,
    startDate: raw.start_date ?? null,
    endDate: raw.end_date ?? null,
    missedRunPolicy: raw.missed_run_policy ?? "latest",
    schedule,
  };
}

function toVariables(raw: Record<string, unknown>): Variables {
  const variables: Variables = {};
  for (const [key, value] of Object.entries(raw)) if (isVariableValue(value)) variables[key] = value;
  return variables;
}

/** The outcome of checking a `triggers.yaml` without throwing (the triggers page shows every problem). */
export interface TriggersLintResult {
  /** The triggers when the file matches the schema, else null. */
  file: TriggersFile | null;
  errors: UserError[];
}

/** Every problem in a `triggers.yaml`, each a located `UserError`, in file order. */
export function lintTriggersYaml(text: string, file: string): TriggersLintResult {
  let loaded: LoadedYaml;
  try {
    loaded = loadYaml(text, file);
  } catch (error) {
    if (error instanceof UserError) return { file: null, errors: [error] };
    throw error;
  }
  if (loaded.value === null || loaded.value === undefined) return { file: { version: 1, triggers: [] }, errors: [] };
  const parsed = triggersFileSchema.safeParse(loaded.value, { error: yamlErrorMap });
  if (!parsed.success) return { file: null, errors: schemaErrors(parsed.error.issues, loaded, { knownKeys: knownKeys(loaded.value) }) };
  const issues: Issue[] = [];
  const triggers = (parsed.data.triggers ?? []).map((raw, index) => toTrigger(raw, index, issues));
  const seen = new Map<string, number>();
  triggers.forEach((trigger, index) => {
    const first = seen.get(trigger.name);
    if (first !== undefined) issues.push({ path: ["triggers", index, "name"], message: `duplicate trigger name "${trigger.name}" (also at triggers[${first}])` });
    else seen.set(trigger.name, index);
  });
  const errors = sortByPosition(issues.map((issue) => locatedError(loaded, "invalid_value", issue.path, issue.message)));
  return { file: { version: 1, triggers }, errors };
}

/**
 * Parses and validates a `triggers.yaml`. An empty file means no triggers. `file` names the file in
 * messages only (lib/core does no IO).
 *
 * @throws UserError — the first problem — with code `invalid_yaml`, `unknown_key` or `invalid_value`
 *   and a location (file, path, line, column).
 */
export function parseTriggersYaml(text: string, file: string): TriggersFile {
  const { file: parsed, errors } = lintTriggersYaml(text, file);
  if (errors.length > 0 || parsed === null) throw errors[0] ?? new UserError("invalid_value", `${file}: invalid triggers file`);
  return parsed;
}

/**
 * The clean file text for a set of triggers: defaults left out, keys in a fixed order, durations as
 * text. `parseTriggersYaml(serializeTriggers(t))` gives `t` back.
 */
export function serializeTriggers(triggers: readonly Trigger[]): string {
  const items = triggers.map((t) => {
    const item: Record<string, unknown> = { name: t.name, type: t.type };
    if (t.description !== "") item.description = t.description;
    if (t.type === "schedule") {
      if (t.cron !== null) item.schedule = t.cron;
      if (t.intervalMs !== null) item.interval = formatDuration(t.intervalMs);
      if (t.timezone !== "UTC") item.timezone = t.timezone;
      if (t.startDate !== null) item.start_date = t.startDate;
      if (t.endDate !== null) item.end_date = t.endDate;
      if (t.missedRunPolicy !== "latest") item.missed_run_policy = t.missedRunPolicy;
    }
    if (!t.enabled) item.enabled = false;
    if (t.maxActiveRuns !== null) item.max_active_runs = t.maxActiveRuns;
    if (t.onMaxActive !== "wait") item.on_max_active = t.onMaxActive;
    if (t.runTimeoutMs !== null) item.run_timeout = formatDuration(t.runTimeoutMs);
    if (t.slaMs !== undefined) item.sla = formatDuration(t.slaMs);
    if (t.notify && t.notify.length > 0) item.notify = t.notify.map((rule) => ({ on: [...rule.on], channel: rule.channel }));
    if (Object.keys(t.variables).length > 0) item.variables = t.variables;
    if (t.type === "api" && t.variablesAllowed.length > 0) item.variables_allowed = [...t.variablesAllowed];
    return item;
  });
  const doc = new Document({ version: 1, triggers: items });
  return doc.toString({ lineWidth: 0 });
}
