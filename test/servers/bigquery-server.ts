import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { close, listen, parseMultipartRelated, readBody, sendGoogleError, sendJson } from "./http-util";
import { messageOf } from "../../lib/core/errors";

/**
 * A local stand-in for the BigQuery v2 REST API, wide enough for `@google-cloud/bigquery@8` pointed at it
 * with `apiEndpoint`. Tables live in an in-memory DuckDB database (one schema per dataset), which is also
 * the query engine. Routes (under `/bigquery/v2`):
 *
 * - `GET|DELETE /projects/:p/datasets/:d`, `POST /projects/:p/datasets` (datasets.get/delete/insert)
 * - `GET|DELETE /projects/:p/datasets/:d/tables/:t` (tables.get/delete; schema from the stored columns)
 * - `POST /projects/:p/jobs` (jobs.insert) for LOAD jobs from `gs://` URIs (Parquet or CSV, `*` wildcards) read
 *   through `readGcsObject` — wire it to the local GCS server — and QUERY jobs
 * - `POST /upload/bigquery/v2/projects/:p/jobs?uploadType=multipart|resumable`: a LOAD job whose data is the upload
 *   (the client's `table.load(localFile)` uses multipart)
 * - `GET /projects/:p/jobs/:id` (jobs.get), `GET /projects/:p/queries/:id` (getQueryResults: f/v rows with
 *   schema, pages via `maxResults`/`pageToken`/`startIndex`), `POST /projects/:p/queries` (jobs.query)
 *
 * Semantics modelled on BigQuery's documentation: load write dispositions WRITE_TRUNCATE / WRITE_APPEND
 * (the load default) / WRITE_EMPTY and CREATE_IF_NEEDED / CREATE_NEVER; Parquet integer columns load as
 * INTEGER, floats as FLOAT, timestamps as TIMESTAMP (UTC instants), dates as DATE, decimals as NUMERIC;
 * TIMESTAMP values go out as int64 microseconds when the client asks `formatOptions.useInt64Timestamp`
 * (the v8 client always does). Jobs complete synchronously. The SQL dialect is DuckDB's, with BigQuery's
 * backquoted `project.dataset.table` names rewritten: BigQuery-only functions are not available.
 * Not modelled: auth, IAM, locations, quotas, partitioned/clustered tables, query destination tables, DML
 * statistics, streaming inserts, extract and copy jobs, nested (RECORD/REPEATED) columns.
 */
export interface BigQueryServer {
  /** `http://127.0.0.1:<port>`: pass as the client's `apiEndpoint`. */
  readonly url: string;
  /** HTTP requests served per route kind (`POST jobs:load`, `GET queries` …), so tests can check the client's path. */
  readonly requests: Map<string, number>;
  close(): Promise<void>;
}

export interface BigQueryServerOptions {
  /** Reads `gs://bucket/name` objects for load jobs (the local GCS server's `readObject`). */
  readGcsObject?: (bucket: string, name: string) => Buffer | undefined;
  /** Lists object names under a prefix, for wildcard URIs (the local GCS server's `listObjects`). */
  listGcsObjects?: (bucket: string, prefix: string) => string[];
  /** Rows per getQueryResults page when the client gives no `maxResults` (small values exercise paging). */
  pageSize?: number;
}

type Json = Record<string, unknown>;

interface BqField {
  name: string;
  type: string;
  mode: "NULLABLE";
}

interface Job {
  projectId: string;
  jobId: string;
  location: string;
  kind: "load" | "query";
  configuration: Json;
  created: number;
  error?: { reason: string; message: string };
  outputRows?: number;
  /** Query results, rendered as BigQuery's JSON cell strings. */
  schema?: BqField[];
  rows?: (string | null)[][];
}

/** Thrown inside job execution; becomes the job's `status.errorResult`. */
class JobError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

const q = (name: string) => `"${name.replaceAll('"', '""')}"`;
const lit = (text: string) => `'${text.replaceAll("'", "''")}'`;

export async function startBigQueryServer(options: BigQueryServerOptions = {}): Promise<BigQueryServer> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
  const scratch = await mkdtemp(join(tmpdir(), "sluice-bq-server-"));
  const datasets = new Map<string, { projectId: string; datasetId: string; location: string; created: number }>();
  const jobs = new Map<string, Job>();
  const requests = new Map<string, number>();
  const pageSize = options.pageSize ?? 10_000;
  let queue: Promise<unknown> = Promise.resolve();
  /** One DuckDB statement sequence at a time (the connection is shared). */
  const serial = <T>(work: (c: DuckDBConnection) => Promise<T>): Promise<T> => {
    const run = queue.then(() => work(connection));
    queue = run.catch(() => undefined);
    return run;
  };
  const count = (key: string) => requests.set(key, (requests.get(key) ?? 0) + 1);

  // ---- storage helpers -------------------------------------------------------------------------------

  const tableExists = async (datasetId: string, tableId: string): Promise<boolean> => {
    const reader = await connection.runAndReadAll(
      `SELECT count(*) FROM information_schema.tables WHERE table_schema = ${lit(datasetId)} AND table_name = ${lit(tableId)}`,
    );
    return Number(reader.getRows()[0][0]) > 0;
  };

  const describe = async (relation: string): Promise<{ name: string; type: string }[]> => {
    const reader = await connection.runAndReadAll(`DESCRIBE ${relation}`);
    return reader.getRows().map((row) => ({ name: String(row[0]), type: String(row[1]) }));
  };

  const tableJson = async (projectId: string, datasetId: string, tableId: string): Promise<Json> => {
    const columns = await describe(`${q(datasetId)}.${q(tableId)}`);
    const rows = Number((await connection.runAndReadAll(`SELECT count(*) FROM ${q(datasetId)}.${q(tableId)}`)).getRows()[0][0]);
    return {
      kind: "bigquery#table",
      id: `${projectId}:${datasetId}.${tableId}`,
      tableReference: { projectId, datasetId, tableId },
      schema: { fields: columns.map((c) => ({ name: c.name, type: bigQueryType(c.type), mode: "NULLABLE" })) },
      numRows: String(rows),
      type: "TABLE",
      location: datasets.get(datasetId)?.location ?? "US",
    };
  };

  // ---- jobs --------------------------------------------------------------------------------------------

  const jobJson = (job: Job): Json => {
    const status: Json = { state: "DONE" };
    if (job.error) {
      status.errorResult = { reason: job.error.reason, message: job.error.message };
      status.errors = [{ reason: job.error.reason, message: job.error.message }];
    }
    const statistics: Json = { creationTime: String(job.created), startTime: String(job.created), endTime: String(Date.now()) };
    if (job.kind === "load" && job.outputRows !== undefined) statistics.load = { outputRows: String(job.outputRows) };
    if (job.kind === "query") statistics.query = { totalBytesProcessed: "0", cacheHit: false, statementType: "SELECT" };
    return {
      kind: "bigquery#job",
      id: `${job.projectId}:${job.location}.${job.jobId}`,
      jobReference: { projectId: job.projectId, jobId: job.jobId, location: job.location },
      configuration: job.configuration,
      status,
      statistics,
    };
  };

  const newJob = (projectId: string, body: Json, kind: "load" | "query"): Job => {
    const reference = asRecord(body.jobReference);
    const jobId = typeof reference.jobId === "string" ? reference.jobId : `job_${randomUUID().replace(/-/g, "")}`;
    const location = typeof reference.location === "string" ? reference.location : "US";
    const job: Job = { projectId, jobId, location, kind, configuration: asRecord(body.configuration), created: Date.now() };
    jobs.set(jobId, job);
    return job;
  };

  const runJob = async (job: Job, work: () => Promise<void>): Promise<void> => {
    try {
      await work();
    } catch (error) {
      job.error =
        error instanceof JobError
          ? { reason: error.reason, message: error.message }
          : {
              reason: /does not exist|not found/i.test(String(error)) ? "notFound" : "invalidQuery",
              // DuckDB's message, without the wrapper statement the server ran the query in.
              message: messageOf(error).replace(/^Error: /, "").replace(/CREATE OR REPLACE TEMP TABLE "result_[^"]+" AS /g, ""),
            };
    }
  };

  /** Loads `files` (local paths) into the destination table with BigQuery's dispositions and type rules. */
  const load = async (job: Job, files: string[]): Promise<void> => {
    const config = asRecord(job.configuration.load);
    const destination = asRecord(config.destinationTable);
    const datasetId = String(destination.datasetId ?? "");
    const tableId = String(destination.tableId ?? "");
    if (!datasets.has(datasetId)) throw new JobError("notFound", `Not found: Dataset ${job.projectId}:${datasetId}`);
    if (!/^[A-Za-z0-9_]+$/.test(tableId)) throw new JobError("invalid", `Invalid table ID "${tableId}"`);
    const format = String(config.sourceFormat ?? "CSV").toUpperCase();
    const write = String(config.writeDisposition ?? "WRITE_APPEND");
    const create = String(config.createDisposition ?? "CREATE_IF_NEEDED");
    const list = `[${files.map(lit).join(", ")}]`;
    let source: string;
    if (format === "PARQUET") source = `read_parquet(${list})`;
    else if (format === "CSV") {
      const skip = Number(config.skipLeadingRows ?? 0);
      source = `read_csv(${list}, header = ${skip > 0 ? "true" : "false"}, sample_size = -1${config.fieldDelimiter ? `, delim = ${lit(String(config.fieldDelimiter))}` : ""})`;
    } else throw new JobError("invalid", `The local BigQuery server loads PARQUET and CSV, not ${format}`);
    await serial(async () => {
      const columns = await describe(`SELECT * FROM ${source}`);
      const select = columns.map((c) => `${storageCast(q(c.name), c.type)} AS ${q(c.name)}`).join(", ");
      const target = `${q(datasetId)}.${q(tableId)}`;
      const exists = await tableExists(datasetId, tableId);
      if (!exists && create === "CREATE_NEVER") throw new JobError("notFound", `Not found: Table ${job.projectId}:${datasetId}.${tableId}`);
      if (exists && write === "WRITE_EMPTY") {
        const rows = Number((await connection.runAndReadAll(`SELECT count(*) FROM ${target}`)).getRows()[0][0]);
        if (rows > 0) throw new JobError("duplicate", `Already Exists: Table ${job.projectId}:${datasetId}.${tableId}`);
      }
      const before = exists && write === "WRITE_APPEND" ? Number((await connection.runAndReadAll(`SELECT count(*) FROM ${target}`)).getRows()[0][0]) : 0;
      if (!exists || write === "WRITE_TRUNCATE" || write === "WRITE_EMPTY") {
        await connection.run(`CREATE OR REPLACE TABLE ${target} AS SELECT ${select} FROM ${source}`);
      } else {
        const existing = await describe(target);
        const incoming = new Map(columns.map((c) => [c.name, bigQueryType(storageType(c.type))]));
        for (const column of existing) {
          const type = incoming.get(column.name);
          if (type !== undefined && type !== bigQueryType(column.type)) {
            throw new JobError("invalid", `Provided Schema does not match Table ${job.projectId}:${datasetId}.${tableId}. Field ${column.name} has changed type from ${bigQueryType(column.type)} to ${type}`);
          }
        }
        await connection.run(`INSERT INTO ${target} BY NAME SELECT ${select} FROM ${source}`);
      }
      const after = Number((await connection.runAndReadAll(`SELECT count(*) FROM ${target}`)).getRows()[0][0]);
      job.outputRows = after - before;
    });
  };

  const loadFromGcs = async (job: Job): Promise<void> => {
    const config = asRecord(job.configuration.load);
    const uris = Array.isArray(config.sourceUris) ? config.sourceUris.map(String) : [];
    if (uris.length === 0) throw new JobError("invalid", "Load configuration must specify at least one source URI");
    const dir = await mkdtemp(join(scratch, "load-"));
    try {
      const files: string[] = [];
      for (const uri of uris) {
        const match = /^gs:\/\/([^/]+)\/(.+)$/.exec(uri);
        if (!match || !options.readGcsObject) throw new JobError("invalid", `Invalid source URI ${uri}`);
        const [, bucket, pattern] = match;
        const star = pattern.indexOf("*");
        const names =
          star === -1
            ? [pattern]
            : (options.listGcsObjects?.(bucket, pattern.slice(0, star)) ?? []).filter((n) => n.endsWith(pattern.slice(star + 1)));
        if (names.length === 0) throw new JobError("notFound", `Not found: URI ${uri}`);
        for (const name of names) {
          const data = options.readGcsObject(bucket, name);
          if (!data) throw new JobError("notFound", `Not found: URI gs://${bucket}/${name}`);
          const file = join(dir, `${files.length}-${name.split("/").pop() ?? "object"}`);
          await writeFile(file, data);
          files.push(file);
        }
      }
      await load(job, files);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };

  const loadFromUpload = async (job: Job, data: Buffer): Promise<void> => {
    const dir = await mkdtemp(join(scratch, "upload-"));
    try {
      const format = String(asRecord(job.configuration.load).sourceFormat ?? "CSV").toLowerCase();
      const gzip = data[0] === 0x1f && data[1] === 0x8b;
      const file = join(dir, `upload.${format === "parquet" ? "parquet" : gzip ? "csv.gz" : "csv"}`);
      await writeFile(file, data);
      await load(job, [file]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };

  const query = async (job: Job): Promise<void> => {
    const config = asRecord(job.configuration.query);
    const sql = typeof config.query === "string" ? config.query : "";
    if (config.useLegacySql === true) throw new JobError("invalid", "The local BigQuery server speaks standard SQL only (useLegacySql: false)");
    const defaultDataset = asRecord(config.defaultDataset).datasetId;
    await serial(async () => {
      const temp = q(`result_${job.jobId}`);
      await connection.run(`SET schema = ${lit(typeof defaultDataset === "string" ? defaultDataset : "main")}`);
      try {
        await connection.run(`CREATE OR REPLACE TEMP TABLE ${temp} AS ${translateSql(sql)}`);
      } finally {
        await connection.run("SET schema = 'main'");
      }
      try {
        const columns = await describe(temp);
        job.schema = columns.map((c) => ({ name: c.name, type: bigQueryType(c.type), mode: "NULLABLE" }));
        const select = columns.map((c) => renderCell(q(c.name), c.type)).join(", ");
        const reader = await connection.runAndReadAll(`SELECT ${select} FROM ${temp}`);
        job.rows = reader.getRows().map((row) => row.map((v) => (v === null ? null : String(v))));
      } finally {
        await connection.run(`DROP TABLE IF EXISTS ${temp}`);
      }
    });
  };

  const queryResults = (job: Job, params: URLSearchParams): Json => {
    const rows = job.rows ?? [];
    const max = Number(params.get("maxResults") ?? pageSize) || pageSize;
    const start = params.get("pageToken") ? Number(params.get("pageToken")) : Number(params.get("startIndex") ?? 0);
    const page = rows.slice(start, start + max);
    const int64Timestamps = params.get("formatOptions.useInt64Timestamp") === "true";
    const timestampColumns = (job.schema ?? []).map((f) => f.type === "TIMESTAMP");
    const body: Json = {
      kind: "bigquery#getQueryResultsResponse",
      jobReference: { projectId: job.projectId, jobId: job.jobId, location: job.location },
      schema: { fields: job.schema ?? [] },
      totalRows: String(rows.length),
      jobComplete: true,
      cacheHit: false,
      rows: page.map((row) => ({
        f: row.map((v, i) => ({ v: v !== null && timestampColumns[i] && !int64Timestamps ? floatSeconds(v) : v })),
      })),
    };
    if (start + max < rows.length) body.pageToken = String(start + max);
    return body;
  };

  // ---- HTTP --------------------------------------------------------------------------------------------

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const method = req.method ?? "GET";
    const path = url.pathname.replace(/\/+$/, "");
    let m: RegExpExecArray | null;

    if ((m = /^\/upload\/bigquery\/v2\/projects\/([^/]+)\/jobs$/.exec(path))) {
      const projectId = decodeURIComponent(m[1]);
      const uploadType = url.searchParams.get("uploadType");
      count(`${method} upload:${uploadType ?? "?"}`);
      const body = await readBody(req);
      if (method === "POST" && uploadType === "multipart") {
        const parts = parseMultipartRelated(req.headers["content-type"], body);
        if (parts.length < 2) return sendGoogleError(res, 400, "invalid", "multipart upload needs job metadata and data");
        const job = newJob(projectId, JSON.parse(parts[0].body.toString("utf8")) as Json, "load");
        await runJob(job, () => loadFromUpload(job, parts[1].body));
        return sendJson(res, 200, jobJson(job));
      }
      if (method === "POST" && uploadType === "resumable") {
        const id = randomUUID();
        pendingUploads.set(id, { projectId, metadata: body.length ? (JSON.parse(body.toString("utf8")) as Json) : {} });
        res.writeHead(200, { location: `${baseUrl}/upload/bigquery/v2/projects/${encodeURIComponent(projectId)}/jobs?uploadType=resumable&upload_id=${id}`, "content-length": 0 });
        res.end();
        return;
      }
      if (method === "PUT" && url.searchParams.get("upload_id")) {
        const pending = pendingUploads.get(url.searchParams.get("upload_id") ?? "");
        if (!pending) return sendGoogleError(res, 404, "notFound", "No such upload session");
        pendingUploads.delete(url.searchParams.get("upload_id") ?? "");
        const job = newJob(pending.projectId, pending.metadata, "load");
        await runJob(job, () => loadFromUpload(job, body));
        return sendJson(res, 200, jobJson(job));
      }
      return sendGoogleError(res, 400, "invalid", `unsupported upload ${method} uploadType=${uploadType ?? "(none)"}`);
    }

    m = /^\/bigquery\/v2\/projects\/([^/]+)\/(.*)$/.exec(path);
    if (!m) {
      count(`${method} unknown`);
      return sendGoogleError(res, 404, "notFound", `The local BigQuery server does not implement ${method} ${url.pathname}`);
    }
    const projectId = decodeURIComponent(m[1]);
    const rest = m[2].split("/").map(decodeURIComponent);

    if (rest[0] === "datasets") {
      if (rest.length === 1 && method === "POST") {
        count("POST datasets");
        const body = JSON.parse((await readBody(req)).toString("utf8")) as Json;
        const datasetId = String(asRecord(body.datasetReference).datasetId ?? "");
        if (!/^[A-Za-z0-9_]+$/.test(datasetId)) return sendGoogleError(res, 400, "invalid", `Invalid dataset ID "${datasetId}"`);
        if (datasets.has(datasetId)) return sendGoogleError(res, 409, "duplicate", `Already Exists: Dataset ${projectId}:${datasetId}`);
        await serial((c) => c.run(`CREATE SCHEMA ${q(datasetId)}`));
        datasets.set(datasetId, { projectId, datasetId, location: typeof body.location === "string" ? body.location : "US", created: Date.now() });
        return sendJson(res, 200, datasetJson(projectId, datasetId));
      }
      const datasetId = rest[1] ?? "";
      if (!datasets.has(datasetId)) {
        count(`${method} datasets`);
        return sendGoogleError(res, 404, "notFound", `Not found: Dataset ${projectId}:${datasetId}`);
      }
      if (rest.length === 2) {
        count(`${method} datasets`);
        if (method === "GET") return sendJson(res, 200, datasetJson(projectId, datasetId));
        if (method === "DELETE") {
          const cascade = url.searchParams.get("deleteContents") === "true";
          await serial((c) => c.run(`DROP SCHEMA ${q(datasetId)}${cascade ? " CASCADE" : ""}`));
          datasets.delete(datasetId);
          res.writeHead(204).end();
          return;
        }
      }
      if (rest[2] === "tables" && rest.length === 4) {
        count(`${method} tables`);
        const tableId = rest[3];
        const exists = await serial(() => tableExists(datasetId, tableId));
        if (!exists) return sendGoogleError(res, 404, "notFound", `Not found: Table ${projectId}:${datasetId}.${tableId}`);
        if (method === "GET") return sendJson(res, 200, await serial(() => tableJson(projectId, datasetId, tableId)));
        if (method === "DELETE") {
          await serial((c) => c.run(`DROP TABLE ${q(datasetId)}.${q(tableId)}`));
          res.writeHead(204).end();
          return;
        }
      }
    }

    if (rest[0] === "jobs" && rest.length === 1 && method === "POST") {
      const body = JSON.parse((await readBody(req)).toString("utf8")) as Json;
      const configuration = asRecord(body.configuration);
      if (configuration.load) {
        count("POST jobs:load");
        const job = newJob(projectId, body, "load");
        await runJob(job, () => loadFromGcs(job));
        return sendJson(res, 200, jobJson(job));
      }
      if (configuration.query) {
        count("POST jobs:query");
        const job = newJob(projectId, body, "query");
        await runJob(job, () => query(job));
        return sendJson(res, 200, jobJson(job));
      }
      return sendGoogleError(res, 400, "invalid", "The local BigQuery server runs load and query jobs only");
    }
    if (rest[0] === "jobs" && rest.length === 2 && method === "GET") {
      count("GET jobs");
      const job = jobs.get(rest[1]);
      if (!job) return sendGoogleError(res, 404, "notFound", `Not found: Job ${projectId}:${rest[1]}`);
      return sendJson(res, 200, jobJson(job));
    }
    if (rest[0] === "queries" && rest.length === 2 && method === "GET") {
      count("GET queries");
      const job = jobs.get(rest[1]);
      if (!job) return sendGoogleError(res, 404, "notFound", `Not found: Job ${projectId}:${rest[1]}`);
      if (job.error) return sendGoogleError(res, 400, job.error.reason, job.error.message);
      return sendJson(res, 200, queryResults(job, url.searchParams));
    }
    if (rest[0] === "queries" && rest.length === 1 && method === "POST") {
      count("POST queries");
      const body = JSON.parse((await readBody(req)).toString("utf8")) as Json;
      const job = newJob(projectId, { jobReference: { location: body.location }, configuration: { query: body } }, "query");
      await runJob(job, () => query(job));
      if (job.error) return sendGoogleError(res, 400, job.error.reason, job.error.message);
      const params = new URLSearchParams();
      if (body.maxResults !== undefined) params.set("maxResults", String(body.maxResults));
      if (asRecord(body.formatOptions).useInt64Timestamp === true) params.set("formatOptions.useInt64Timestamp", "true");
      return sendJson(res, 200, { ...queryResults(job, params), kind: "bigquery#queryResponse" });
    }
    count(`${method} unknown`);
    sendGoogleError(res, 404, "notFound", `The local BigQuery server does not implement ${method} ${url.pathname}`);
  };

  const datasetJson = (projectId: string, datasetId: string): Json => ({
    kind: "bigquery#dataset",
    id: `${projectId}:${datasetId}`,
    datasetReference: { projectId, datasetId },
    location: datasets.get(datasetId)?.location ?? "US",
    creationTime: String(datasets.get(datasetId)?.created ?? Date.now()),
  });

  const pendingUploads = new Map<string, { projectId: string; metadata: Json }>();
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendGoogleError(res, 500, "backendError", messageOf(error));
      else res.destroy();
    });
  });
  const baseUrl = await listen(server);
  return {
    url: baseUrl,
    requests,
    close: async () => {
      await close(server);
      connection.closeSync();
      instance.closeSync();
      await rm(scratch, { recursive: true, force: true });
    },
  };
}

function asRecord(value: unknown): Json {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : {};
}

/** BigQuery's backquoted names → DuckDB's: `p.d.t` → "d"."t", `d.t` → "d"."t", `x` → "x". */
export function translateSql(sql: string): string {
  return sql.replace(/`([^`]+)`/g, (_all, name: string) => {
    const parts = name.split(".");
    const kept = parts.length === 3 ? parts.slice(1) : parts;
    return kept.map(q).join(".");
  });
}

/** The DuckDB storage type a loaded column gets, following BigQuery's Parquet/CSV type rules. */
function storageType(duckType: string): string {
  const t = duckType.toUpperCase();
  if (/^(TINYINT|SMALLINT|INTEGER|BIGINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|HUGEINT)$/.test(t)) return "BIGINT";
  if (t === "FLOAT" || t === "DOUBLE") return "DOUBLE";
  if (t.startsWith("TIMESTAMP")) return "TIMESTAMP WITH TIME ZONE";
  return t;
}

function storageCast(column: string, duckType: string): string {
  const target = storageType(duckType);
  return target === duckType.toUpperCase() ? column : `CAST(${column} AS ${target})`;
}

/** DuckDB column type → BigQuery schema type. */
function bigQueryType(duckType: string): string {
  const t = duckType.toUpperCase();
  if (/^(TINYINT|SMALLINT|INTEGER|BIGINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|HUGEINT)$/.test(t)) return "INTEGER";
  if (t === "FLOAT" || t === "DOUBLE") return "FLOAT";
  if (t === "BOOLEAN") return "BOOLEAN";
  if (t === "DATE") return "DATE";
  if (t === "TIMESTAMP WITH TIME ZONE") return "TIMESTAMP";
  if (t.startsWith("TIMESTAMP")) return "DATETIME";
  if (t === "TIME") return "TIME";
  if (t === "BLOB") return "BYTES";
  const decimal = /^DECIMAL\((\d+),(\d+)\)$/.exec(t);
  if (decimal) return Number(decimal[2]) <= 9 && Number(decimal[1]) - Number(decimal[2]) <= 29 ? "NUMERIC" : "BIGNUMERIC";
  return "STRING";
}

/** SQL rendering one cell as the string BigQuery puts in `v` (TIMESTAMP as int64 microseconds; see `floatSeconds`). */
function renderCell(column: string, duckType: string): string {
  const type = bigQueryType(duckType);
  switch (type) {
    case "FLOAT":
      return `CASE WHEN isnan(${column}) THEN 'NaN' WHEN ${column} = 'inf'::DOUBLE THEN 'Infinity' WHEN ${column} = '-inf'::DOUBLE THEN '-Infinity' ELSE CAST(CAST(${column} AS DOUBLE) AS VARCHAR) END`;
    case "BOOLEAN":
      return `CASE WHEN ${column} THEN 'true' WHEN NOT ${column} THEN 'false' END`;
    case "TIMESTAMP":
      return `CAST(epoch_us(${column}) AS VARCHAR)`;
    case "DATETIME":
      return `strftime(CAST(${column} AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S.%f')`;
    case "BYTES":
      return `base64(${column})`;
    default:
      return `CAST(${column} AS VARCHAR)`;
  }
}

/** The legacy TIMESTAMP encoding (float seconds, e.g. "1.7040672E9"), used when the client does not ask for int64. */
function floatSeconds(micros: string): string {
  return (Number(micros) / 1e6).toExponential().replace("e+", "E").replace("e-", "E-");
}
