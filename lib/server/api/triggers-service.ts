/**
 * Triggers over HTTP (DESIGN §8, §10): the triggers page reads and writes `triggers.yaml` through here,
 * previews schedules (cronstrue description + next run times in the trigger's zone), issues API tokens,
 * runs a trigger now, drives backfills, and fires API triggers for outside callers.
 *
 * Why a trigger arrives as the file's own snake_case shape: the one validator is the core schema
 * (`lintTriggersYaml`), so the page, a hand edit and the API agree on every rule and message.
 */
import cronstrue from "cronstrue";
import { Document } from "yaml";
import { z } from "zod";
import { formatDuration } from "@/lib/core/duration";
import type { VariableValue } from "@/lib/core/model";
import { isVariableValue } from "@/lib/core/pipeline-checks";
import { compileSchedule, upcomingSlots } from "@/lib/core/schedule";
import { lintTriggersYaml, type Trigger } from "@/lib/core/triggers-schema";
import { ApiTriggers, bearerToken, parsePublicTriggerId, publicTriggerId } from "@/lib/scheduler/api-triggers";
import type { BackfillProgress } from "@/lib/scheduler/backfills";
import { TriggerFiles } from "@/lib/store/trigger-files";
import { getServices } from "../global-services";
import { ApiError, nameSchema, parseWith, readBody } from "./http";

const TRIGGERS_FILE = "triggers.yaml";

/** One problem in a trigger definition, with the form field it belongs to. */
export interface TriggerFieldError {
  field: string | null;
  code: string;
  message: string;
}

/** A trigger as the API and the page see it. */
export interface TriggerJson {
  name: string;
  type: Trigger["type"];
  description: string;
  enabled: boolean;
  schedule: string | null;
  interval: string | null;
  timezone: string | null;
  start_date: string | null;
  end_date: string | null;
  missed_run_policy: string | null;
  variables: Record<string, VariableValue>;
  max_active_runs: number | null;
  on_max_active: "skip" | "wait";
  run_timeout: string | null;
  /** Human description of the schedule (cronstrue), null for API triggers. */
  describe: string | null;
  next_run: string | null;
  last_run: { id: string; state: string; created_at: string } | null;
  /** API triggers: the public id and URL path (`POST` with a bearer token). */
  public_id: string;
  url_path: string | null;
  has_token: boolean | null;
}

export interface SchedulePreview {
  description: string | null;
  timezone: string;
  next: { at: string; local: string }[];
}

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
  });
}

function codeOf(error: unknown): string | null {
  if (!(error instanceof Error)) return null;
  const code: unknown = Reflect.get(error, "code");
  return typeof code === "string" ? code : null;
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
    throw new ApiError(422, first?.code ?? "invalid_value", first?.message ?? "invalid trigger", { errors: list });
  }
  return trigger;
}

function describeSchedule(trigger: Trigger): string | null {
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
  }
  return json;
}

async function readAll(pipeline: string): Promise<Trigger[]> {
  parseWith(nameSchema, pipeline, "pipeline name");
  const { files: pipelines } = getServices();
  if (!(await pipelines.exists(pipeline))) throw new ApiError(404, "not_found", `there is no pipeline ${pipeline}`);
  return files().read(pipeline);
}

async function findOne(pipeline: string, id: string): Promise<{ all: Trigger[]; trigger: Trigger }> {
  parseWith(nameSchema, id, "trigger id");
  const all = await readAll(pipeline);
  const trigger = all.find((t) => t.name === id);
  if (!trigger) throw new ApiError(404, "trigger_not_found", `pipeline ${pipeline} has no trigger ${id}`);
  return { all, trigger };
}

/** Writes the file and makes the scheduler see it now (backfills and "next run" need its entries). */
async function save(pipeline: string, triggers: readonly Trigger[]): Promise<void> {
  await files().write(pipeline, triggers);
  const { scheduler } = getServices();
  scheduler.invalidate();
  await scheduler.tick();
}

const triggerBodySchema = z.record(z.string(), z.unknown());

/** GET /api/pipelines/:p/triggers → {triggers}. */
export async function listTriggers(pipeline: string): Promise<Response> {
  const all = await readAll(pipeline);
  return Response.json({ triggers: await Promise.all(all.map((t) => toJson(pipeline, t))) });
}

/** POST /api/pipelines/:p/triggers (file shape) → 201 {trigger}. */
export async function createTrigger(pipeline: string, request: Request): Promise<Response> {
  const body = await readBody(request, triggerBodySchema);
  const all = await readAll(pipeline);
  const trigger = validateTrigger(pipeline, body);
  if (all.some((t) => t.name === trigger.name)) {
    throw new ApiError(409, "already_exists", `pipeline ${pipeline} already has a trigger ${trigger.name}`, { errors: [{ field: "name", code: "already_exists", message: `a trigger named ${trigger.name} exists` }] });
  }
  await save(pipeline, [...all, trigger]);
  return Response.json({ trigger: await toJson(pipeline, trigger) }, { status: 201 });
}

export async function getTrigger(pipeline: string, id: string): Promise<Response> {
  const { trigger } = await findOne(pipeline, id);
  return Response.json({ trigger: await toJson(pipeline, trigger) });
}

/** PUT /api/pipelines/:p/triggers/:id (file shape; the name may not change). */
export async function updateTrigger(pipeline: string, id: string, request: Request): Promise<Response> {
  const body = await readBody(request, triggerBodySchema);
  const { all } = await findOne(pipeline, id);
  const trigger = validateTrigger(pipeline, { ...body, name: id });
  await save(
    pipeline,
    all.map((t) => (t.name === id ? trigger : t)),
  );
  return Response.json({ trigger: await toJson(pipeline, trigger) });
}

/** DELETE /api/pipelines/:p/triggers/:id — removed from the file; its run history stays. */
export async function deleteTrigger(pipeline: string, id: string): Promise<Response> {
  const { all } = await findOne(pipeline, id);
  await save(
    pipeline,
    all.filter((t) => t.name !== id),
  );
  return Response.json({ deleted: true });
}

/** POST …/:id/token → 201 {token, url_path}: the only time the token is shown. */
export async function issueToken(pipeline: string, id: string): Promise<Response> {
  const { trigger } = await findOne(pipeline, id);
  if (trigger.type !== "api") throw new ApiError(422, "not_api_trigger", `trigger ${id} is a schedule trigger; only API triggers have tokens`);
  const token = await apiTriggers().issueToken(pipeline, id);
  return Response.json({ token, url_path: `/api/triggers/${publicTriggerId(pipeline, id)}/runs` }, { status: 201 });
}

/** DELETE …/:id/token → {revoked}: the trigger refuses every call until a new token is issued. */
export async function revokeToken(pipeline: string, id: string): Promise<Response> {
  await findOne(pipeline, id);
  return Response.json({ revoked: await apiTriggers().revoke(pipeline, id) });
}

/** POST …/:id/run — a run now, with the trigger's variables. */
export async function runTriggerNow(pipeline: string, id: string): Promise<Response> {
  const { trigger } = await findOne(pipeline, id);
  const started = await getServices().runner.start({ pipeline, trigger: "manual", triggerId: trigger.name, variables: trigger.variables });
  return Response.json({ run_id: started.runId }, { status: 201 });
}

const backfillSchema = z.strictObject({
  start: z.string().min(1),
  end: z.string().min(1),
  concurrency: z.coerce.number().int().min(1).max(32).optional(),
});

function progressJson(progress: BackfillProgress) {
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

export type BackfillJson = ReturnType<typeof progressJson>;

/** POST …/:id/backfills {start, end, concurrency?} → 201 {backfill}. */
export async function createBackfill(pipeline: string, id: string, request: Request): Promise<Response> {
  const body = await readBody(request, backfillSchema);
  const { trigger } = await findOne(pipeline, id);
  if (trigger.type !== "schedule") throw new ApiError(422, "invalid_schedule", `trigger ${id} is an API trigger: backfill a schedule trigger`);
  const { scheduler } = getServices();
  const backfill = await scheduler.backfills.create({ pipeline, triggerId: id, start: body.start, end: body.end, concurrency: body.concurrency });
  void scheduler.tick().catch(() => undefined);
  return Response.json({ backfill: progressJson(await scheduler.backfills.progress(backfill.id)) }, { status: 201 });
}

async function backfillOf(pipeline: string, id: string, backfillId: string) {
  await findOne(pipeline, id);
  parseWith(z.string().regex(/^[A-Za-z0-9_-]{1,200}$/), backfillId, "backfill id");
  const progress = await getServices().scheduler.backfills.progress(backfillId);
  if (progress.backfill.pipeline !== pipeline || progress.backfill.triggerId !== id) throw new ApiError(404, "backfill_not_found", `there is no backfill ${backfillId} of ${pipeline}/${id}`);
  return progress;
}

/** GET …/:id/backfills → {backfills} (newest first). */
export async function listBackfills(pipeline: string, id: string): Promise<Response> {
  await findOne(pipeline, id);
  const { scheduler, runs } = getServices();
  const all = (await runs.triggers.listBackfills({ pipeline })).filter((b) => b.triggerId === id);
  const progress = await Promise.all(all.map((b) => scheduler.backfills.progress(b.id)));
  progress.sort((a, b) => b.backfill.createdAt.localeCompare(a.backfill.createdAt));
  return Response.json({ backfills: progress.map(progressJson) });
}

export async function getBackfill(pipeline: string, id: string, backfillId: string): Promise<Response> {
  return Response.json({ backfill: progressJson(await backfillOf(pipeline, id, backfillId)) });
}

export async function cancelBackfill(pipeline: string, id: string, backfillId: string): Promise<Response> {
  await backfillOf(pipeline, id, backfillId);
  const { scheduler } = getServices();
  const cancelled = await scheduler.backfills.cancel(backfillId);
  return Response.json({ cancelled, backfill: progressJson(await scheduler.backfills.progress(backfillId)) });
}

const previewSchema = z.object({
  cron: z.string().optional(),
  interval: z.string().optional(),
  timezone: z.string().optional(),
  start_date: z.string().optional(),
});

/** GET …/:id/preview?cron=&interval=&timezone= → {description, timezone, next} or 422 with field errors. */
export async function previewSchedule(pipeline: string, id: string, request: Request): Promise<Response> {
  parseWith(nameSchema, pipeline, "pipeline name");
  parseWith(nameSchema, id, "trigger id");
  const query = parseWith(previewSchema, Object.fromEntries(new URL(request.url).searchParams), "query");
  const raw: Record<string, unknown> = { name: id, type: "schedule" };
  if (query.cron) raw.schedule = query.cron;
  if (query.interval) raw.interval = query.interval;
  if (query.timezone) raw.timezone = query.timezone;
  if (query.start_date) raw.start_date = query.start_date;
  const trigger = validateTrigger(pipeline, raw);
  return Response.json(preview(trigger, 5));
}

const variableSchema = z.record(z.string(), z.custom<VariableValue>(isVariableValue, "variables must be JSON values"));
const fireSchema = z.strictObject({ variables: variableSchema.optional() });

/** POST /api/triggers/:id/runs (Authorization: Bearer <trigger token>) {variables?} → 201 {run_id}. */
export async function fireApiTrigger(publicId: string, request: Request): Promise<Response> {
  let target: { pipeline: string; triggerId: string };
  try {
    target = parsePublicTriggerId(publicId);
  } catch {
    throw new ApiError(401, "unauthorized", "missing or invalid trigger token");
  }
  const token = bearerToken(request.headers.get("authorization"));
  if (token === null) throw new ApiError(401, "unauthorized", "missing or invalid trigger token: send Authorization: Bearer <token>");
  const body = await readBody(request, fireSchema);
  try {
    const { runId } = await apiTriggers().fire(target.pipeline, target.triggerId, token, body.variables ?? {});
    return Response.json({ run_id: runId }, { status: 201 });
  } catch (error) {
    const code = codeOf(error);
    const message = error instanceof Error ? error.message : String(error);
    if (code === "unauthorized") throw new ApiError(401, code, message);
    if (code === "trigger_disabled") throw new ApiError(409, code, message);
    if (code === "max_active_runs") throw new ApiError(429, code, message);
    throw error;
  }
}
