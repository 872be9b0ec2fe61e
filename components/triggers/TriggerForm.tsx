"use client";

import { useEffect, useState } from "react";
import { apiCall, seg, type ApiErrorInfo } from "@/components/ui/api-client";
import type { ResponseOf, SchedulePreview, TriggerFieldError, TriggerJson } from "@/lib/core/api-contract";
import styles from "./triggers.module.css";
import { messageOf } from "@/lib/core/errors";

type ScheduleMode = "cron" | "preset" | "interval";

const PRESETS = ["@hourly", "@daily", "@weekly", "@monthly", "@once"] as const;

/** The form's editable state. */
interface Draft {
  name: string;
  type: "schedule" | "api";
  description: string;
  mode: ScheduleMode;
  cron: string;
  preset: string;
  interval: string;
  timezone: string;
  startDate: string;
  enabled: boolean;
  endDate: string;
  missedRunPolicy: "none" | "latest" | "all";
  maxActiveRuns: string;
  onMaxActive: "skip" | "wait";
  runTimeout: string;
  /** Variable overrides as JSON text, e.g. {"months": [10]}. */
  variables: string;
  /** API triggers: the variables a caller may set, comma-separated. */
  variablesAllowed: string;
}

const RUN_SETTINGS_DEFAULTS = { endDate: "", missedRunPolicy: "latest", maxActiveRuns: "", onMaxActive: "wait", runTimeout: "", variables: "", variablesAllowed: "" } as const;

function draftOf(trigger: TriggerJson | null): Draft {
  if (!trigger) {
    return {
      name: "",
      type: "schedule",
      description: "",
      mode: "cron",
      cron: "0 3 * * *",
      preset: "@daily",
      interval: "15m",
      timezone: "UTC",
      startDate: "",
      enabled: true,
      ...RUN_SETTINGS_DEFAULTS,
    };
  }
  const cron = trigger.schedule ?? "";
  const mode: ScheduleMode = trigger.interval !== null ? "interval" : cron.startsWith("@") ? "preset" : "cron";
  return {
    name: trigger.name,
    type: trigger.type,
    description: trigger.description,
    mode,
    cron: mode === "cron" ? cron : "0 3 * * *",
    preset: mode === "preset" ? cron : "@daily",
    interval: trigger.interval ?? "15m",
    timezone: trigger.timezone ?? "UTC",
    startDate: trigger.start_date ?? "",
    enabled: trigger.enabled,
    endDate: trigger.end_date ?? "",
    missedRunPolicy: trigger.missed_run_policy === "none" || trigger.missed_run_policy === "all" ? trigger.missed_run_policy : "latest",
    maxActiveRuns: trigger.max_active_runs === null ? "" : String(trigger.max_active_runs),
    onMaxActive: trigger.on_max_active === "skip" ? "skip" : "wait",
    runTimeout: trigger.run_timeout ?? "",
    variables: Object.keys(trigger.variables).length > 0 ? JSON.stringify(trigger.variables) : "",
    variablesAllowed: (trigger.variables_allowed ?? []).join(", "),
  };
}

/** The triggers.yaml shape of a trigger (what the API validates with the core schema). */
export function bodyOf(trigger: TriggerJson, patch: Partial<Record<string, unknown>> = {}): Record<string, unknown> {
  const body: Record<string, unknown> = { name: trigger.name, type: trigger.type, enabled: trigger.enabled };
  if (trigger.description) body.description = trigger.description;
  if (trigger.schedule !== null) body.schedule = trigger.schedule;
  if (trigger.interval !== null) body.interval = trigger.interval;
  if (trigger.timezone !== null) body.timezone = trigger.timezone;
  if (trigger.start_date !== null) body.start_date = trigger.start_date;
  if (trigger.end_date !== null) body.end_date = trigger.end_date;
  if (trigger.missed_run_policy !== null) body.missed_run_policy = trigger.missed_run_policy;
  if (Object.keys(trigger.variables).length > 0) body.variables = trigger.variables;
  if (trigger.max_active_runs !== null) body.max_active_runs = trigger.max_active_runs;
  if (trigger.on_max_active !== "wait") body.on_max_active = trigger.on_max_active;
  if (trigger.run_timeout !== null) body.run_timeout = trigger.run_timeout;
  if (trigger.variables_allowed && trigger.variables_allowed.length > 0) body.variables_allowed = trigger.variables_allowed;
  return { ...body, ...patch };
}

function scheduleFields(draft: Draft): Record<string, string> {
  const fields: Record<string, string> = {};
  if (draft.mode === "cron") fields.schedule = draft.cron;
  else if (draft.mode === "preset") fields.schedule = draft.preset;
  else fields.interval = draft.interval;
  fields.timezone = draft.timezone;
  if (draft.startDate.trim()) fields.start_date = draft.startDate.trim();
  return fields;
}

/** The run settings of the form in triggers.yaml keys (defaults left out), or a message when the variables are not JSON. */
function runSettingsOf(draft: Draft): Record<string, unknown> | string {
  const settings: Record<string, unknown> = {};
  if (draft.endDate.trim()) settings.end_date = draft.endDate.trim();
  if (draft.missedRunPolicy !== "latest") settings.missed_run_policy = draft.missedRunPolicy;
  if (draft.maxActiveRuns.trim()) settings.max_active_runs = Number(draft.maxActiveRuns);
  if (draft.onMaxActive !== "wait") settings.on_max_active = draft.onMaxActive;
  if (draft.runTimeout.trim()) settings.run_timeout = draft.runTimeout.trim();
  if (draft.variables.trim()) {
    try {
      settings.variables = JSON.parse(draft.variables);
    } catch (error) {
      return `variables: not JSON (${messageOf(error)}); write e.g. {"months": [10, 11]}`;
    }
  }
  return settings;
}

function previewQueryOf(fields: Record<string, string>): string {
  const query = new URLSearchParams();
  if (fields.schedule !== undefined) query.set("cron", fields.schedule);
  if (fields.interval !== undefined) query.set("interval", fields.interval);
  if (fields.timezone !== undefined) query.set("timezone", fields.timezone);
  if (fields.start_date !== undefined) query.set("start_date", fields.start_date);
  return query.toString();
}

function fieldErrors(error: ApiErrorInfo | null): TriggerFieldError[] {
  const list: unknown = error?.details?.errors;
  if (!Array.isArray(list)) return error ? [{ field: null, code: error.code, message: error.message }] : [];
  return list.filter((e): e is TriggerFieldError => typeof e === "object" && e !== null && "message" in e);
}

interface Props {
  pipeline: string;
  /** Null: a new trigger. */
  editing: TriggerJson | null;
  onSaved: (trigger: TriggerJson) => void;
  onCancel: () => void;
}

/** Create/edit a trigger, with live validation, the cron in words and the next 5 runs in its zone. */
export function TriggerForm({ pipeline, editing, onSaved, onCancel }: Props) {
  const [draft, setDraft] = useState<Draft>(() => draftOf(editing));
  const [preview, setPreview] = useState<SchedulePreview | null>(null);
  const [previewErrors, setPreviewErrors] = useState<TriggerFieldError[]>([]);
  const [saveErrors, setSaveErrors] = useState<TriggerFieldError[]>([]);
  const [saving, setSaving] = useState(false);
  const set = (patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch }));

  const fields = draft.type === "schedule" ? scheduleFields(draft) : null;
  const previewQuery = fields === null ? null : previewQueryOf(fields);
  const previewId = editing?.name ?? "new";
  useEffect(() => {
    if (previewQuery === null) return;
    let stale = false;
    const timer = setTimeout(() => {
      void apiCall<ResponseOf<"previewSchedule">>(`/api/pipelines/${seg(pipeline)}/triggers/${seg(previewId)}/preview?${previewQuery}`).then((result) => {
        if (stale) return;
        if (result.ok) {
          setPreview(result.data);
          setPreviewErrors([]);
        } else {
          setPreview(null);
          setPreviewErrors(fieldErrors(result.error));
        }
      });
    }, 250);
    return () => {
      stale = true;
      clearTimeout(timer);
    };
  }, [previewQuery, previewId, pipeline]);

  const errorsFor = (field: string) => [...saveErrors, ...(draft.type === "schedule" ? previewErrors : [])].filter((e) => e.field === field);
  const otherErrors = saveErrors.filter(
    (e) => e.field === null || !["name", "schedule", "interval", "timezone", "start_date", "end_date", "max_active_runs", "run_timeout", "variables", "variables_allowed"].includes(e.field),
  );

  async function save() {
    setSaving(true);
    const body: Record<string, unknown> = editing ? bodyOf(editing) : {};
    for (const key of ["schedule", "interval", "timezone", "start_date"]) delete body[key];
    Object.assign(body, { name: draft.name.trim(), type: draft.type, enabled: draft.enabled, ...(fields ?? {}) });
    if (draft.description.trim()) body.description = draft.description.trim();
    else delete body.description;
    const settings = runSettingsOf(draft);
    if (typeof settings === "string") {
      setSaving(false);
      setSaveErrors([{ field: "variables", code: "invalid_value", message: settings }]);
      return;
    }
    for (const key of ["end_date", "missed_run_policy", "max_active_runs", "on_max_active", "run_timeout", "variables"]) delete body[key];
    Object.assign(body, settings);
    delete body.variables_allowed;
    if (draft.type === "api") {
      delete body.missed_run_policy;
      delete body.end_date;
      const allowed = draft.variablesAllowed
        .split(",")
        .map((name) => name.trim())
        .filter((name) => name.length > 0);
      if (allowed.length > 0) body.variables_allowed = allowed;
    }
    const result = editing
      ? await apiCall<ResponseOf<"updateTrigger">>(`/api/pipelines/${seg(pipeline)}/triggers/${seg(editing.name)}`, { method: "PUT", body })
      : await apiCall<ResponseOf<"createTrigger">>(`/api/pipelines/${seg(pipeline)}/triggers`, { method: "POST", body });
    setSaving(false);
    if (result.ok) onSaved(result.data.trigger);
    else setSaveErrors(fieldErrors(result.error));
  }

  const errorList = (field: string) =>
    errorsFor(field).map((e, i) => (
      <span key={i} className={styles.error} data-testid={`error-${field}`}>
        {e.message}
      </span>
    ));

  return (
    <form
      className={styles.section}
      data-testid="trigger-form"
      onSubmit={(event) => {
        event.preventDefault();
        void save();
      }}
    >
      <h2>{editing ? `Edit trigger ${editing.name}` : "New trigger"}</h2>
      <div className={styles.row}>
        <div className={styles.field}>
          <label htmlFor="trigger-name">Name</label>
          <input id="trigger-name" className={styles.input} value={draft.name} disabled={editing !== null} onChange={(e) => set({ name: e.target.value })} placeholder="nightly" />
          {errorList("name")}
        </div>
        <div className={styles.field}>
          <label htmlFor="trigger-type">Type</label>
          <select id="trigger-type" className={styles.input} value={draft.type} disabled={editing !== null} onChange={(e) => set({ type: e.target.value === "api" ? "api" : "schedule" })}>
            <option value="schedule">schedule</option>
            <option value="api">api</option>
          </select>
        </div>
        <div className={styles.field}>
          <label htmlFor="trigger-description">Description</label>
          <input id="trigger-description" className={styles.input} value={draft.description} onChange={(e) => set({ description: e.target.value })} />
        </div>
        <label className={styles.row}>
          <input type="checkbox" checked={draft.enabled} onChange={(e) => set({ enabled: e.target.checked })} /> enabled
        </label>
      </div>
      {draft.type === "schedule" && (
        <>
          <div className={styles.row}>
            <div className={styles.field}>
              <label htmlFor="trigger-mode">Schedule</label>
              <select id="trigger-mode" className={styles.input} value={draft.mode} onChange={(e) => set({ mode: e.target.value === "preset" ? "preset" : e.target.value === "interval" ? "interval" : "cron" })}>
                <option value="cron">cron</option>
                <option value="preset">preset</option>
                <option value="interval">interval</option>
              </select>
            </div>
            {draft.mode === "cron" && (
              <div className={styles.field}>
                <label htmlFor="trigger-cron">Cron</label>
                <input id="trigger-cron" className={`${styles.input} ${errorsFor("schedule").length ? styles.inputError : ""}`} value={draft.cron} onChange={(e) => set({ cron: e.target.value })} />
                {errorList("schedule")}
              </div>
            )}
            {draft.mode === "preset" && (
              <div className={styles.field}>
                <label htmlFor="trigger-preset">Preset</label>
                <select id="trigger-preset" className={styles.input} value={draft.preset} onChange={(e) => set({ preset: e.target.value })}>
                  {PRESETS.map((p) => (
                    <option key={p} value={p}>
                      {p}
                    </option>
                  ))}
                </select>
                {errorList("schedule")}
              </div>
            )}
            {draft.mode === "interval" && (
              <div className={styles.field}>
                <label htmlFor="trigger-interval">Every</label>
                <input id="trigger-interval" className={`${styles.input} ${errorsFor("interval").length ? styles.inputError : ""}`} value={draft.interval} onChange={(e) => set({ interval: e.target.value })} placeholder="15m" />
                {errorList("interval")}
              </div>
            )}
            <div className={styles.field}>
              <label htmlFor="trigger-timezone">Time zone</label>
              <input id="trigger-timezone" className={`${styles.input} ${errorsFor("timezone").length ? styles.inputError : ""}`} value={draft.timezone} onChange={(e) => set({ timezone: e.target.value })} list="trigger-zones" />
              <datalist id="trigger-zones">
                {["UTC", "Europe/London", "Europe/Paris", "America/New_York", "America/Los_Angeles", "Asia/Tokyo", "Australia/Sydney"].map((z) => (
                  <option key={z} value={z} />
                ))}
              </datalist>
              {errorList("timezone")}
            </div>
            <div className={styles.field}>
              <label htmlFor="trigger-start">Start date (optional)</label>
              <input id="trigger-start" className={styles.input} value={draft.startDate} onChange={(e) => set({ startDate: e.target.value })} placeholder="2024-01-01" />
              {errorList("start_date")}
            </div>
          </div>
          <div data-testid="schedule-preview">
            {preview && (
              <>
                <div className={styles.description} data-testid="cron-description">
                  {preview.description}
                </div>
                <div className={styles.muted}>Next runs in {preview.timezone}:</div>
                <ol className={styles.next} data-testid="next-runs">
                  {preview.next.map((n) => (
                    <li key={n.at} title={n.at}>
                      {n.local}
                    </li>
                  ))}
                </ol>
                {preview.next.length === 0 && <div className={styles.muted}>no upcoming runs</div>}
              </>
            )}
          </div>
        </>
      )}
      {draft.type === "api" && (
        <>
          <p className={styles.muted}>After saving, generate a token: runs start with POST and the token as a bearer.</p>
          <div className={styles.field}>
            <label htmlFor="trigger-variables-allowed">Variables callers may set (comma-separated; none when empty)</label>
            <input
              id="trigger-variables-allowed"
              className={`${styles.input} ${errorsFor("variables_allowed").length ? styles.inputError : ""}`}
              value={draft.variablesAllowed}
              onChange={(e) => set({ variablesAllowed: e.target.value })}
              placeholder="months, region"
            />
            {errorList("variables_allowed")}
          </div>
        </>
      )}
      <fieldset className={styles.row} data-testid="run-settings">
        <legend>Run settings</legend>
        {draft.type === "schedule" && (
          <>
            <div className={styles.field}>
              <label htmlFor="trigger-end">End date (optional)</label>
              <input id="trigger-end" className={styles.input} value={draft.endDate} onChange={(e) => set({ endDate: e.target.value })} placeholder="2025-12-31" />
              {errorList("end_date")}
            </div>
            <div className={styles.field}>
              <label htmlFor="trigger-missed">Missed runs</label>
              <select id="trigger-missed" className={styles.input} value={draft.missedRunPolicy} onChange={(e) => set({ missedRunPolicy: e.target.value === "none" || e.target.value === "all" ? e.target.value : "latest" })}>
                <option value="latest">run the latest</option>
                <option value="all">run all</option>
                <option value="none">skip</option>
              </select>
            </div>
          </>
        )}
        <div className={styles.field}>
          <label htmlFor="trigger-max-active">Max active runs</label>
          <input id="trigger-max-active" className={styles.input} value={draft.maxActiveRuns} onChange={(e) => set({ maxActiveRuns: e.target.value })} placeholder="no limit" inputMode="numeric" />
          {errorList("max_active_runs")}
        </div>
        <div className={styles.field}>
          <label htmlFor="trigger-on-max">When at the limit</label>
          <select id="trigger-on-max" className={styles.input} value={draft.onMaxActive} onChange={(e) => set({ onMaxActive: e.target.value === "skip" ? "skip" : "wait" })}>
            <option value="wait">wait</option>
            <option value="skip">skip</option>
          </select>
        </div>
        <div className={styles.field}>
          <label htmlFor="trigger-timeout">Run timeout</label>
          <input id="trigger-timeout" className={styles.input} value={draft.runTimeout} onChange={(e) => set({ runTimeout: e.target.value })} placeholder="e.g. 2h" />
          {errorList("run_timeout")}
        </div>
        <div className={styles.field}>
          <label htmlFor="trigger-variables">Variables (JSON)</label>
          <input id="trigger-variables" className={styles.input} value={draft.variables} onChange={(e) => set({ variables: e.target.value })} placeholder='{"months": [10]}' />
          {errorList("variables")}
        </div>
      </fieldset>
      {otherErrors.map((e, i) => (
        <p key={i} className={styles.error} role="alert">
          {e.message}
        </p>
      ))}
      <div className={styles.row}>
        <button type="submit" className={`${styles.button} ${styles.primary}`} disabled={saving}>
          {editing ? "Save trigger" : "Create trigger"}
        </button>
        <button type="button" className={styles.button} onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
