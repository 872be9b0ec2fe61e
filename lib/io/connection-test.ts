/**
 * "Test connection" on the connections page: really connects with the profile, once, within a time limit, and
 * says what happened in one line a user can act on ("connection refused at 127.0.0.1:5433", "password
 * authentication failed for user …", "bucket lake: not found"). Every message passes through the redactor.
 *
 * What each kind does: Postgres `SELECT 1`; DuckDB opens the file read-only (a file not created yet is fine:
 * the first write creates it); GCS and S3 list at most one object of the bucket (or one bucket when none is
 * named) at the configured endpoint; BigQuery gets the dataset (or lists one); HTTP a HEAD of `base_url`
 * (GET when HEAD is refused); files checks that the root folder exists.
 */
import { stat } from "node:fs/promises";
import { isAbsolute, join, resolve } from "node:path";
import pg from "pg";
import { messageOf } from "../core/errors";
import type { BigQueryConnectorDeps } from "./cloud/bigquery";
import { parseServiceAccount } from "./cloud-io";
import type { ConnectionProfile } from "./profiles";
import { redact, redactUrl } from "./redact";

export interface ConnectionTestResult {
  ok: boolean;
  /** One line: what was reached, or why not. Redacted. */
  message: string;
  elapsedMs: number;
}

export interface ConnectionTestOptions {
  /** Relative paths of profiles (DuckDB files, key files, the files root) resolve here. */
  projectDir: string;
  /** Where the default DuckDB warehouse lives (`<data dir>/warehouse.duckdb`). */
  dataDir: string;
  /** The longest the whole test may take (default 10 s). */
  timeoutMs?: number;
  /** BigQuery client classes (see `BigQueryConnectorDeps`: tests under jest pass Node-loaded ones). */
  bigQueryDeps?: BigQueryConnectorDeps;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const NETWORK_CODES = /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|ENETUNREACH|EPIPE|ECONNABORTED)$/;

/** Tests one connection; never throws (a failure is a result). */
export async function testConnection(name: string, profile: ConnectionProfile, options: ConnectionTestOptions): Promise<ConnectionTestResult> {
  const started = performance.now();
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const where = `${profile.kind} "${name}"`;
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new TimeoutError(`no answer within ${formatSeconds(timeoutMs)}`));
    }, timeoutMs);
  });
  try {
    const reached = await Promise.race([attempt(profile, options, controller.signal, timeoutMs), timedOut]);
    return { ok: true, message: redact(`${where}: ${reached}`), elapsedMs: Math.round(performance.now() - started) };
  } catch (error) {
    return { ok: false, message: redact(`${where}: ${describeFailure(error, fallbackAddress(profile))}`), elapsedMs: Math.round(performance.now() - started) };
  } finally {
    clearTimeout(timer);
  }
}

class TimeoutError extends Error {}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

function at(projectDir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(projectDir, path);
}

async function attempt(profile: ConnectionProfile, options: ConnectionTestOptions, signal: AbortSignal, timeoutMs: number): Promise<string> {
  switch (profile.kind) {
    case "postgres":
      return testPostgres(profile, timeoutMs, signal);
    case "duckdb":
      return testDuckDB(profile.path === undefined ? join(options.dataDir, "warehouse.duckdb") : profile.path === ":memory:" ? ":memory:" : at(options.projectDir, profile.path));
    case "files": {
      const root = at(options.projectDir, profile.root ?? ".");
      const info = await stat(root).catch(() => null);
      if (info === null) throw new Error(`the folder ${profile.root ?? "."} does not exist`);
      if (!info.isDirectory()) throw new Error(`${profile.root ?? "."} is not a folder`);
      return `the folder ${profile.root ?? "."} exists`;
    }
    case "http":
      return testHttp(profile.base_url, profile.headers ?? {}, signal);
    case "s3":
      return testS3(profile);
    case "gcs":
      return testGcs(profile, options.projectDir);
    case "bigquery":
      return testBigQuery(profile, options);
  }
}

async function testPostgres(profile: Extract<ConnectionProfile, { kind: "postgres" }>, timeoutMs: number, signal: AbortSignal): Promise<string> {
  // The test's own limit answers first; pg's limits only make sure the socket is closed in the end.
  const config: pg.ClientConfig = { connectionTimeoutMillis: timeoutMs + 1000, query_timeout: timeoutMs + 1000 };
  if (profile.url !== undefined) config.connectionString = profile.url;
  else Object.assign(config, { host: profile.host ?? "localhost", port: profile.port ?? 5432, database: profile.database, user: profile.user, password: profile.password });
  if (profile.ssl) config.ssl = true;
  const client = new pg.Client(config);
  client.on("error", () => undefined); // a late socket error after the test ended has nobody to tell
  signal.addEventListener("abort", () => void client.end().catch(() => undefined), { once: true });
  try {
    await client.connect();
    const result = await client.query<{ version: string }>("SELECT 1 AS one, current_setting('server_version') AS version");
    return `connected to ${serverOf(profile)}, SELECT 1 answered (PostgreSQL ${result.rows[0]?.version ?? "?"})`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function serverOf(profile: Extract<ConnectionProfile, { kind: "postgres" }>): string {
  if (profile.url !== undefined) {
    try {
      const url = new URL(profile.url);
      return `${url.hostname}:${url.port || 5432}/${url.pathname.slice(1)}`;
    } catch {
      return "the server";
    }
  }
  return `${profile.host ?? "localhost"}:${profile.port ?? 5432}/${profile.database ?? ""}`;
}

async function testDuckDB(path: string): Promise<string> {
  if (path !== ":memory:" && (await stat(path).catch(() => null)) === null) return `${path} does not exist yet: the first write creates it`;
  const { DuckDBInstance } = load<typeof import("@duckdb/node-api")>("duckdb");
  const instance = await DuckDBInstance.create(path, path === ":memory:" ? {} : { access_mode: "READ_ONLY" });
  const connection = await instance.connect();
  try {
    const result = await connection.runAndReadAll("SELECT count(*) AS tables FROM information_schema.tables");
    const tables = Number(result.getRowObjects()[0]?.tables ?? 0);
    return `opened ${path === ":memory:" ? "an in-memory database" : path} (${tables} table${tables === 1 ? "" : "s"})`;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

async function testHttp(baseUrl: string | undefined, headers: Record<string, string>, signal: AbortSignal): Promise<string> {
  if (baseUrl === undefined) return "no base_url: blocks give full URLs, nothing to reach";
  let response = await fetch(baseUrl, { method: "HEAD", headers, signal, redirect: "follow" });
  if (response.status === 405 || response.status === 501) response = await fetch(baseUrl, { method: "GET", headers, signal, redirect: "follow" });
  await response.body?.cancel().catch(() => undefined);
  if (!response.ok) throw new Error(`${redactUrl(baseUrl)} answered HTTP ${response.status} ${response.statusText}`.trim());
  return `${redactUrl(baseUrl)} answered HTTP ${response.status}`;
}

async function testS3(profile: Extract<ConnectionProfile, { kind: "s3" }>): Promise<string> {
  if ((profile.access_key_id === undefined) !== (profile.secret_access_key === undefined)) throw new Error("give both access_key_id and secret_access_key, or neither");
  const { S3Connector } = load<typeof import("./cloud/s3")>("s3");
  const { ListBucketsCommand, ListObjectsV2Command } = load<typeof import("@aws-sdk/client-s3")>("s3-client");
  const connector = new S3Connector({
    region: profile.region,
    endpoint: profile.endpoint,
    forcePathStyle: profile.force_path_style ?? profile.endpoint !== undefined,
    accessKeyId: profile.access_key_id,
    secretAccessKey: profile.secret_access_key,
    sessionToken: profile.session_token,
  });
  const endpoint = profile.endpoint ?? `the ${profile.region ?? "us-east-1"} region`;
  try {
    if (profile.bucket === undefined) {
      const listed = await connector.client.send(new ListBucketsCommand({}));
      return `listed ${listed.Buckets?.length ?? 0} bucket(s) at ${endpoint}`;
    }
    const listed = await connector.client.send(new ListObjectsV2Command({ Bucket: profile.bucket, MaxKeys: 1 }));
    return `listed s3://${profile.bucket} at ${endpoint} (${(listed.KeyCount ?? 0) > 0 ? "not empty" : "empty"})`;
  } finally {
    await connector.close();
  }
}

function googleCredentials(profile: { credentials_json?: string; credentials_file?: string }, projectDir: string, name: string) {
  return {
    credentials: profile.credentials_json === undefined ? undefined : parseServiceAccount(profile.credentials_json, `connection "${name}"`),
    keyFilename: profile.credentials_file === undefined ? undefined : at(projectDir, profile.credentials_file),
  };
}

async function testGcs(profile: Extract<ConnectionProfile, { kind: "gcs" }>, projectDir: string): Promise<string> {
  const { GcsConnector } = load<typeof import("./cloud/gcs")>("gcs");
  const connector = new GcsConnector({ projectId: profile.project_id, apiEndpoint: profile.api_endpoint, ...googleCredentials(profile, projectDir, "gcs") });
  const endpoint = profile.api_endpoint ?? "Google Cloud Storage";
  try {
    if (profile.bucket === undefined) {
      const [buckets] = await connector.storage.getBuckets({ maxResults: 1, autoPaginate: false });
      return `listed the project's buckets at ${endpoint} (${buckets.length > 0 ? "at least one" : "none"})`;
    }
    const [files] = await connector.storage.bucket(profile.bucket).getFiles({ maxResults: 1, autoPaginate: false });
    return `listed gs://${profile.bucket} at ${endpoint} (${files.length > 0 ? "not empty" : "empty"})`;
  } finally {
    await connector.close();
  }
}

async function testBigQuery(profile: Extract<ConnectionProfile, { kind: "bigquery" }>, options: ConnectionTestOptions): Promise<string> {
  if (profile.project_id === undefined) throw new Error("project_id is not set");
  const { BigQueryConnector } = load<typeof import("./cloud/bigquery")>("bigquery");
  const connector = new BigQueryConnector(
    { projectId: profile.project_id, location: profile.location, apiEndpoint: profile.api_endpoint, ...googleCredentials(profile, options.projectDir, "bigquery") },
    options.bigQueryDeps,
  );
  try {
    if (profile.dataset !== undefined) {
      await connector.client.dataset(profile.dataset).get();
      return `found dataset ${profile.project_id}.${profile.dataset}`;
    }
    await connector.client.getDatasets({ maxResults: 1, autoPaginate: false });
    return `listed the datasets of ${profile.project_id}`;
  } finally {
    await connector.close();
  }
}

/**
 * A client module, loaded on first use: the cloud SDKs take long to load and most servers test one kind at
 * most. `require`, as in cloud-io.ts: under tsx's CommonJS hook a dynamic `import()` of a .ts file fails.
 */
function load<T>(name: "duckdb" | "s3" | "s3-client" | "gcs" | "bigquery"): T {
  /* eslint-disable @typescript-eslint/no-require-imports */
  switch (name) {
    case "duckdb":
      return require("@duckdb/node-api") as T;
    case "s3":
      return require("./cloud/s3") as T;
    case "s3-client":
      return require("@aws-sdk/client-s3") as T;
    case "gcs":
      return require("./cloud/gcs") as T;
    case "bigquery":
      return require("./cloud/bigquery") as T;
  }
  /* eslint-enable @typescript-eslint/no-require-imports */
}

/** The address a network failure is about when the error does not say (`host:port` of the profile). */
function fallbackAddress(profile: ConnectionProfile): string | null {
  switch (profile.kind) {
    case "postgres":
      return serverOf(profile).replace(/\/.*$/, "");
    case "s3":
      return profile.endpoint ?? null;
    case "gcs":
    case "bigquery":
      return profile.api_endpoint ?? null;
    case "http":
      return profile.base_url ?? null;
    default:
      return null;
  }
}

interface NetworkFailure {
  code: string;
  address?: string;
  port?: number;
  hostname?: string;
}

/** The first Node network error in an error, its causes, or an AggregateError's errors (happy eyeballs). */
function networkFailure(error: unknown, depth = 0): NetworkFailure | null {
  if (depth > 5 || typeof error !== "object" || error === null) return null;
  const code: unknown = Reflect.get(error, "code");
  if (typeof code === "string" && NETWORK_CODES.test(code)) {
    const address: unknown = Reflect.get(error, "address");
    const port: unknown = Reflect.get(error, "port");
    const hostname: unknown = Reflect.get(error, "hostname");
    return { code, address: typeof address === "string" ? address : undefined, port: typeof port === "number" ? port : undefined, hostname: typeof hostname === "string" ? hostname : undefined };
  }
  // Some clients (the AWS SDK) wrap the socket error and keep only its text: `connect ECONNREFUSED 127.0.0.1:9000`.
  const message: unknown = Reflect.get(error, "message");
  const quoted = typeof message === "string" ? /\b(ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ECONNRESET)\s+(\[?[0-9A-Fa-f:.]+\]?):(\d+)/.exec(message) : null;
  if (quoted) return { code: quoted[1], address: quoted[2], port: Number(quoted[3]) };
  const errors: unknown = Reflect.get(error, "errors");
  if (Array.isArray(errors)) {
    for (const inner of errors) {
      const found = networkFailure(inner, depth + 1);
      if (found) return found;
    }
  }
  return networkFailure(Reflect.get(error, "cause"), depth + 1);
}

/** One line a user can act on. */
function describeFailure(error: unknown, fallback: string | null): string {
  if (error instanceof TimeoutError) return `${error.message}${fallback ? ` from ${redactUrl(fallback)}` : ""}`;
  const network = networkFailure(error);
  if (network) {
    const target = network.address !== undefined ? `${network.address}${network.port !== undefined ? `:${network.port}` : ""}` : (network.hostname ?? (fallback ? redactUrl(fallback) : "the server"));
    switch (network.code) {
      case "ECONNREFUSED":
        return `connection refused at ${target}`;
      case "ENOTFOUND":
      case "EAI_AGAIN":
        return `host not found: ${network.hostname ?? target}`;
      case "ETIMEDOUT":
        return `connection timed out at ${target}`;
      default:
        return `network error ${network.code} at ${target}`;
    }
  }
  const message = messageOf(error);
  if (/timeout exceeded when trying to connect|Connection terminated due to connection timeout/i.test(message)) return `no answer${fallback ? ` from ${redactUrl(fallback)}` : ""} (connect timeout)`;
  return message.split("\n")[0];
}
