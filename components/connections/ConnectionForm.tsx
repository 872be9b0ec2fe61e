"use client";

import { useId, useState, type FormEvent } from "react";
import { callApi } from "@/components/ui/api-client";
import type { ConnectionEditJson, ConnectionFieldSpecJson, ConnectionsListingJson, ConnectionTestJson, ConnectionViewJson } from "@/lib/core/api-contract";
import styles from "./connections.module.css";

type KindSpec = ConnectionsListingJson["kinds"][number];
type Kind = KindSpec["kind"];

interface HeaderRow {
  name: string;
  value: string;
  /** The file holds a value for this header: leaving the value empty keeps it. */
  stored: boolean;
}

export interface ConnectionFormProps {
  kinds: KindSpec[];
  /** The connection being edited (its name is then fixed), or null for a new one. */
  editing: ConnectionViewJson | null;
  onSaved: (connection: ConnectionViewJson, created: boolean) => void;
  onCancel: () => void;
}

/** Form text of a stored plain value (the file's own text: an `env_var()` reference shows as written). */
function textOf(value: string | number | boolean | undefined): string {
  return value === undefined ? "" : String(value);
}

/** What the form sends for a plain field: numbers as numbers when they are numbers, else the text (the server says what is wrong). */
function valueOf(spec: ConnectionFieldSpecJson, text: string): string | number | boolean {
  if (spec.type === "number" && /^-?\d+(\.\d+)?$/.test(text.trim())) return Number(text.trim());
  if (spec.type === "boolean") return text === "true";
  return text;
}

/**
 * Adds or edits one connection of `sluice.yaml`: a field per key of the kind (from the server's schema, with
 * its description and default), secrets as password fields that are never filled in (empty keeps the stored
 * value; "Remove" clears it), HTTP headers as name/value rows. The server validates with the file's own schema
 * and answers with each problem located; those show under their field. "Test connection" connects with the
 * values as typed, without saving.
 */
export function ConnectionForm({ kinds, editing, onSaved, onCancel }: ConnectionFormProps) {
  const formId = useId();
  const initialKind = (kinds.find((k) => k.kind === editing?.kind)?.kind ?? kinds[0]?.kind ?? "postgres") as Kind;
  const [name, setName] = useState(editing?.name ?? "");
  const [kind, setKind] = useState<Kind>(initialKind);
  const [values, setValues] = useState<Record<string, string>>(() => Object.fromEntries(Object.entries(editing?.fields ?? {}).map(([k, v]) => [k, textOf(v)])));
  const [secrets, setSecrets] = useState<Record<string, string>>({});
  const [clear, setClear] = useState<Set<string>>(new Set());
  const [headers, setHeaders] = useState<HeaderRow[]>(() => (editing?.headers ?? []).map((h) => ({ name: h.name, value: "", stored: h.set })));
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState<"save" | "test" | null>(null);
  const [tested, setTested] = useState<ConnectionTestJson | null>(null);

  const spec = kinds.find((k) => k.kind === kind);
  const fields = spec?.fields ?? [];
  /** Secrets the file holds for this connection (only when the kind is unchanged: another kind starts empty). */
  const stored = editing !== null && editing.kind === kind ? editing.secrets : {};
  const nameProblem = name === "" ? "a connection needs a name" : /^[A-Za-z0-9_-]+$/.test(name) ? null : "use letters, digits, _ and - only";

  function edit(): ConnectionEditJson {
    const out: Record<string, string | number | boolean> = {};
    for (const field of fields) {
      if (field.type === "headers") continue;
      if (field.secret || stored[field.key] !== undefined) {
        const typed = secrets[field.key] ?? "";
        if (typed !== "") out[field.key] = typed;
        continue;
      }
      const text = values[field.key] ?? "";
      if (text !== "") out[field.key] = valueOf(field, text);
    }
    const body: ConnectionEditJson = { kind, fields: out };
    const cleared = [...clear].filter((key) => stored[key]?.set);
    if (cleared.length > 0) body.clear = cleared;
    if (kind === "http") body.headers = headers.filter((h) => h.name.trim() !== "").map((h) => (h.value === "" ? { name: h.name.trim() } : { name: h.name.trim(), value: h.value }));
    return body;
  }

  function showError(error: { message: string; details?: Record<string, unknown> }) {
    const listed = Array.isArray(error.details?.errors) ? (error.details.errors as Array<{ field?: unknown; message?: unknown }>) : [];
    const byField: Record<string, string> = {};
    const general: string[] = [];
    for (const item of listed) {
      const message = typeof item.message === "string" ? item.message : "";
      if (typeof item.field === "string") byField[item.field] = byField[item.field] ? `${byField[item.field]}\n${message}` : message;
      else general.push(message);
    }
    setFieldErrors(byField);
    setFormError(listed.length === 0 ? error.message : general.length > 0 ? general.join("\n") : "Some fields need fixing: see below.");
  }

  async function save(event: FormEvent) {
    event.preventDefault();
    if (nameProblem) {
      setFieldErrors({ name: nameProblem });
      return;
    }
    setBusy("save");
    setTested(null);
    // "new": an existing connection of that name is refused rather than overwritten.
    const result = await callApi("putConnection", { params: { name }, body: edit(), version: editing?.version ?? "new" });
    setBusy(null);
    if (!result.ok) {
      showError(result.error);
      return;
    }
    setFieldErrors({});
    setFormError(null);
    onSaved(result.data.connection, result.data.created);
  }

  async function test() {
    if (nameProblem) {
      setFieldErrors({ name: nameProblem });
      return;
    }
    setBusy("test");
    setTested(null);
    const result = await callApi("testConnection", { params: { name }, body: { edit: edit() } });
    setBusy(null);
    if (!result.ok) {
      showError(result.error);
      return;
    }
    setFieldErrors({});
    setFormError(null);
    setTested(result.data);
  }

  const fieldId = (key: string) => `${formId}-${key}`;
  const errorOf = (key: string) =>
    fieldErrors[key] ? (
      <p id={`${fieldId(key)}-error`} className={styles.fieldError}>
        {fieldErrors[key]}
      </p>
    ) : null;

  return (
    <form className={styles.form} onSubmit={(event) => void save(event)} aria-label={editing ? `Edit connection ${editing.name}` : "New connection"} noValidate>
      <h2>{editing ? `Edit ${editing.name}` : "New connection"}</h2>
      {formError && (
        <p className={styles.formError} role="alert">
          {formError}
        </p>
      )}
      <div className={styles.row}>
        <label htmlFor={fieldId("name")}>Name</label>
        <input
          id={fieldId("name")}
          value={name}
          disabled={editing !== null}
          onChange={(event) => setName(event.target.value)}
          aria-invalid={fieldErrors.name ? true : undefined}
          aria-describedby={fieldErrors.name ? `${fieldId("name")}-error` : undefined}
          placeholder="default"
          autoComplete="off"
        />
        {errorOf("name")}
      </div>
      <div className={styles.row}>
        <label htmlFor={fieldId("kind")}>Kind</label>
        <select id={fieldId("kind")} value={kind} onChange={(event) => setKind(event.target.value as Kind)}>
          {kinds.map((k) => (
            <option key={k.kind} value={k.kind}>
              {k.kind}
            </option>
          ))}
        </select>
        {spec?.description && <p className={styles.hint}>{spec.description}</p>}
      </div>
      {fields.map((field) => {
        const id = fieldId(field.key);
        const described = [field.description ? `${id}-hint` : "", fieldErrors[field.key] ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;
        if (field.type === "headers") {
          return (
            <fieldset key={field.key} className={styles.headers}>
              <legend>Headers</legend>
              <p className={styles.hint}>{field.description}</p>
              {headers.map((header, index) => (
                <div key={index} className={styles.headerRow}>
                  <input
                    aria-label={`Header ${index + 1} name`}
                    value={header.name}
                    disabled={header.stored}
                    onChange={(event) => setHeaders(headers.map((h, i) => (i === index ? { ...h, name: event.target.value } : h)))}
                  />
                  <input
                    type="password"
                    aria-label={`Header ${header.name || index + 1} value`}
                    value={header.value}
                    placeholder={header.stored ? "set — leave empty to keep" : "value"}
                    autoComplete="new-password"
                    onChange={(event) => setHeaders(headers.map((h, i) => (i === index ? { ...h, value: event.target.value } : h)))}
                  />
                  <button type="button" onClick={() => setHeaders(headers.filter((_, i) => i !== index))}>
                    Remove header {header.name}
                  </button>
                </div>
              ))}
              <button type="button" onClick={() => setHeaders([...headers, { name: "", value: "", stored: false }])}>
                Add header
              </button>
              {errorOf(field.key)}
            </fieldset>
          );
        }
        // A plain key whose stored value the server hid (a URL with a password in it) is edited like a secret.
        if (field.secret || stored[field.key] !== undefined) {
          const state = stored[field.key];
          const placeholder = state?.set ? (state.env_var ? `from env ${state.env_var} — leave empty to keep` : "set — leave empty to keep") : "not set";
          return (
            <div key={field.key} className={styles.row}>
              <label htmlFor={id}>
                {field.key} <span className={styles.secretTag}>secret</span>
              </label>
              <input
                id={id}
                type="password"
                value={secrets[field.key] ?? ""}
                placeholder={placeholder}
                autoComplete="new-password"
                disabled={clear.has(field.key)}
                aria-invalid={fieldErrors[field.key] ? true : undefined}
                aria-describedby={described}
                onChange={(event) => setSecrets({ ...secrets, [field.key]: event.target.value })}
              />
              {state?.set && (
                <label className={styles.inline}>
                  <input
                    type="checkbox"
                    checked={clear.has(field.key)}
                    onChange={(event) => {
                      const next = new Set(clear);
                      if (event.target.checked) next.add(field.key);
                      else next.delete(field.key);
                      setClear(next);
                    }}
                  />
                  Remove the stored {field.key}
                </label>
              )}
              {field.description && (
                <p id={`${id}-hint`} className={styles.hint}>
                  {field.description}
                </p>
              )}
              {errorOf(field.key)}
            </div>
          );
        }
        return (
          <div key={field.key} className={styles.row}>
            <label htmlFor={id}>{field.key}</label>
            {field.type === "boolean" ? (
              <select id={id} value={values[field.key] ?? ""} aria-describedby={described} onChange={(event) => setValues({ ...values, [field.key]: event.target.value })}>
                <option value="">default{field.default ? ` (${field.default})` : ""}</option>
                <option value="true">true</option>
                <option value="false">false</option>
              </select>
            ) : (
              <input
                id={id}
                value={values[field.key] ?? ""}
                inputMode={field.type === "number" ? "numeric" : undefined}
                placeholder={field.default ?? ""}
                autoComplete="off"
                aria-invalid={fieldErrors[field.key] ? true : undefined}
                aria-describedby={described}
                onChange={(event) => setValues({ ...values, [field.key]: event.target.value })}
              />
            )}
            {field.description && (
              <p id={`${id}-hint`} className={styles.hint}>
                {field.description}
              </p>
            )}
            {errorOf(field.key)}
          </div>
        );
      })}
      <div className={styles.buttons}>
        <button type="submit" className={styles.primary} disabled={busy !== null}>
          {busy === "save" ? "Saving…" : "Save"}
        </button>
        <button type="button" onClick={() => void test()} disabled={busy !== null}>
          {busy === "test" ? "Testing…" : "Test connection"}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
      <p aria-live="polite" className={tested ? (tested.ok ? styles.ok : styles.failed) : undefined} data-testid="form-test-result">
        {tested ? `${tested.ok ? "Connected" : "Failed"}: ${tested.message} (${tested.elapsed_ms} ms)` : ""}
      </p>
    </form>
  );
}
