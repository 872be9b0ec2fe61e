/**
 * Triggers over HTTP: the triggers page reads and writes `triggers.yaml` through here,
 * previews schedules (cronstrue description + next run times in the trigger's zone), issues API tokens,
 * runs a trigger now, drives backfills, and fires API triggers for outside callers.
 *
 * Why a trigger arrives as the file's own snake_case shape: the one validator is the core schema
 * (`lintTriggersYaml`), so the page, a hand edit and the API agree on every rule and message.
 */
import cronstrue from "cronstrue";
import { Document } from "yaml";
import type { BackfillJson, InputOf, ResponseOf, SchedulePreview, TriggerFieldError, TriggerJson } from "@/lib/core/api-contract";
import { formatDuration } from "@/lib/core/duration";
import { compileSchedule, upcomingSlots } from "@/lib/core/schedule";
import { lintTriggersYaml, type Trigger } from "@/lib/core/triggers-schema";
import { ApiTriggers, bearerToken, parsePublicTriggerId, publicTriggerId } from "@/lib/scheduler/api-triggers";
import type { BackfillProgress } from "@/lib/scheduler/backfills";
import { TriggerFiles } from "@/lib/store/trigger-files";
import { getServices } from "../global-services";
import { ApiError } from "./http";

const TRIGGERS_FILE = "triggers.yaml";

export type { BackfillJson, SchedulePreview, TriggerFieldError, TriggerJson } from "@/lib/core/api-contract";

function files(): TriggerFiles {
  return new TriggerFiles(getServices().files.root);
}

function apiTriggers(): ApiTriggers {
  const services = getServices();
  const source = files();
  return new ApiTriggers({
    store: services.runs.triggers,
    startRun: (request) => services.runner.start(request),
    findTrigger: (pipeline, triggerId) => source.find(pipeline, triggerId),
    pipelineVariables: async (pipeline) => (await services.files.read(pipeline)).pipeline.variables,
  });
}

function fieldOf(error: unknown): string | null {
  if (!(error instanceof Error)) return null;
  const location: unknown = Reflect.get(error, "location");
  if (typeof location !== "object" || location === null) return null;
  const path: unknown = Reflect.get(location, "path");
  if (typeof path !== "string") return null;
  const match = /^triggers\[\d+\]\.([a-z_]+)/.exec(path);
  return match ? match[1] : null;
}

/** Validates one trigger in file shape with the core schema. @throws ApiError 422 listing every problem. */
function validateTrigger(pipeline: string, raw: Record<string, unknown>): Trigger {
  const text = new Document({ version: 1, triggers: [raw] }).toString({ lineWidth: 0 });
  const { file, errors } = lintTriggersYaml(text, `${pipeline}/${TRIGGERS_FILE}`);
  const trigger = file?.triggers[0];
  if (errors.length > 0 || !trigger) {
    // The text validated is built here, so its line numbers mean nothing to the caller: keep the key path.
    const list: TriggerFieldError[] = errors.map((e) => ({ field: fieldOf(e), code: e.code, message: e.message.replace(/^[^:\n]+:\d+:\d+: /, "").replace(/^triggers\[\d+\]\.?/, "") }));
    const first = list[0];
    throw ApiError.fromUserCode(first?.code ?? "invalid_value", first?.message ?? "invalid trigger", { errors: list });
  }
  return trigger;
}

export function describeSchedule(trigger: Trigger): string | null {
  if (trigger.type !== "schedule") return null;
  if (trigger.intervalMs !== null) return `Every ${trigger.intervalMs >= 1000 ? formatEvery(trigger.intervalMs) : `${trigger.intervalMs} ms`}`;
  if (trigger.cron === "@once") return `Once, at ${trigger.startDate ?? "start_date"}`;
  if (trigger.schedule.kind !== "cron") return null;
  try {
    return `${cronstrue.toString(trigger.schedule.cron, { use24HourTimeFormat: true, verbose: false })} (${trigger.timezone})`;
  } catch {
    return null;
  }
}

function formatEvery(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, "day"],
    [3_600_000, "hour"],
    [60_000, "minute"],
    [1000, "second"],
  ];
  for (const [size, name] of units) if (ms % size === 0) return `${ms / size} ${name}${ms / size === 1 ? "" : "s"}`;
  return `${ms / 1000} seconds`;
}

function localTime(ms: number, zone: string): string {
  return new Intl.DateTimeFormat("en-GB", {
    timeZone: zone,
    weekday: "short",
    year: "numeric",
    month: "short",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    timeZoneName: "short",
  }).format(new Date(ms));
}

function preview(trigger: Trigger, count: number): SchedulePreview {
  if (trigger.type !== "schedule") return { description: null, timezone: "UTC", next: [] };
  const slots = upcomingSlots(compileSchedule(trigger.schedule), Date.now(), count);
  return {
    description: describeSchedule(trigger),
    timezone: trigger.timezone,
    next: slots.map((s) => ({ at: new Date(s.dueMs).toISOString(), local: localTime(s.dueMs, trigger.timezone) })),
  };
}

function rawOf(trigger: Trigger): TriggerJson {
  const schedule = trigger.type === "schedule" ? trigger : null;
  return {
    name: trigger.name,
    type: trigger.type,
    description: trigger.description,
    enabled: trigger.enabled,
    schedule: schedule?.cron ?? null,
    interval: schedule?.intervalMs != null ? formatDuration(schedule.intervalMs) : null,
    timezone: schedule?.timezone ?? null,
    start_date: schedule?.startDate ?? null,
    end_date: schedule?.endDate ?? null,
    missed_run_policy: schedule?.missedRunPolicy ?? null,
    variables: trigger.variables,
    variables_allowed: trigger.type === "api" ? [...trigger.variablesAllowed] : null,
    example_variables: null,
    max_active_runs: trigger.maxActiveRuns,
    on_max_active: trigger.onMaxActive,
    run_timeout: trigger.runTimeoutMs === null ? null : formatDuration(trigger.runTimeoutMs),
    describe: describeSchedule(trigger),
    next_run: null,
    last_run: null,
    public_id: "",
    url_path: null,
    has_token: null,
  };
}

async function toJson(pipeline: string, trigger: Trigger): Promise<TriggerJson> {
  const services = getServices();
  const json = rawOf(trigger);
  json.public_id = publicTriggerId(pipeline, trigger.name);
  if (trigger.type === "schedule" && trigger.enabled) {
    try {
      json.next_run = preview(trigger, 1).next[0]?.at ?? null;
    } catch {
      json.next_run = null;
    }
  }
  const recent = await services.runs.listRuns({ pipeline, limit: 200 });
  const last = recent.find((r) => r.triggerId === trigger.name);
  json.last_run = last ? { id: last.id, state: last.state, created_at: last.createdAt } : null;
  if (trigger.type === "api") {
    json.url_path = `/api/triggers/${json.public_id}/runs`;
    json.has_token = (await services.runs.triggers.getTokenHash(pipeline, trigger.name)) !== null;
    const defaults = trigger.variablesAllowed.length > 0 ? (await services.files.read(pipeline)).pipeline.variables : {};
    json.example_variables = Object.fromEntries(trigger.variablesAllowed.map((name) => [name, trigger.variables[name] ?? defaults[name] ?? ""]));
  }
  return json;
}

async function readAll(pipeline: string): Promise<Trigger[]> {
  const { files: pipelines } = getServices();
  if (!(await pipelines.exists(pipeline))) throw ApiError.of("not_found", `there is no pipeline ${pipeline}`);
  return files().read(pipeline);
}

async function findOne(pipeline: string, id: string): Promise<{ all: Trigger[]; trigger: Trigger }> {
  const all = await readAll(pipeline);
  const trigger = all.find((t) => t.name === id);
  if (!trigger) throw ApiError.of("trigger_not_found", `pipeline ${pipeline} has no trigger ${id}`);
  return { all, trigger };
}

/** Writes the file and makes the scheduler see it now (backfills and "next run" need its entries). */
async function save(pipeline: string, triggers: readonly Trigger[]): Promise<void> {
  await files().write(pipeline, triggers);
  const { scheduler } = getServices();
  scheduler.invalidate();
  await scheduler.tick();
}

/** GET /api/pipelines/:p/triggers → {triggers}. */
export async function listTriggers({ params }: InputOf<"listTriggers">): Promise<ResponseOf<"listTriggers">> {
  const all = await readAll(params.p);
  return { triggers: await Promise.all(all.map((t) => toJson(params.p, t))) };
}

/** POST /api/pipelines/:p/triggers (file shape) → 201 {trigger}. */
export async function createTrigger({ params, body }: InputOf<"createTrigger">): Promise<ResponseOf<"createTrigger">> {
  const pipeline = params.p;
  const all = await readAll(pipeline);
  const trigger = validateTrigger(pipeline, body);
  if (all.some((t) => t.name === trigger.name)) {
    throw ApiError.of("already_exists", `pipeline ${pipeline} already has a trigger ${trigger.name}`, { errors: [{ field: "name", code: "already_exists", message: `a trigger named ${trigger.name} exists` }] });
  }
  await save(pipeline, [...all, trigger]);
  return { trigger: await toJson(pipeline, trigger) };
}

export async function getTrigger({ params }: InputOf<"getTrigger">): Promise<ResponseOf<"getTrigger">> {
  const { trigger } = await findOne(params.p, params.id);
  return { trigger: await toJson(params.p, trigger) };
}

/** PUT /api/pipelines/:p/triggers/:id (file shape; the name may not change). */
export async function updateTrigger({ params, body }: InputOf<"updateTrigger">): Promise<ResponseOf<"updateTrigger">> {
  const { p: pipeline, id } = params;
  const { all } = await findOne(pipeline, id);
  const trigger = validateTrigger(pipeline, { ...body, name: id });
  await save(
    pipeline,
    all.map((t) => (t.name === id ? trigger : t)),
  );
  return { trigger: await toJson(pipeline, trigger) };
}

/** DELETE /api/pipelines/:p/triggers/:id — removed from the file; its run history stays. */
export async function deleteTrigger({ params }: InputOf<"deleteTrigger">): Promise<ResponseOf<"deleteTrigger">> {
  const { p: pipeline, id } = params;
  const { all } = await findOne(pipeline, id);
  await save(
    pipeline,
    all.filter((t) => t.name !== id),
  );
  return { deleted: true };
}

/** POST …/:id/token → 201 {token, url_path}: the only time the token is shown. */
export async function issueToken({ params }: InputOf<"issueTriggerToken">): Promise<ResponseOf<"issueTriggerToken">> {
  const { p: pipeline, id } = params;
  const { trigger } = await findOne(pipeline, id);
  if (trigger.type !== "api") throw ApiError.of("not_api_trigger", `trigger ${id} is a schedule trigger; only API triggers have tokens`);
  const token = await apiTriggers().issueToken(pipeline, id);
  return { token, url_path: `/api/triggers/${publicTriggerId(pipeline, id)}/runs` };
}

/** DELETE …/:id/token → {revoked}: the trigger refuses every call until a new token is issued. */
export async function revokeToken({ params }: InputOf<"revokeTriggerToken">): Promise<ResponseOf<"revokeTriggerToken">> {
  await findOne(params.p, params.id);
  return { revoked: await apiTriggers().revoke(params.p, params.id) };
}

/** POST …/:id/run — a run now, with the trigger's variables, overridden by any the body gives. */
export async function runTriggerNow({ params, body }: InputOf<"runTriggerNow">): Promise<ResponseOf<"runTriggerNow">> {
  const { p: pipeline, id } = params;
  const { trigger } = await findOne(pipeline, id);
  const variables = { ...trigger.variables, ...(body?.variables ?? {}) };
  const started = await getServices().runner.start({ pipeline, trigger: "manual", triggerId: trigger.name, variables });
  return { run_id: started.runId };
}

function progressJson(progress: BackfillProgress): BackfillJson {
  const { backfill } = progress;
  return {
    id: backfill.id,
    state: backfill.state,
    range_start: backfill.rangeStart,
    range_end: backfill.rangeEnd,
    concurrency: backfill.concurrency,
    total: progress.total,
    pending: progress.pending,
    queued: progress.queued,
    running: progress.running,
    success: progress.success,
    failed: progress.failed,
    cancelled: progress.cancelled,
  };
}

/** POST …/:id/backfills {start, end, concurrency?} → 201 {backfill}. */
export async function createBackfill({ params, body }: InputOf<"createBackfill">): Promise<ResponseOf<"createBackfill">> {
  const { p: pipeline, id } = params;
  const { trigger } = await findOne(pipeline, id);
  if (trigger.type !== "schedule") throw ApiError.fromUserCode("invalid_schedule", `trigger ${id} is an API trigger: backfill a schedule trigger`);
  const { scheduler } = getServices();
  const backfill = await scheduler.backfills.create({ pipeline, triggerId: id, start: body.start, end: body.end, concurrency: body.concurrency });
  void scheduler.tick().catch(() => undefined);
  return { backfill: progressJson(await scheduler.backfills.progress(backfill.id)) };
}

async function backfillOf(pipeline: string, id: string, backfillId: string) {
  await findOne(pipeline, id);
  const progress = await getServices().scheduler.backfills.progress(backfillId);
  if (progress.backfill.pipeline !== pipeline || progress.backfill.triggerId !== id) throw ApiError.of("backfill_not_found", `there is no backfill ${backfillId} of ${pipeline}/${id}`);
  return progress;
}

/** GET …/:id/backfills → {backfills} (newest first). */
export async function listBackfills({ params }: InputOf<"listBackfills">): Promise<ResponseOf<"listBackfills">> {
  const { p: pipeline, id } = params;
  await findOne(pipeline, id);
  const { scheduler, runs } = getServices();
  const all = (await runs.triggers.listBackfills({ pipeline })).filter((b) => b.triggerId === id);
  const progress = await Promise.all(all.map((b) => scheduler.backfills.progress(b.id)));
  progress.sort((a, b) => b.backfill.createdAt.localeCompare(a.backfill.createdAt));
  return { backfills: progress.map(progressJson) };
}

export async function getBackfill({ params }: InputOf<"getBackfill">): Promise<ResponseOf<"getBackfill">> {
  return { backfill: progressJson(await backfillOf(params.p, params.id, params.bid)) };
}

export async function cancelBackfill({ params }: InputOf<"cancelBackfill">): Promise<ResponseOf<"cancelBackfill">> {
  await backfillOf(params.p, params.id, params.bid);
  const { scheduler } = getServices();
  const cancelled = await scheduler.backfills.cancel(params.bid);
  return { cancelled, backfill: progressJson(await scheduler.backfills.progress(params.bid)) };
}

/** GET …/:id/preview?cron=&interval=&timezone= → {description, timezone, next} or 422 with field errors. */
export async function previewSchedule({ params, query }: InputOf<"previewSchedule">): Promise<ResponseOf<"previewSchedule">> {
  const { p: pipeline, id } = params;
  const raw: Record<string, unknown> = { name: id, type: "schedule" };
  if (query.cron) raw.schedule = query.cron;
  if (query.interval) raw.interval = query.interval;
  if (query.timezone) raw.timezone = query.timezone;
  if (query.start_date) raw.start_date = query.start_date;
  const trigger = validateTrigger(pipeline, raw);
  return preview(trigger, 5);
}

/**
 * POST /api/triggers/:id/runs (Authorization: Bearer <trigger token>) {variables?} → 201 {run_id}. The
 * engine's refusals carry their codes: `unauthorized` 401, `trigger_disabled` 409, `max_active_runs` 429, a
 * refused variable 422 with the variable in details (statuses from ERROR_CODES).
 */
export async function fireApiTrigger({ params, headers, body }: InputOf<"fireApiTrigger">): Promise<ResponseOf<"fireApiTrigger">> {
  let target: { pipeline: string; triggerId: string };
  try {
    target = parsePublicTriggerId(params.id);
  } catch {
    throw ApiError.of("unauthorized", "missing or invalid trigger token");
  }
  const token = bearerToken(headers.authorization ?? null);
  if (token === null) throw ApiError.of("unauthorized", "missing or invalid trigger token: send Authorization: Bearer <token>");
  const { runId } = await apiTriggers().fire(target.pipeline, target.triggerId, token, body.variables ?? {});
  return { run_id: runId };
}
