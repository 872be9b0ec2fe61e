/**
 * PostgreSQL connector: reads a query into Arrow through binary `COPY … TO STDOUT`
 * (streamed, decoded batch by batch: pg-binary-decode.ts), writes Arrow through binary `COPY … FROM STDIN`
 * encoded from the Arrow buffers (pg-binary-encode.ts).
 *
 * Writes never leave a half-written table: every mode runs in one transaction. `replace` creates a staging
 * table, loads it, drops the old table and renames the staging table into place, then commits — a failed
 * load rolls back and the old table is untouched; `append` creates the table when missing and loads into it;
 * `fail` refuses an existing table before loading anything. `replace` with `replaceWhere` rewrites one slice
 * of the table (a run's day or month): delete the slice and insert the data in one transaction. Writers of
 * the same table take turns on an advisory lock, so concurrent runs (a backfill) never race to create it.
 *
 * Errors are classified: a wrong password, a missing database or an existing table under `fail`
 * are UserErrors; a host that is down is an OperationalError (a retry may help). Messages name the profile
 * and `user@host:port/db`, never the password.
 */
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import pg from "pg";
import { from as copyFrom, to as copyTo } from "pg-copy-streams";
import { Table, type RecordBatch } from "apache-arrow";
import { OperationalError, UserError, isSluiceError } from "../core/errors";
import { BinaryCopyDecoder, planPgRead, type PgField } from "../arrow/pg-binary-decode";
import { COPY_HEADER, COPY_TRAILER, encodeBatch, planPgColumn, type PgColumnPlan } from "../arrow/pg-binary-encode";
import { errorMessage, redact, registerSecret } from "./redact";
import { openDuckDBBatches } from "../arrow/duckdb-chunks";
import { openDuckDB, queryToArrowStream, upstreamQuery } from "./duckdb-session";
import { isUpstreamRef, type ArrowConnector, type IoOptions, type UpstreamRef, type WriteData, type WriteMode, type WriteOptions, type WriteResult } from "./types";

/** Connection settings of a `postgres` profile. Either `url` or the separate fields. */
export interface PostgresSettings {
  url?: string;
  host?: string;
  port?: number;
  database?: string;
  user?: string;
  password?: string;
  /** Default schema for unqualified table names (default `public`). */
  schema?: string;
  /** Extra `pg` pool options (ssl, connect timeout). */
  ssl?: boolean;
  connectTimeoutMs?: number;
}

/** A query (with `$1…$n` params inlined as escaped literals, since COPY takes no parameters) or a whole table. */
export type PostgresReadTarget = string | { sql: string; params?: readonly PgParam[] } | { table: string; schema?: string };

/** `table`, `schema.table`, or both parts. */
export type PostgresWriteTarget = string | { table: string; schema?: string };

export type PgParam = string | number | bigint | boolean | Date | null;

export interface PostgresWriteOptions extends WriteOptions {
  /**
   * With mode `replace`: replace only the rows matching this condition (`$1…$n` bound to `params`), not the
   * whole table. The data goes to a temporary table first; every row of it must match the condition (a run
   * may not write outside its own slice), then the matching rows are deleted and the data inserted in the
   * same transaction, so readers see the old slice or the new one, never neither.
   */
  replaceWhere?: { sql: string; params?: readonly PgParam[] };
}

/** A Postgres identifier, double-quoted. */
export function quotePgIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A string literal (standard_conforming_strings on: only quotes are doubled; E'' is never used). */
function pgLiteral(value: string): string {
  if (value.includes("\0")) throw new UserError("invalid_parameter", "a query parameter contains a NUL character");
  return `'${value.replace(/'/g, "''")}'`;
}

/** Replaces `$n` outside quotes with the literal of `params[n-1]`. */
export function inlineParams(sql: string, params: readonly PgParam[]): string {
  const literal = (value: PgParam): string => {
    if (value === null) return "NULL";
    if (typeof value === "boolean") return value ? "TRUE" : "FALSE";
    if (typeof value === "number") {
      if (!Number.isFinite(value)) return `${pgLiteral(String(value))}::float8`;
      return String(value);
    }
    if (typeof value === "bigint") return value.toString();
    if (value instanceof Date) return `${pgLiteral(value.toISOString())}::timestamptz`;
    return pgLiteral(value);
  };
  let out = "";
  let quote: string | null = null;
  for (let i = 0; i < sql.length; i++) {
    const ch = sql[i];
    if (quote !== null) {
      out += ch;
      if (ch === quote) quote = null;
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      out += ch;
      continue;
    }
    const match = ch === "$" ? /^\$(\d+)/.exec(sql.slice(i)) : null;
    if (match) {
      const index = Number(match[1]) - 1;
      if (index < 0 || index >= params.length) throw new UserError("invalid_parameter", `$${match[1]} has no value (${params.length} parameters given)`);
      out += literal(params[index]);
      i += match[0].length - 1;
      continue;
    }
    out += ch;
  }
  return out;
}

function splitName(target: PostgresWriteTarget, defaultSchema: string): { schema: string; table: string } {
  if (typeof target !== "string") return { schema: target.schema ?? defaultSchema, table: target.table };
  const dot = target.indexOf(".");
  return dot === -1 ? { schema: defaultSchema, table: target } : { schema: target.slice(0, dot), table: target.slice(dot + 1) };
}

interface PgErrorLike {
  code?: string;
  message: string;
}

function isPgErrorLike(value: unknown): value is PgErrorLike {
  return typeof value === "object" && value !== null && "message" in value && typeof value.message === "string";
}

/** Reads and writes one Postgres database. Holds a small pool; call `close()` when done. */
export class PostgresConnector implements ArrowConnector<PostgresReadTarget, PostgresWriteTarget> {
  readonly description: string;
  private readonly pool: pg.Pool;
  /** The pool's settings, for the one-off connection that cancels an aborted read (see `cancelBackend`). */
  private readonly config: pg.PoolConfig;
  private readonly where: string;
  private readonly defaultSchema: string;

  constructor(settings: PostgresSettings, name = "default") {
    registerSecret(settings.password);
    const config: pg.PoolConfig = { max: COPY_STREAMS + 2, connectionTimeoutMillis: settings.connectTimeoutMs ?? 10_000 };
    let where: string;
    if (settings.url !== undefined) {
      const url = new URL(settings.url);
      registerSecret(decodeURIComponent(url.password));
      config.connectionString = settings.url;
      where = `${decodeURIComponent(url.username) || "postgres"}@${url.hostname}:${url.port || 5432}/${url.pathname.slice(1)}`;
    } else {
      Object.assign(config, { host: settings.host, port: settings.port, database: settings.database, user: settings.user, password: settings.password });
      where = `${settings.user ?? "postgres"}@${settings.host ?? "localhost"}:${settings.port ?? 5432}/${settings.database ?? ""}`;
    }
    if (settings.ssl) config.ssl = true;
    // Unqualified names in queries find the profile's schema first, as they do for writes.
    if (settings.schema !== undefined && /^[A-Za-z_][A-Za-z0-9_]*$/.test(settings.schema)) config.options = `-c search_path=${settings.schema},public`;
    this.config = config;
    this.pool = new pg.Pool(config);
    this.pool.on("error", () => undefined); // idle-client errors surface on the next query instead
    this.where = redact(where);
    this.defaultSchema = settings.schema ?? "public";
    this.description = `postgres "${name}"`;
  }

  /** Maps a pg / network failure to a Sluice error naming the profile and the server, never the password. */
  private fail(error: unknown, doing: string): Error {
    if (isSluiceError(error)) return error;
    const detail = errorMessage(error);
    const rawCode = isPgErrorLike(error) ? error.code : undefined;
    const network = rawCode !== undefined && /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EPIPE|EHOSTUNREACH|ENETUNREACH)$/.test(rawCode);
    // Only a SQLSTATE counts as the server's answer; Node's network codes mean it never answered.
    const code = network ? undefined : rawCode;
    const prefix = `${this.description} (${this.where}): ${doing}`;
    if (code === "28P01" || code === "28000") return new UserError("auth_failed", `${prefix}: authentication failed (${detail})`, {}, { cause: error });
    if (code === "3D000") return new UserError("no_database", `${prefix}: ${detail}`, {}, { cause: error });
    if (code === "42P07") return new UserError("target_exists", `${prefix}: the table already exists (mode: fail)`, {}, { cause: error });
    if (code !== undefined && /^(08|57P0|53)/.test(code)) return new OperationalError("db_unavailable", `${prefix}: ${detail}`, {}, { cause: error });
    if (code === undefined && /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|timeout|terminated/i.test(detail)) {
      return new OperationalError("db_unreachable", `${prefix}: cannot reach the server (${detail})`, {}, { cause: error });
    }
    if (code !== undefined) return new UserError("sql_error", `${prefix}: ${detail}`, {}, { cause: error });
    return new OperationalError("db_error", `${prefix}: ${detail}`, {}, { cause: error });
  }

  private async connect(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (error) {
      throw this.fail(error, "connect");
    }
  }

  /** Runs SQL (no result rows returned to Arrow): DDL and ELT statements of SQL blocks. */
  async execute(sql: string, params: readonly PgParam[] = []): Promise<number> {
    const client = await this.connect();
    try {
      const result = await client.query(sql, [...params]);
      return result.rowCount ?? 0;
    } catch (error) {
      throw this.fail(error, "query");
    } finally {
      client.release();
    }
  }

  private querySql(target: PostgresReadTarget): string {
    if (typeof target === "string") return target;
    if ("table" in target) return `SELECT * FROM ${quotePgIdentifier(target.schema ?? this.defaultSchema)}.${quotePgIdentifier(target.table)}`;
    return target.params && target.params.length > 0 ? inlineParams(target.sql, target.params) : target.sql;
  }

  async read(target: PostgresReadTarget, options: IoOptions = {}): Promise<Table> {
    const batches: RecordBatch[] = [];
    let schemaOnly: RecordBatch | null = null;
    for await (const batch of this.streamWithSchema(target, options, (empty) => (schemaOnly = empty))) batches.push(batch);
    if (batches.length === 0 && schemaOnly !== null) return new Table([schemaOnly]);
    return new Table(batches);
  }

  stream(target: PostgresReadTarget, options: IoOptions = {}): AsyncIterable<RecordBatch> {
    return this.streamWithSchema(target, options, () => undefined);
  }

  private async *streamWithSchema(target: PostgresReadTarget, options: IoOptions, onEmpty: (batch: RecordBatch) => void): AsyncGenerator<RecordBatch> {
    const sql = this.querySql(target).trim().replace(/;\s*$/, "");
    options.signal?.throwIfAborted();
    const client = await this.connect();
    let copy: ReturnType<typeof copyTo> | null = null;
    let completed = false;
    const cancelled = () => new UserError("cancelled", `${this.description}: read cancelled`);
    // Closing our socket does not stop the server: the statement would run on (holding its locks) until it
    // next writes to the client. So an abort also cancels it on the server, before the client is let go.
    let cancelling: Promise<void> | null = null;
    const abort = () => {
      cancelling = this.cancelBackend(client);
      copy?.destroy(cancelled());
    };
    options.signal?.addEventListener("abort", abort, { once: true });
    try {
      let fields: PgField[];
      try {
        const described = await client.query(`SELECT * FROM (${sql}\n) AS sluice_q LIMIT 0`);
        fields = described.fields;
      } catch (error) {
        throw options.signal?.aborted ? cancelled() : this.fail(error, "read");
      }
      if (options.signal?.aborted) throw cancelled();
      const columns = planPgRead(fields);
      const select = columns.map((c) => `${quotePgIdentifier(c.name)}${c.castToText ? "::text" : ""}`).join(", ");
      const decoder = new BinaryCopyDecoder(columns);
      copy = client.query(copyTo(`COPY (SELECT ${select} FROM (${sql}\n) AS sluice_q) TO STDOUT (FORMAT binary)`));
      let rows = 0;
      try {
        for await (const chunk of copy) {
          for (const batch of decoder.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)))) {
            rows += batch.numRows;
            options.onProgress?.({ rows });
            yield batch;
          }
        }
      } catch (error) {
        throw options.signal?.aborted ? cancelled() : this.fail(error, "read");
      }
      const last = decoder.end();
      for (const batch of last) yield batch;
      if (rows === 0 && last.length === 0) onEmpty(decoder.emptyBatch());
      completed = true;
    } finally {
      options.signal?.removeEventListener("abort", abort);
      if (cancelling !== null) await cancelling;
      // A consumer that stopped early leaves a COPY in flight, and a cancelled connection may still receive
      // the cancel: drop such a connection rather than reuse it.
      client.release((!completed && copy !== null) || cancelling !== null);
    }
  }

  /**
   * Cancels whatever `client`'s server process is running (`pg_cancel_backend`), from a one-off connection
   * rather than the pool, whose connections may all be busy (with reads being aborted at the same time).
   * Best effort: a failure here leaves only the statement running, which closing the socket cannot help.
   */
  private async cancelBackend(client: pg.PoolClient): Promise<void> {
    const pid: unknown = Reflect.get(client, "processID");
    if (typeof pid !== "number") return;
    const canceller = new pg.Client(this.config);
    canceller.on("error", () => undefined);
    try {
      await canceller.connect();
      await canceller.query("SELECT pg_cancel_backend($1)", [pid]);
    } catch {
      // best effort, see above
    } finally {
      await canceller.end().catch(() => undefined);
    }
  }

  async write(data: WriteData, target: PostgresWriteTarget, options: PostgresWriteOptions = {}): Promise<WriteResult> {
    if (isUpstreamRef(data)) return this.writeUpstream(data, target, options);
    const { schema, table } = splitName(target, this.defaultSchema);
    const mode: WriteMode = options.mode ?? "replace";
    const location = `${this.description} ${schema}.${table}`;
    const slice = options.replaceWhere;
    if (slice !== undefined && mode !== "replace") throw new UserError("invalid_option", `${location}: replaceWhere needs mode replace, got ${mode}`);
    const client = await this.connect();
    let began = false;
    let broken = false;
    try {
      const iterator = batchesOf(data);
      const first = await iterator.next();
      const arrowSchema = first.done ? (data instanceof Table ? data.schema : null) : first.value.schema;
      if (arrowSchema === null) throw new UserError("empty_input", `${location}: nothing to write (an empty stream has no schema)`);
      const plans = arrowSchema.fields.map((field) => planPgColumn(field));
      const qualified = `${quotePgIdentifier(schema)}.${quotePgIdentifier(table)}`;
      const columnsDdl = plans.map((p) => `${quotePgIdentifier(p.name)} ${p.pgType}`).join(", ");
      await createSchema(client, schema);
      await client.query("BEGIN");
      began = true;
      // Writers of one table take turns (until their commit): two concurrent first writes would otherwise
      // both find no table and both create it, and concurrent slice replacements would interleave.
      await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`sluice.write:${schema}.${table}`]);
      const exists = await tableExists(client, schema, table);
      let loadInto = qualified;
      let staging: string | null = null;
      if (mode === "fail" && exists) throw new UserError("target_exists", `${location} already exists (mode: fail)`);
      if ((mode === "append" || slice !== undefined) && exists) await checkAppendColumns(client, schema, table, plans, location);
      if (slice !== undefined) {
        staging = `sluice_slice_${randomUUID().slice(0, 8)}`;
        loadInto = quotePgIdentifier(staging);
        await client.query(`CREATE TEMPORARY TABLE ${loadInto} (${columnsDdl}) ON COMMIT DROP`);
        if (!exists) await client.query(`CREATE TABLE ${qualified} (${columnsDdl})`);
      } else if (mode === "replace" && exists) {
        staging = `${table.slice(0, 40)}_sluice_${randomUUID().slice(0, 8)}`;
        loadInto = `${quotePgIdentifier(schema)}.${quotePgIdentifier(staging)}`;
        await client.query(`CREATE TABLE ${loadInto} (${columnsDdl})`);
      } else if (!exists) {
        await client.query(`CREATE TABLE ${qualified} (${columnsDdl})`);
      }
      const columnList = plans.map((p) => quotePgIdentifier(p.name)).join(", ");
      const rows = await copyBatches(client, `COPY ${loadInto} (${columnList}) FROM STDIN (FORMAT binary)`, first.done ? null : first.value, iterator, plans, options);
      if (slice !== undefined) {
        const params = [...(slice.params ?? [])];
        const outside = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${loadInto} WHERE (${slice.sql}) IS NOT TRUE`, params);
        const count = Number(outside.rows[0]?.n ?? 0);
        if (count > 0) {
          throw new UserError("outside_slice", `${location}: ${count} of ${rows} rows do not match replaceWhere (${slice.sql}); nothing was written`);
        }
        await client.query(`DELETE FROM ${qualified} WHERE ${slice.sql}`, params);
        await client.query(`INSERT INTO ${qualified} (${columnList}) SELECT ${columnList} FROM ${loadInto}`);
      } else if (staging !== null) {
        await client.query(`DROP TABLE ${qualified}`);
        await client.query(`ALTER TABLE ${loadInto} RENAME TO ${quotePgIdentifier(table)}`);
      }
      await client.query("COMMIT");
      began = false;
      return { rows, location: `${this.where} ${schema}.${table}` };
    } catch (error) {
      if (began) await client.query("ROLLBACK").catch(() => (broken = true));
      throw this.fail(error, `write ${schema}.${table}`);
    } finally {
      // A connection whose rollback failed (or a COPY cut short) is not handed to the next caller.
      client.release(broken);
    }
  }

  /**
   * An upstream by reference (`ctx.upstream(name)`): DuckDB reads its persisted file in chunks, and
   * `COPY_STREAMS` binary COPY streams — one connection each, taking the next chunk as they finish the last —
   * load a staging table beside the target, so Postgres parses on several backends while this thread encodes.
   * The staging table is committed before the streams start (they are separate sessions), then one
   * transaction puts it in place: renamed into place when the target is missing or replaced whole, or
   * checked against `replaceWhere`, its slice deleted and the rows inserted. Readers never see a half-written
   * table; a failure drops the staging table and leaves the target as it was.
   */
  private async writeUpstream(ref: UpstreamRef, target: PostgresWriteTarget, options: PostgresWriteOptions): Promise<WriteResult> {
    const { schema, table } = splitName(target, this.defaultSchema);
    const mode: WriteMode = options.mode ?? "replace";
    const location = `${this.description} ${schema}.${table}`;
    const slice = options.replaceWhere;
    if (slice !== undefined && mode !== "replace") throw new UserError("invalid_option", `${location}: replaceWhere needs mode replace, got ${mode}`);
    options.signal?.throwIfAborted();
    const session = await openDuckDB();
    const staging = `${table.slice(0, 40)}_sluice_${randomUUID().slice(0, 8)}`;
    const stagingName = `${quotePgIdentifier(schema)}.${quotePgIdentifier(staging)}`;
    let stagingCreated = false;
    try {
      const query = await upstreamQuery(session.connection, ref);
      const stream = await openDuckDBBatches(session.connection, query, [], COPY_CHUNK_ROWS);
      const batches = stream?.batches ?? (await queryToArrowStream(session.connection, query));
      const first = await batches.next();
      const arrowSchema = stream?.schema ?? (first.done ? null : first.value.schema);
      if (arrowSchema === null) throw new UserError("empty_input", `${location}: upstream ${ref.name} has no columns to write`);
      const plans = arrowSchema.fields.map((field) => planPgColumn(field));
      const columnsDdl = plans.map((p) => `${quotePgIdentifier(p.name)} ${p.pgType}`).join(", ");
      const columnList = plans.map((p) => quotePgIdentifier(p.name)).join(", ");
      const admin = await this.connect();
      try {
        await createSchema(admin, schema);
        await admin.query(`CREATE TABLE ${stagingName} (${columnsDdl})`);
        stagingCreated = true;
      } catch (error) {
        throw this.fail(error, `write ${schema}.${table}`);
      } finally {
        admin.release();
      }
      // One queue of batches for every stream: an async generator answers concurrent next() calls in turn.
      let pending: RecordBatch | null = first.done ? null : first.value;
      let rows = 0;
      const next = async (): Promise<RecordBatch | null> => {
        if (pending !== null) {
          const batch = pending;
          pending = null;
          return batch;
        }
        const item = await batches.next();
        return item.done ? null : item.value;
      };
      const report = (n: number): void => {
        rows += n;
        options.onProgress?.({ rows });
      };
      const copySql = `COPY ${stagingName} (${columnList}) FROM STDIN (FORMAT binary)`;
      const streams = Array.from({ length: COPY_STREAMS }, async () => {
        const client = await this.connect();
        let ok = false;
        try {
          await copyFromQueue(client, copySql, next, plans, report, options.signal);
          ok = true;
        } catch (error) {
          throw this.fail(error, `write ${schema}.${table}`);
        } finally {
          client.release(!ok);
        }
      });
      const settled = await Promise.allSettled(streams);
      const failure = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failure !== undefined) throw failure.reason;
      await this.putInPlace({ schema, table, staging, plans, mode, slice, location, rows });
      stagingCreated = false;
      return { rows, location: `${this.where} ${schema}.${table}` };
    } finally {
      session.close();
      if (stagingCreated) await this.execute(`DROP TABLE IF EXISTS ${stagingName}`).catch(() => undefined);
    }
  }

  /** The one transaction that moves a loaded staging table into place (see `writeUpstream`); drops it when done. */
  private async putInPlace(w: {
    schema: string;
    table: string;
    staging: string;
    plans: readonly PgColumnPlan[];
    mode: WriteMode;
    slice: PostgresWriteOptions["replaceWhere"];
    location: string;
    rows: number;
  }): Promise<void> {
    const qualified = `${quotePgIdentifier(w.schema)}.${quotePgIdentifier(w.table)}`;
    const stagingName = `${quotePgIdentifier(w.schema)}.${quotePgIdentifier(w.staging)}`;
    const columnList = w.plans.map((p) => quotePgIdentifier(p.name)).join(", ");
    const client = await this.connect();
    let began = false;
    let broken = false;
    try {
      await client.query("BEGIN");
      began = true;
      await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`sluice.write:${w.schema}.${w.table}`]);
      const exists = await tableExists(client, w.schema, w.table);
      if (w.mode === "fail" && exists) throw new UserError("target_exists", `${w.location} already exists (mode: fail)`);
      if (w.slice !== undefined) {
        const params = [...(w.slice.params ?? [])];
        const outside = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${stagingName} WHERE (${w.slice.sql}) IS NOT TRUE`, params);
        const count = Number(outside.rows[0]?.n ?? 0);
        if (count > 0) throw new UserError("outside_slice", `${w.location}: ${count} of ${w.rows} rows do not match replaceWhere (${w.slice.sql}); nothing was written`);
      }
      if (exists && (w.slice !== undefined || w.mode === "append")) {
        await checkAppendColumns(client, w.schema, w.table, w.plans, w.location);
        if (w.slice !== undefined) await client.query(`DELETE FROM ${qualified} WHERE ${w.slice.sql}`, [...(w.slice.params ?? [])]);
        await client.query(`INSERT INTO ${qualified} (${columnList}) SELECT ${columnList} FROM ${stagingName}`);
        await client.query(`DROP TABLE ${stagingName}`);
      } else {
        if (exists) await client.query(`DROP TABLE ${qualified}`);
        await client.query(`ALTER TABLE ${stagingName} RENAME TO ${quotePgIdentifier(w.table)}`);
      }
      await client.query("COMMIT");
      began = false;
    } catch (error) {
      if (began) await client.query("ROLLBACK").catch(() => (broken = true));
      throw this.fail(error, `write ${w.schema}.${w.table}`);
    } finally {
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** Binary COPY streams of an upstream written by reference (each its own connection; the pool holds them all). */
const COPY_STREAMS = 3;
/** Rows per batch those streams take from DuckDB: small enough that the streams share the work evenly. */
const COPY_CHUNK_ROWS = 16_384;

/** One binary COPY stream fed from a shared queue of batches until it is empty; reports rows as they go. */
async function copyFromQueue(
  client: pg.PoolClient,
  sql: string,
  next: () => Promise<RecordBatch | null>,
  plans: readonly PgColumnPlan[],
  report: (rows: number) => void,
  signal: AbortSignal | undefined,
): Promise<void> {
  const stream = client.query(copyFrom(sql));
  const done = new Promise<void>((resolve, reject) => {
    stream.on("finish", resolve);
    stream.on("error", reject);
  });
  done.catch(() => undefined);
  try {
    if (!stream.write(COPY_HEADER)) await Promise.race([once(stream, "drain"), done]);
    for (let batch = await next(); batch !== null; batch = await next()) {
      for (const chunk of encodeBatch(batch, plans)) {
        signal?.throwIfAborted();
        if (!stream.write(chunk)) await Promise.race([once(stream, "drain"), done]);
      }
      report(batch.numRows);
    }
  } catch (error) {
    stream.destroy(error instanceof Error ? error : new Error(String(error)));
    await done.catch(() => undefined);
    throw error;
  }
  stream.end(COPY_TRAILER);
  await done;
}

async function* batchesOf(data: Table | AsyncIterable<RecordBatch>): AsyncGenerator<RecordBatch> {
  if (data instanceof Table) {
    for (const batch of data.batches) yield batch;
    return;
  }
  yield* data;
}

/**
 * Creates the schema when missing, outside the write's transaction: `CREATE SCHEMA IF NOT EXISTS` run by two
 * sessions at once can still fail one of them on the catalog's unique index, which is harmless here.
 */
async function createSchema(client: pg.PoolClient, schema: string): Promise<void> {
  const found = await client.query("SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1", [schema]);
  if ((found.rowCount ?? 0) > 0) return;
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quotePgIdentifier(schema)}`);
  } catch (error) {
    if (!(error instanceof Error && Reflect.get(error, "code") === "23505")) throw error;
  }
}

async function tableExists(client: pg.PoolClient, schema: string, table: string): Promise<boolean> {
  const result = await client.query("SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = $1 AND tablename = $2", [schema, table]);
  return (result.rowCount ?? 0) > 0;
}

/** Binary COPY needs the exact column types: appending int8 values to an int4 column would be rejected mid-load. */
async function checkAppendColumns(client: pg.PoolClient, schema: string, table: string, plans: readonly PgColumnPlan[], location: string): Promise<void> {
  const result = await client.query<{ name: string; type: string }>(
    "SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid " +
      "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped",
    [schema, table],
  );
  const existing = new Map(result.rows.map((r) => [r.name, normalizePgType(r.type)]));
  const problems: string[] = [];
  for (const plan of plans) {
    const type = existing.get(plan.name);
    if (type === undefined) problems.push(`column ${plan.name} is not in the table`);
    else if (type !== normalizePgType(plan.pgType) && !(type.startsWith("numeric") && plan.pgType.startsWith("numeric"))) {
      problems.push(`column ${plan.name} is ${type}, the data is ${plan.pgType}`);
    }
  }
  if (problems.length > 0) throw new UserError("schema_mismatch", `${location}: cannot append: ${problems.join("; ")}`);
}

function normalizePgType(type: string): string {
  const aliases: Record<string, string> = {
    smallint: "int2",
    integer: "int4",
    bigint: "int8",
    real: "float4",
    "double precision": "float8",
    boolean: "bool",
    "timestamp without time zone": "timestamp",
    "timestamp with time zone": "timestamptz",
    "time without time zone": "time",
  };
  return aliases[type] ?? type.replace(/\s+/g, "");
}

/** Streams binary COPY data with backpressure; returns the row count. */
async function copyBatches(
  client: pg.PoolClient,
  sql: string,
  first: RecordBatch | null,
  rest: AsyncIterator<RecordBatch>,
  plans: readonly PgColumnPlan[],
  options: WriteOptions,
): Promise<number> {
  const stream = client.query(copyFrom(sql));
  const done = new Promise<void>((resolve, reject) => {
    stream.on("finish", resolve);
    stream.on("error", reject);
  });
  done.catch(() => undefined);
  let failed: unknown = null;
  stream.on("error", (error) => (failed = error));
  // Pipelined: a full stream buffer is waited for only after the next chunk is encoded, so Postgres parses
  // chunk k while this thread encodes chunk k+1 (the encoder is a lazy generator).
  let drained: Promise<unknown> | null = null;
  const write = async (buf: Buffer): Promise<void> => {
    if (drained !== null) {
      await drained;
      drained = null;
    }
    if (failed !== null) throw failed;
    if (!stream.write(buf)) {
      drained = Promise.race([once(stream, "drain"), done]);
      drained.catch(() => undefined); // awaited (and its error thrown) at the next write
    }
  };
  let rows = 0;
  await write(COPY_HEADER);
  const sendBatch = async (batch: RecordBatch): Promise<void> => {
    for (const chunk of encodeBatch(batch, plans)) {
      options.signal?.throwIfAborted();
      await write(chunk);
    }
    rows += batch.numRows;
    options.onProgress?.({ rows });
  };
  try {
    if (first !== null) await sendBatch(first);
    for (let next = await rest.next(); !next.done; next = await rest.next()) await sendBatch(next.value);
  } catch (error) {
    stream.destroy(error instanceof Error ? error : new Error(String(error)));
    await done.catch(() => undefined);
    throw error;
  }
  if (drained !== null) await drained;
  stream.end(COPY_TRAILER);
  await done;
  return rows;
}
