import { join } from "node:path";
import { BigQuery, type BigQueryOptions, type Job, type JobLoadMetadata } from "@google-cloud/bigquery";
import {
  Binary,
  Bool,
  DateDay,
  Field,
  Float64,
  Int64,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimestampMicrosecond,
  Utf8,
  vectorFromArray,
  type Data,
  type DataType,
} from "apache-arrow";
import { PassThroughClient } from "google-auth-library";
import { UserError } from "../../core/errors";
import type { ArrowConnector, IoOptions, WriteMode, WriteOptions, WriteResult } from "../types";
import { cloudError } from "./cloud-errors";
import { LocalArrowWorkspace } from "./local-arrow";

/**
 * A BigQuery connection profile. `apiEndpoint` points the client at another host (the local test server);
 * then no credentials are sent (a pass-through auth client), matching the GCS client's behaviour with a
 * custom endpoint. Otherwise `credentials`/`keyFilename` or Application Default Credentials apply.
 */
export interface BigQueryProfile {
  /** Profile name, for messages: `bigquery "warehouse"`. */
  name?: string;
  projectId: string;
  /** Job location (`US`, `EU`, `europe-west1`…). */
  location?: string;
  apiEndpoint?: string;
  credentials?: { client_email: string; private_key: string };
  keyFilename?: string;
}

/**
 * The client classes the connector instantiates, injectable because tests under jest must load them with
 * Node's own loader: the client's HTTP layer (teeny-request@10) runs `import("node-fetch")`, which jest's
 * CommonJS sandbox rejects without --experimental-vm-modules. Everywhere else the defaults are right.
 */
export interface BigQueryConnectorDeps {
  BigQuery?: typeof BigQuery;
  PassThroughClient?: typeof PassThroughClient;
}

/** A query to run: SQL alone, or with a default dataset for unqualified table names. */
export type BigQueryReadTarget = string | { query: string; defaultDataset?: string };

/** Where a load goes: `dataset.table` (in the profile's project). */
export type BigQueryTableName = string;

/** What a load job did. */
export interface BigQueryLoadResult {
  jobId: string;
  /** Rows the job added (BigQuery's `statistics.load.outputRows`). */
  rows: number;
  table: string;
}

const DISPOSITION: Record<WriteMode, "WRITE_TRUNCATE" | "WRITE_APPEND" | "WRITE_EMPTY"> = {
  replace: "WRITE_TRUNCATE",
  append: "WRITE_APPEND",
  fail: "WRITE_EMPTY",
};

/** A BigQuery schema field as the REST API describes it. */
interface BqField {
  name?: string | null;
  type?: string | null;
  mode?: string | null;
}

/** Rows per getQueryResults page the connector asks for (BigQuery caps a page at ~10 MB anyway). */
const PAGE_ROWS = 20_000;

/**
 * BigQuery: run a query into Arrow, and load a table from Parquet in GCS or from a local file (write
 * disposition truncate/append/empty from the write mode). `write` loads an Arrow table by writing it to a
 * local Parquet file and uploading it as a load job, so BigQuery passes the same contract suite as the
 * other sinks.
 *
 * Query results map BigQuery types to Arrow faithfully: INTEGER/INT64 → Int64 (no precision lost to
 * JS numbers), FLOAT/FLOAT64 → Float64 (NaN and ±Infinity included), TIMESTAMP → Timestamp<MICROSECOND, "UTC">
 * (from int64 microseconds, the client's `useInt64Timestamp` default), DATETIME → Timestamp<MICROSECOND>
 * without zone, DATE → Date<DAY>, BOOLEAN/BOOL → Bool, BYTES → Binary, and STRING plus NUMERIC/BIGNUMERIC,
 * TIME, GEOGRAPHY, JSON, INTERVAL → Utf8 **as BigQuery's exact text** (NUMERIC has 38 digits, more than
 * Float64 holds; parse it with a decimal library if needed). RECORD/STRUCT and REPEATED columns are refused
 * with a UserError naming the column (flatten them in SQL with `TO_JSON_STRING` or `UNNEST`).
 */
export class BigQueryConnector implements ArrowConnector<BigQueryReadTarget, BigQueryTableName> {
  readonly description: string;
  /** The underlying client, for operations this connector does not wrap. */
  readonly client: BigQuery;
  private readonly location?: string;
  private readonly projectId: string;
  private readonly workspace = new LocalArrowWorkspace();

  /** @param deps the client classes; the defaults are the packages' own (see `BigQueryConnectorDeps`). */
  constructor(profile: BigQueryProfile, deps: BigQueryConnectorDeps = {}) {
    this.description = `bigquery "${profile.name ?? "default"}"`;
    this.projectId = profile.projectId;
    this.location = profile.location;
    const options: BigQueryOptions = { projectId: profile.projectId, location: profile.location };
    if (profile.apiEndpoint) {
      options.apiEndpoint = profile.apiEndpoint;
      if (!profile.credentials && !profile.keyFilename) options.authClient = new (deps.PassThroughClient ?? PassThroughClient)();
    }
    if (profile.credentials) options.credentials = profile.credentials;
    if (profile.keyFilename) options.keyFilename = profile.keyFilename;
    const Client = deps.BigQuery ?? BigQuery;
    this.client = new Client(options);
  }

  /** Creates the dataset when missing (idempotent); loads need it to exist. */
  async ensureDataset(datasetId: string): Promise<void> {
    try {
      const dataset = this.client.dataset(datasetId, { location: this.location });
      const [exists] = await dataset.exists();
      if (!exists) await dataset.create();
    } catch (error) {
      throw cloudError(this.description, "create dataset", datasetId, error);
    }
  }

  /** Deletes a table if it exists. */
  async deleteTable(table: BigQueryTableName): Promise<void> {
    const { datasetId, tableId } = this.tableRef(table);
    try {
      await this.client.dataset(datasetId).table(tableId).delete({ ignoreNotFound: true });
    } catch (error) {
      throw cloudError(this.description, "delete table", table, error);
    }
  }

  /** Loads Parquet objects (`gs://bucket/path/*.parquet` wildcards allowed) into `dataset.table`. */
  async loadFromGcs(uris: string | readonly string[], table: BigQueryTableName, options: { mode?: WriteMode; format?: "PARQUET" | "CSV" } = {}): Promise<BigQueryLoadResult> {
    const sourceUris = typeof uris === "string" ? [uris] : [...uris];
    const { datasetId, tableId } = this.tableRef(table);
    const what = `${sourceUris.join(", ")} into ${table}`;
    try {
      const [job] = await this.client.createJob({
        configuration: {
          load: {
            sourceUris,
            sourceFormat: options.format ?? "PARQUET",
            skipLeadingRows: options.format === "CSV" ? 1 : undefined,
            destinationTable: { projectId: this.projectId, datasetId, tableId },
            writeDisposition: DISPOSITION[options.mode ?? "replace"],
            createDisposition: "CREATE_IF_NEEDED",
          },
        },
        location: this.location,
      });
      return await this.finishLoad(job, table);
    } catch (error) {
      throw cloudError(this.description, "load", what, error);
    }
  }

  /** Loads a local Parquet or CSV file (uploaded with the load job, streamed) into `dataset.table`. */
  async loadFromFile(path: string, table: BigQueryTableName, options: { mode?: WriteMode; label?: string } = {}): Promise<BigQueryLoadResult> {
    const { datasetId, tableId } = this.tableRef(table);
    const metadata: JobLoadMetadata = {
      sourceFormat: path.toLowerCase().endsWith(".parquet") ? "PARQUET" : "CSV",
      writeDisposition: DISPOSITION[options.mode ?? "replace"],
      createDisposition: "CREATE_IF_NEEDED",
    };
    if (metadata.sourceFormat === "CSV") metadata.skipLeadingRows = 1;
    try {
      const [job] = await this.client.dataset(datasetId).table(tableId).createLoadJob(path, metadata);
      return await this.finishLoad(job, table);
    } catch (error) {
      throw cloudError(this.description, "load", `${options.label ?? path} into ${table}`, error);
    }
  }

  /** Runs a query and returns its result as one Arrow table (all pages). */
  async read(target: BigQueryReadTarget, options: IoOptions = {}): Promise<Table> {
    const batches: RecordBatch[] = [];
    let schema: Schema | null = null;
    for await (const batch of this.stream(target, options)) {
      schema ??= batch.schema;
      batches.push(batch);
    }
    return batches.length > 0 ? new Table(batches) : new Table(schema ?? new Schema([]));
  }

  /** Runs a query and yields one Arrow record batch per result page. */
  async *stream(target: BigQueryReadTarget, options: IoOptions = {}): AsyncIterable<RecordBatch> {
    const spec = typeof target === "string" ? { query: target } : target;
    let job: Job;
    try {
      [job] = await this.client.createQueryJob({
        query: spec.query,
        location: this.location,
        useLegacySql: false,
        defaultDataset: spec.defaultDataset ? { projectId: this.projectId, datasetId: spec.defaultDataset } : undefined,
      });
    } catch (error) {
      throw cloudError(this.description, "run", abbreviate(spec.query), error);
    }
    let pageToken: string | undefined;
    let rows = 0;
    let yielded = false;
    do {
      options.signal?.throwIfAborted();
      let response: { schema?: { fields?: BqField[] | null } | null; rows?: unknown; pageToken?: string | null; totalRows?: string | number | null };
      try {
        const result = await job.getQueryResults({ autoPaginate: false, pageToken, maxResults: PAGE_ROWS, skipParsing: true });
        response = result[2] ?? {};
      } catch (error) {
        throw cloudError(this.description, "read the results of", abbreviate(spec.query), error);
      }
      const fields = response.schema?.fields ?? [];
      const page = Array.isArray(response.rows) ? response.rows : [];
      const batch = rowsToBatch(fields, page, this.description);
      if (page.length > 0 || !yielded) {
        yield batch;
        yielded = true;
      }
      rows += page.length;
      options.onProgress?.({ rows, message: `${rows} of ${String(response.totalRows ?? "?")} rows` });
      pageToken = response.pageToken ?? undefined;
    } while (pageToken);
  }

  /** Loads an Arrow table into `dataset.table` (via a local Parquet file and a load job). The dataset must exist. */
  async write(data: Table | AsyncIterable<RecordBatch>, table: BigQueryTableName, options: WriteOptions = {}): Promise<WriteResult> {
    const dir = await this.workspace.makeTempDir("bq-load");
    try {
      const written = await this.workspace.writeParquetDataset(data, dir);
      const [file] = written.files;
      await this.loadFromFile(join(dir, file), table, { mode: options.mode, label: `${written.rows} rows` });
      options.onProgress?.({ rows: written.rows });
      return { rows: written.rows, location: `bigquery://${this.projectId}/${table}` };
    } finally {
      await this.workspace.removeTempDir(dir);
    }
  }

  async close(): Promise<void> {
    await this.workspace.close();
  }

  private tableRef(table: string): { datasetId: string; tableId: string } {
    const match = /^([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)$/.exec(table);
    if (!match) throw new UserError("bad_table_name", `${this.description}: "${table}" is not a dataset.table name`);
    return { datasetId: match[1], tableId: match[2] };
  }

  /** Waits for a load job and reports its output rows; a failed job throws with BigQuery's reason for `cloudError`. */
  private async finishLoad(job: Job, table: string): Promise<BigQueryLoadResult> {
    // The insert response often says DONE already (small loads); only poll when it does not.
    let metadata = job.metadata;
    if (metadata?.status?.state !== "DONE") {
      await job.promise();
      [metadata] = await job.getMetadata();
    }
    const status = metadata.status ?? {};
    if (status.errorResult) {
      // Shaped like the client's ApiError so the caller's cloudError maps the reason (duplicate, notFound, invalid…).
      throw Object.assign(new Error(status.errorResult.message ?? status.errorResult.reason ?? "load job failed"), { errors: [status.errorResult] });
    }
    return { jobId: job.id ?? "", rows: Number(metadata.statistics?.load?.outputRows ?? 0), table };
  }
}

function abbreviate(sql: string): string {
  const flat = sql.replace(/\s+/g, " ").trim();
  return `query "${flat.length > 80 ? `${flat.slice(0, 77)}...` : flat}"`;
}

/** The Arrow type for one BigQuery field (see the class comment for the mapping and why). */
export function arrowTypeFor(field: BqField, connector: string): DataType {
  const name = field.name ?? "?";
  if (field.mode === "REPEATED") throw new UserError("unsupported_type", `${connector}: column ${name} is REPEATED; UNNEST or TO_JSON_STRING it in the query`);
  switch ((field.type ?? "STRING").toUpperCase()) {
    case "INTEGER":
    case "INT64":
      return new Int64();
    case "FLOAT":
    case "FLOAT64":
      return new Float64();
    case "BOOLEAN":
    case "BOOL":
      return new Bool();
    case "TIMESTAMP":
      return new TimestampMicrosecond("UTC");
    case "DATETIME":
      return new TimestampMicrosecond();
    case "DATE":
      return new DateDay();
    case "BYTES":
      return new Binary();
    case "RECORD":
    case "STRUCT":
      throw new UserError("unsupported_type", `${connector}: column ${name} is a RECORD; select its fields or TO_JSON_STRING it in the query`);
    default:
      // STRING, NUMERIC, BIGNUMERIC, TIME, GEOGRAPHY, JSON, INTERVAL: BigQuery's exact text.
      return new Utf8();
  }
}

/** One page of f/v rows → a record batch, column by column, without JS objects per row. */
export function rowsToBatch(fields: readonly BqField[], rows: readonly unknown[], connector: string): RecordBatch {
  const arrowFields = fields.map((f) => new Field(f.name ?? "", arrowTypeFor(f, connector), true));
  const length = rows.length;
  const cells = (column: number): (string | null)[] => {
    const out: (string | null)[] = new Array<string | null>(length);
    for (let r = 0; r < length; r++) {
      const f = (rows[r] as { f?: { v?: unknown }[] }).f;
      const v = f?.[column]?.v;
      out[r] = v === null || v === undefined ? null : typeof v === "string" ? v : String(v);
    }
    return out;
  };
  const children = arrowFields.map((field, c) => columnData(field, cells(c)));
  const schema = new Schema(arrowFields);
  return new RecordBatch(schema, makeData({ type: new Struct(arrowFields), length, nullCount: 0, children }));
}

function columnData(field: Field, values: (string | null)[]): Data {
  const type = field.type;
  const length = values.length;
  const bitmap = new Uint8Array((length + 7) >> 3);
  let nullCount = 0;
  for (let i = 0; i < length; i++) {
    if (values[i] === null) nullCount++;
    else bitmap[i >> 3] |= 1 << (i & 7);
  }
  const nullBitmap = nullCount > 0 ? bitmap : undefined;
  if (type instanceof Int64) {
    const data = new BigInt64Array(length);
    for (let i = 0; i < length; i++) if (values[i] !== null) data[i] = BigInt(values[i] as string);
    return makeData({ type, length, nullCount, nullBitmap, data });
  }
  if (type instanceof Float64) {
    const data = new Float64Array(length);
    for (let i = 0; i < length; i++) if (values[i] !== null) data[i] = Number(values[i]);
    return makeData({ type, length, nullCount, nullBitmap, data });
  }
  if (type instanceof TimestampMicrosecond) {
    const data = new BigInt64Array(length);
    const zoned = type.timezone !== null && type.timezone !== undefined;
    for (let i = 0; i < length; i++) if (values[i] !== null) data[i] = zoned ? timestampMicros(values[i] as string) : datetimeMicros(values[i] as string);
    return makeData({ type, length, nullCount, nullBitmap, data });
  }
  if (type instanceof DateDay) {
    const data = new Int32Array(length);
    for (let i = 0; i < length; i++) if (values[i] !== null) data[i] = Math.round(Date.parse(`${values[i] as string}T00:00:00Z`) / 86_400_000);
    return makeData({ type, length, nullCount, nullBitmap, data });
  }
  if (type instanceof Bool) {
    const data = new Uint8Array((length + 7) >> 3);
    for (let i = 0; i < length; i++) if (values[i] === "true") data[i >> 3] |= 1 << (i & 7);
    return makeData({ type, length, nullCount, nullBitmap, data });
  }
  if (type instanceof Binary) {
    const buffers = values.map((v) => (v === null ? new Uint8Array(0) : Buffer.from(v, "base64")));
    const valueOffsets = new Int32Array(length + 1);
    for (let i = 0; i < length; i++) valueOffsets[i + 1] = valueOffsets[i] + buffers[i].length;
    const data = new Uint8Array(valueOffsets[length]);
    for (let i = 0; i < length; i++) data.set(buffers[i], valueOffsets[i]);
    return makeData({ type, length, nullCount, nullBitmap, valueOffsets, data });
  }
  return vectorFromArray(values, new Utf8()).data[0];
}

/** TIMESTAMP cells: int64 microseconds (useInt64Timestamp) or, from older servers, float seconds ("1.7E9"). */
function timestampMicros(value: string): bigint {
  if (/^-?\d+$/.test(value)) return BigInt(value);
  return BigInt(Math.round(Number(value) * 1e6));
}

/** DATETIME cells: `YYYY-MM-DDTHH:MM:SS[.ffffff]` (or with a space), read as microseconds on the UTC axis. */
function datetimeMicros(value: string): bigint {
  const match = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?$/.exec(value);
  if (!match) throw new UserError("bad_value", `cannot read DATETIME value "${value}"`);
  const seconds = BigInt(Date.parse(`${match[1]}T${match[2]}Z`) / 1000);
  const fraction = BigInt((match[3] ?? "").padEnd(6, "0"));
  return seconds * 1_000_000n + fraction;
}
