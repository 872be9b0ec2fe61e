/**
 * Connection profiles: the `connections:` map of `sluice.yaml`, by name, each with a `kind` and the fields
 * of that kind. Values may read the environment with `{{ env_var('X') }}` or `{{ env_var('X', 'default') }}`
 * (dbt's syntax, which Zoomcamp users know), and a `.env` file beside `sluice.yaml` fills variables the
 * environment lacks. Validation is zod with located errors (`sluice.yaml:12:5: connections.pg.port: …`).
 *
 * Every secret a profile holds — passwords, keys, tokens, service-account JSON, the credential part of URLs,
 * header values — is registered with `redact()` as it is loaded, so no error, log line or preview shows it.
 *
 * Other top-level keys of `sluice.yaml` belong to other parts of Sluice and are left alone here.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { UserError } from "../core/errors";
import { didYouMean } from "../core/suggest";
import { loadYaml, locatedError, schemaErrors, yamlErrorMap, type LoadedYaml } from "../core/yaml-file";
import type { PathSegment } from "../core/key-path";
import { parseDotEnv } from "./dotenv";
import { registerSecret } from "./redact";

const name = z.string().min(1);
const port = z.number().int().min(1).max(65535);

const postgres = z.strictObject({
  kind: z.literal("postgres"),
  url: name.optional(),
  host: name.optional(),
  port: port.optional(),
  database: name.optional(),
  user: name.optional(),
  password: z.string().optional(),
  schema: name.optional(),
  ssl: z.boolean().optional(),
});
const duckdb = z.strictObject({ kind: z.literal("duckdb"), path: name.optional() });
const files = z.strictObject({ kind: z.literal("files"), root: name.optional() });
const http = z.strictObject({
  kind: z.literal("http"),
  base_url: name.optional(),
  headers: z.record(z.string(), z.string()).optional(),
  retries: z.number().int().min(0).max(20).optional(),
  timeout_ms: z.number().int().min(1).optional(),
});
const gcs = z.strictObject({
  kind: z.literal("gcs"),
  bucket: name.optional(),
  project_id: name.optional(),
  credentials_file: name.optional(),
  credentials_json: z.string().optional(),
  api_endpoint: name.optional(),
});
const s3 = z.strictObject({
  kind: z.literal("s3"),
  bucket: name.optional(),
  region: name.optional(),
  endpoint: name.optional(),
  access_key_id: z.string().optional(),
  secret_access_key: z.string().optional(),
  session_token: z.string().optional(),
  force_path_style: z.boolean().optional(),
});
const bigquery = z.strictObject({
  kind: z.literal("bigquery"),
  project_id: name.optional(),
  dataset: name.optional(),
  location: name.optional(),
  credentials_file: name.optional(),
  credentials_json: z.string().optional(),
  api_endpoint: name.optional(),
});

const connection = z.discriminatedUnion("kind", [postgres, duckdb, files, http, gcs, s3, bigquery]);
const sluiceYaml = z.looseObject({ connections: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/, "connection names are letters, digits, _ and -"), connection).optional() });

export type PostgresProfile = z.infer<typeof postgres>;
export type DuckDBProfile = z.infer<typeof duckdb>;
export type FilesProfile = z.infer<typeof files>;
export type HttpProfile = z.infer<typeof http>;
export type GcsProfile = z.infer<typeof gcs>;
export type S3Profile = z.infer<typeof s3>;
export type BigQueryProfile = z.infer<typeof bigquery>;
/** One named connection of `sluice.yaml`. */
export type ConnectionProfile = z.infer<typeof connection>;
export type ConnectionKind = ConnectionProfile["kind"];

/** Keys per kind, for "did you mean" on an unknown key. */
const KEYS: Record<ConnectionKind, readonly string[]> = {
  postgres: Object.keys(postgres.shape),
  duckdb: Object.keys(duckdb.shape),
  files: Object.keys(files.shape),
  http: Object.keys(http.shape),
  gcs: Object.keys(gcs.shape),
  s3: Object.keys(s3.shape),
  bigquery: Object.keys(bigquery.shape),
};

/** The loaded profiles of a project. */
export interface Profiles {
  /** `sluice.yaml` path (for messages), or null when the project has none. */
  file: string | null;
  connections: Readonly<Record<string, ConnectionProfile>>;
}

/** Keys whose values are secrets whatever their kind. */
const SECRET_KEY = /password|secret|token|credentials_json|private_key|access_key_id/i;

const ENV_VAR = /\{\{\s*env_var\(\s*(['"])([^'"]+)\1\s*(?:,\s*(['"])((?:(?!\3).)*)\3\s*)?\)\s*\}\}/g;

/** Replaces `{{ env_var('X') }}` in every string of `value`; a missing variable without a default is an error at its key. */
function interpolate(value: unknown, path: PathSegment[], env: Readonly<Record<string, string | undefined>>, loaded: LoadedYaml, errors: UserError[]): unknown {
  if (typeof value === "string") {
    return value.replace(ENV_VAR, (whole, _q: string, variable: string, _q2: string | undefined, fallback: string | undefined) => {
      const found = env[variable];
      if (found !== undefined && found !== "") return found;
      if (fallback !== undefined) return fallback;
      errors.push(locatedError(loaded, "missing_env_var", path, `environment variable ${variable} is not set (and has no default); set it or add it to .env`));
      return whole;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, [...path, i], env, loaded, errors));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, [...path, k], env, loaded, errors)]));
  }
  return value;
}

/** Registers every secret of a profile with `redact()` (per thread: workers call it again). */
export function registerProfileSecrets(profile: ConnectionProfile): void {
  for (const [key, value] of Object.entries(profile)) {
    if (typeof value === "string" && SECRET_KEY.test(key)) registerSecret(value);
    if (typeof value === "string" && /:\/\//.test(value)) {
      try {
        const url = new URL(value);
        if (url.password !== "") registerSecret(decodeURIComponent(url.password));
      } catch {
        // not a URL after all
      }
    }
  }
  if (profile.kind === "http") for (const header of Object.values(profile.headers ?? {})) registerSecret(header);
}

/**
 * Parses `sluice.yaml` text. `env` is the environment merged with `.env` (the caller decides precedence).
 * @throws UserError (the first of all problems, each located; all of them in `errors` of the thrown error's cause)
 */
export function parseProfiles(text: string, file: string, env: Readonly<Record<string, string | undefined>>): Profiles {
  const loaded = loadYaml(text, file);
  const raw = loaded.value ?? {};
  const errors: UserError[] = [];
  const interpolated = interpolate(raw, [], env, loaded, errors);
  if (errors.length > 0) throw combine(errors);
  const parsed = sluiceYaml.safeParse(interpolated, { error: yamlErrorMap });
  if (!parsed.success) {
    throw combine(
      schemaErrors(parsed.error.issues, loaded, {
        knownKeys: (path) => {
          if (path.length === 0) return ["connections"];
          const kind = path.length === 2 && path[0] === "connections" ? connectionKindAt(interpolated, String(path[1])) : undefined;
          return kind !== undefined ? KEYS[kind] : [];
        },
      }),
    );
  }
  const connections = parsed.data.connections ?? {};
  for (const profile of Object.values(connections)) registerProfileSecrets(profile);
  return { file, connections };
}

function connectionKindAt(value: unknown, key: string): ConnectionKind | undefined {
  if (typeof value !== "object" || value === null || !("connections" in value)) return undefined;
  const connections: unknown = value.connections;
  if (typeof connections !== "object" || connections === null) return undefined;
  const entry: unknown = Object.entries(connections).find(([k]) => k === key)?.[1];
  if (typeof entry !== "object" || entry === null || !("kind" in entry)) return undefined;
  const kind = entry.kind;
  return typeof kind === "string" && kind in KEYS ? (kind as ConnectionKind) : undefined;
}

/** One error whose message lists every problem (the editor shows them all at once). */
function combine(errors: readonly UserError[]): UserError {
  if (errors.length === 1) return errors[0];
  const first = errors[0];
  return new UserError(first.code, errors.map((e) => e.message).join("\n"), first.location, { cause: errors });
}

/**
 * Loads `<projectDir>/sluice.yaml` (none → no connections) and `<projectDir>/.env`. The process
 * environment wins over `.env`, as with dotenv and dbt. `env` comes from the composition root (only
 * lib/server/env.ts reads process.env).
 */
export async function loadProfiles(projectDir: string, env: Readonly<Record<string, string | undefined>>): Promise<Profiles> {
  const file = join(projectDir, "sluice.yaml");
  const text = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return null;
    throw error;
  });
  if (text === null) return { file: null, connections: {} };
  const dotenvText = await readFile(join(projectDir, ".env"), "utf8").catch(() => "");
  const dotenv = parseDotEnv(dotenvText);
  for (const [key, value] of Object.entries(dotenv)) if (SECRET_KEY.test(key)) registerSecret(value);
  return parseProfiles(text, "sluice.yaml", { ...dotenv, ...definedOnly(env) });
}

function definedOnly(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

/**
 * The profile a block asks for: by name, or — when no name is given — the one called `default`, else the
 * only connection of that kind. `undefined` when none is configured and none was named (callers with a
 * sensible default, like the DuckDB warehouse, then use it).
 * @throws UserError naming the known connections when a named one is missing or of another kind.
 */
export function findProfile<K extends ConnectionKind>(profiles: Profiles, kind: K, requested?: string): Extract<ConnectionProfile, { kind: K }> | undefined {
  const ofKind = Object.entries(profiles.connections).filter((entry): entry is [string, Extract<ConnectionProfile, { kind: K }>] => entry[1].kind === kind);
  const where = profiles.file ?? "sluice.yaml";
  if (requested !== undefined) {
    const found = profiles.connections[requested];
    if (found === undefined) {
      const names = Object.keys(profiles.connections);
      throw new UserError("unknown_connection", `${where}: no connection "${requested}"${didYouMean(requested, names)} (known: ${names.join(", ") || "none"})`, { file: where });
    }
    if (found.kind !== kind) throw new UserError("wrong_connection_kind", `${where}: connection "${requested}" is ${found.kind}, not ${kind}`, { file: where });
    return ofKind.find(([n]) => n === requested)?.[1];
  }
  const byDefault = ofKind.find(([n]) => n === "default");
  if (byDefault) return byDefault[1];
  if (ofKind.length === 1) return ofKind[0][1];
  if (ofKind.length > 1) {
    throw new UserError("ambiguous_connection", `${where}: ${ofKind.length} ${kind} connections (${ofKind.map(([n]) => n).join(", ")}); name one, or call one "default"`, { file: where });
  }
  return undefined;
}
