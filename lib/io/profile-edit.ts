/**
 * One connection of `sluice.yaml` as the connections page shows and edits it. Pure: values in, values out.
 *
 * What the page sees is the file's own text for every non-secret field (so `{{ env_var('PG_HOST') }}` shows
 * as the reference it is), and for a secret field only whether it is set and, when the whole value is one
 * `{{ env_var('X') }}`, the variable's name — never a value. A key the connection's kind does not know is
 * treated as a secret too: a misspelt `pasword:` must not reach the browser either.
 *
 * An edit that does not re-type a secret keeps the stored one, as written in the file (a reference stays a
 * reference); a secret is removed only when the edit lists it in `clear`.
 */
import { createHash } from "node:crypto";
import type { z } from "zod";
import { connectionProfileSchema, SECRET_KEY, type ConnectionKind } from "./profiles";

/** The kinds of connection, in the order the page offers them. */
export const CONNECTION_KINDS = ["postgres", "duckdb", "gcs", "s3", "bigquery", "http", "files"] as const satisfies readonly ConnectionKind[];

/** One field of a kind's form, read off the zod schema (the one validator) with its description and default. */
export interface ConnectionFieldSpec {
  key: string;
  type: "string" | "number" | "boolean" | "headers";
  secret: boolean;
  description: string;
  default: string | null;
}

/** A secret field as the page sees it. */
export interface SecretState {
  set: boolean;
  /** The variable of a value that is one `{{ env_var('X') }}` reference, else null. */
  env_var: string | null;
}

/** One connection as the page sees it: no secret value anywhere in it. */
export interface ConnectionView {
  name: string;
  kind: string;
  fields: Record<string, string | number | boolean>;
  secrets: Record<string, SecretState>;
  /** HTTP headers by name; their values are secrets (an `Authorization` token). */
  headers: Array<{ name: string } & SecretState>;
  /** Changes whenever the connection as written changes: an edit based on an older read is refused. */
  version: string;
}

/** What the form sends: typed values (secrets only when re-typed), secrets to remove, and HTTP headers. */
export interface ConnectionEdit {
  kind: ConnectionKind;
  fields: Record<string, string | number | boolean>;
  clear?: readonly string[];
  /** A header without a value keeps the stored value of that header. */
  headers?: ReadonlyArray<{ name: string; value?: string }>;
}

type KindSchema = (typeof connectionProfileSchema.options)[number];

function schemaOf(kind: string): KindSchema | undefined {
  return connectionProfileSchema.options.find((option) => option.shape.kind.value === kind);
}

/** Keys of a `postgres` URL may carry a password: the whole URL is handled as a secret. */
function isSecretKey(kind: string, key: string): boolean {
  if (key === "kind") return false;
  if (SECRET_KEY.test(key) || (kind === "postgres" && key === "url")) return true;
  const schema = schemaOf(kind);
  // Unknown kind or key: hidden, since nothing says it is harmless.
  return schema === undefined || !(key in schema.shape);
}

function fieldType(field: z.ZodType): ConnectionFieldSpec["type"] {
  const inner = "unwrap" in field && typeof field.unwrap === "function" ? (field.unwrap() as z.ZodType) : field;
  switch (inner.def.type) {
    case "number":
      return "number";
    case "boolean":
      return "boolean";
    case "record":
      return "headers";
    default:
      return "string";
  }
}

/** The fields of a kind's form, in the schema's order (`kind` itself excluded). */
export function connectionFields(kind: ConnectionKind): ConnectionFieldSpec[] {
  const schema = schemaOf(kind);
  if (schema === undefined) return [];
  return Object.entries(schema.shape)
    .filter(([key]) => key !== "kind")
    .map(([key, field]: [string, z.ZodType]) => {
      const meta = field.meta() ?? {};
      const fallback: unknown = meta.default;
      return {
        key,
        type: fieldType(field),
        secret: isSecretKey(kind, key),
        description: typeof meta.description === "string" ? meta.description : "",
        default: fallback === undefined ? null : String(fallback),
      };
    });
}

/** The kind's own description (what it is for). */
export function kindDescription(kind: ConnectionKind): string {
  const description: unknown = schemaOf(kind)?.shape.kind.meta()?.description;
  return typeof description === "string" ? description : "";
}

/** `scheme://user:password@` inside a value that is not a secret field (a `base_url` with credentials). */
const URL_CREDENTIALS = /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:[^/\s@]+@/i;

const WHOLE_ENV_VAR = /^\{\{\s*env_var\(\s*(['"])([^'"]+)\1\s*(?:,\s*(['"])(?:(?!\3).)*\3\s*)?\)\s*\}\}$/;

function secretState(value: unknown): SecretState {
  const set = value !== undefined && value !== null && value !== "";
  const match = typeof value === "string" ? WHOLE_ENV_VAR.exec(value.trim()) : null;
  return { set, env_var: match ? match[2] : null };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The version of a connection as written (a hash: it tells nothing about the secrets it covers). */
export function connectionVersion(raw: unknown): string {
  return createHash("sha256").update(JSON.stringify(raw ?? null)).digest("hex").slice(0, 16);
}

/** Whether the page sees only "set" for this stored value: a secret key, a nested value, or a URL with credentials. */
function isHidden(kind: string, key: string, value: unknown): boolean {
  const scalar = typeof value === "string" || typeof value === "number" || typeof value === "boolean";
  return isSecretKey(kind, key) || !scalar || (typeof value === "string" && URL_CREDENTIALS.test(value));
}

/** A connection as the page sees it, from the file's (uninterpolated) value: secrets reduced to "set". */
export function connectionView(name: string, raw: unknown): ConnectionView {
  const entries = isRecord(raw) ? raw : {};
  const kind = typeof entries.kind === "string" ? entries.kind : "unknown";
  const view: ConnectionView = { name, kind, fields: {}, secrets: {}, headers: [], version: connectionVersion(raw) };
  for (const [key, value] of Object.entries(entries)) {
    if (key === "kind") continue;
    if (kind === "http" && key === "headers" && isRecord(value)) {
      view.headers = Object.entries(value).map(([header, text]) => ({ name: header, ...secretState(text) }));
      continue;
    }
    if (isHidden(kind, key, value) || !(typeof value === "string" || typeof value === "number" || typeof value === "boolean")) view.secrets[key] = secretState(value);
    else view.fields[key] = value;
  }
  return view;
}

/**
 * The connection to write: the edit's values, plus — when the stored connection is of the same kind — every
 * stored secret the edit neither re-typed nor cleared, as the file holds it. Empty values are left out
 * (an empty form field means "not set"). Validation is the caller's, with the file's zod schema.
 */
export function editedConnection(stored: unknown, edit: ConnectionEdit): Record<string, unknown> {
  const old = isRecord(stored) && stored.kind === edit.kind ? stored : {};
  const clear = new Set(edit.clear ?? []);
  const out: Record<string, unknown> = { kind: edit.kind };
  for (const [key, value] of Object.entries(edit.fields)) {
    if (key === "kind" || key === "headers" || value === "") continue;
    out[key] = value;
  }
  for (const [key, value] of Object.entries(old)) {
    if (key in out || key === "kind" || key === "headers" || clear.has(key)) continue;
    if (isHidden(edit.kind, key, value)) out[key] = value;
  }
  if (edit.kind === "http") {
    const storedHeaders = isRecord(old.headers) ? old.headers : {};
    if (edit.headers === undefined) {
      if (Object.keys(storedHeaders).length > 0 && !clear.has("headers")) out.headers = storedHeaders;
    } else {
      const headers: Record<string, unknown> = {};
      for (const { name, value } of edit.headers) {
        if (name.trim() === "") continue;
        headers[name.trim()] = value !== undefined && value !== "" ? value : (storedHeaders[name.trim()] ?? "");
      }
      if (Object.keys(headers).length > 0) out.headers = headers;
    }
  }
  return out;
}

/** The field of a located error's key path inside connection `name` (`connections.pg.port` → `port`), or null. */
export function fieldOfPath(path: string | undefined, name: string): string | null {
  if (path === undefined) return null;
  const prefix = `connections.${name}.`;
  if (!path.startsWith(prefix)) return null;
  return path.slice(prefix.length).split(/[.[]/)[0] || null;
}
