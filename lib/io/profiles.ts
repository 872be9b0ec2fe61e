/**
 * Connection profiles: the `connections:` map of `sluice.yaml`, by name, each with a `kind` and the fields
 * of that kind. Values may read the environment with `{{ env_var('X') }}` or `{{ env_var('X', 'default') }}`
 * (dbt's syntax, which Zoomcamp users know), and a `.env` file beside `sluice.yaml` fills variables the
 * environment lacks. Validation is zod with located errors (`sluice.yaml:12:5: connections.pg.port: …`).
 *
 * Every secret a profile holds — passwords, keys, tokens, service-account JSON and the private key inside it,
 * the credential part of URLs, header values — and every value `{{ env_var() }}` read from the environment is
 * registered with the process's redactor (`redact.ts`) as it is loaded, so no error, log line or preview shows
 * it. So is every `.env` value (that file exists to hold secrets) and, from the process environment, every
 * variable whose name says it is a secret (`SECRET_ENV_NAME`).
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
  kind: z.literal("postgres").meta({ description: "PostgreSQL: `ctx.io.postgres(name?)`, and SQL blocks with `connection: <name>`." }),
  url: name.optional().meta({ description: "A connection URL, `postgres://user:password@host:5432/db`, instead of the separate keys (its password is hidden like one)." }),
  host: name.optional().meta({ description: "The server's host name or address.", default: "localhost" }),
  port: port.optional().meta({ description: "The server's port.", default: 5432 }),
  database: name.optional().meta({ description: "The database to connect to." }),
  user: name.optional().meta({ description: "The user to log in as." }),
  password: z.string().optional().meta({ description: "The user's password (a secret: usually `{{ env_var('PG_PASSWORD') }}`)." }),
  schema: name.optional().meta({ description: "The schema of unqualified table names in reads and writes.", default: "public" }),
  ssl: z.boolean().optional().meta({ description: "Connect over TLS.", default: false }),
});
const duckdb = z.strictObject({
  kind: z.literal("duckdb").meta({ description: "An embedded DuckDB warehouse file: `ctx.io.duckdb(name?)`, and SQL blocks with `connection: <name>`." }),
  path: name.optional().meta({ description: "The database file, relative to the project folder; `:memory:` for an in-memory database.", default: "<data dir>/warehouse.duckdb" }),
});
const files = z.strictObject({
  kind: z.literal("files").meta({ description: "Local files and Parquet lakes: `ctx.io.files`." }),
  root: name.optional().meta({ description: "The folder relative paths of `ctx.io.files` resolve in, relative to the project folder.", default: "." }),
});
const http = z.strictObject({
  kind: z.literal("http").meta({ description: "Downloads: `ctx.io.http`." }),
  base_url: name.optional().meta({ description: "Relative URLs given to `ctx.io.http` resolve against it." }),
  headers: z.record(z.string(), z.string()).optional().meta({ description: "Headers sent with every request (their values are secrets: an `Authorization` token stays out of logs)." }),
  retries: z.number().int().min(0).max(20).optional().meta({ description: "Retries of a failed download (a network error or a 5xx/429 answer), with backoff.", default: 4 }),
  timeout_ms: z.number().int().min(1).optional().meta({ description: "The longest a request may take, in milliseconds.", default: 60000 }),
});
const gcs = z.strictObject({
  kind: z.literal("gcs").meta({ description: "A Google Cloud Storage bucket: `ctx.io.gcs(name?)`." }),
  bucket: name.optional().meta({ description: "The bucket bare keys (`green_taxi/`) resolve in." }),
  project_id: name.optional().meta({ description: "The Google Cloud project." }),
  credentials_file: name.optional().meta({ description: "A service-account key file, relative to the project folder. With neither this nor `credentials_json`: Application Default Credentials." }),
  credentials_json: z.string().optional().meta({ description: "A service-account key as JSON text (a secret: usually `{{ env_var('GCP_KEY_JSON') }}`)." }),
  api_endpoint: name.optional().meta({ description: "Another endpoint for the JSON API (a local test server, a private endpoint); no credentials are sent to it." }),
});
const s3 = z.strictObject({
  kind: z.literal("s3").meta({ description: "An S3 (or S3-compatible) bucket: `ctx.io.s3(name?)`." }),
  bucket: name.optional().meta({ description: "The bucket bare keys resolve in." }),
  region: name.optional().meta({ description: "The bucket's region.", default: "us-east-1" }),
  endpoint: name.optional().meta({ description: "Another endpoint (MinIO, a local test server, another S3-compatible store)." }),
  access_key_id: z.string().optional().meta({ description: "A static access key id (a secret); give both keys or neither (then the AWS SDK's default chain)." }),
  secret_access_key: z.string().optional().meta({ description: "The static key's secret." }),
  session_token: z.string().optional().meta({ description: "A session token for temporary credentials (a secret)." }),
  force_path_style: z.boolean().optional().meta({ description: "Path-style URLs (`endpoint/bucket/key`), which most S3-compatible stores need.", default: "true with `endpoint`, else false" }),
});
const bigquery = z.strictObject({
  kind: z.literal("bigquery").meta({ description: "Google BigQuery: `ctx.io.bigquery(name?)`." }),
  project_id: name.optional().meta({ description: "The Google Cloud project jobs run in." }),
  dataset: name.optional().meta({ description: "The dataset of bare table names (`green_trips`) and unqualified names in queries." }),
  location: name.optional().meta({ description: "Where jobs run and datasets are created (`US`, `EU`, a region)." }),
  credentials_file: name.optional().meta({ description: "A service-account key file, relative to the project folder. With neither this nor `credentials_json`: Application Default Credentials." }),
  credentials_json: z.string().optional().meta({ description: "A service-account key as JSON text (a secret: usually `{{ env_var('GCP_KEY_JSON') }}`)." }),
  api_endpoint: name.optional().meta({ description: "Another endpoint for the REST API (a local test server, a private endpoint)." }),
});

const connection = z.discriminatedUnion("kind", [postgres, duckdb, files, http, gcs, s3, bigquery]);
/** One connection of `sluice.yaml`, by kind: scripts/gen-reference.ts writes docs/reference/sluice-yaml.md from it. */
export const connectionProfileSchema = connection;
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
export const SECRET_KEY = /password|secret|token|credentials_json|private_key|access_key_id/i;

const ENV_VAR = /\{\{\s*env_var\(\s*(['"])([^'"]+)\1\s*(?:,\s*(['"])((?:(?!\3).)*)\3\s*)?\)\s*\}\}/g;

/**
 * Environment variable names that hold secrets by convention. Their values are hidden wherever they could
 * reach a block (`ctx.env`) or a message; other variables (PATH, HOME, PGUSER=postgres…) are not, because
 * hiding every common word would mangle messages. The password inside any variable holding a URL
 * (`DATABASE_URL=postgres://u:pw@…`) is hidden too.
 */
export const SECRET_ENV_NAME = /PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL|AUTH|(^|_)KEY$/i;

/**
 * Registers, under their variable names, every `.env` value and every environment value whose name matches
 * `SECRET_ENV_NAME`: what a block can read through `ctx.env`. Done once per process at start-up, because a
 * block's `ctx.env` calls happen where the block runs (another thread or process) and are not seen here.
 */
export function registerEnvSecrets(env: Readonly<Record<string, string | undefined>>, dotenv: Readonly<Record<string, string>> = {}): void {
  for (const [name, value] of Object.entries(dotenv)) registerSecret(value, name);
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (SECRET_ENV_NAME.test(name)) registerSecret(value, name);
    else if (value.includes("://")) registerSecret(urlPassword(value), name);
  }
}

function urlPassword(text: string): string | undefined {
  try {
    const password = new URL(text).password;
    return password === "" ? undefined : decodeURIComponent(password);
  } catch {
    return undefined;
  }
}

/** The `.env` file beside `sluice.yaml`, parsed; none → `{}`. */
export async function loadDotEnv(projectDir: string): Promise<Record<string, string>> {
  const text = await readFile(join(projectDir, ".env"), "utf8").catch(() => "");
  return parseDotEnv(text);
}

/**
 * Replaces `{{ env_var('X') }}` in every string of `value`; a missing variable without a default is an error
 * at its key. Every value read from `env` (not a default written in the file) is registered as a secret.
 */
export function interpolate(value: unknown, path: PathSegment[], env: Readonly<Record<string, string | undefined>>, loaded: LoadedYaml, errors: UserError[]): unknown {
  if (typeof value === "string") {
    return value.replace(ENV_VAR, (whole, _q: string, variable: string, _q2: string | undefined, fallback: string | undefined) => {
      const found = env[variable];
      if (found !== undefined && found !== "") {
        registerSecret(found);
        return found;
      }
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
  if ((profile.kind === "gcs" || profile.kind === "bigquery") && profile.credentials_json !== undefined) registerServiceAccountKey(profile.credentials_json);
}

/** The private key inside a service-account JSON: a block may print the parsed key rather than the JSON text. */
function registerServiceAccountKey(json: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return; // the connector reports invalid JSON when it is used
  }
  if (typeof parsed !== "object" || parsed === null) return;
  for (const key of ["private_key", "private_key_id", "client_secret", "refresh_token"]) {
    const value: unknown = Reflect.get(parsed, key);
    if (typeof value === "string") registerSecret(value);
  }
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
  const dotenv = await loadDotEnv(projectDir);
  registerEnvSecrets(env, dotenv);
  if (text === null) return { file: null, connections: {} };
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
