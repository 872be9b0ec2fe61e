/**
 * The DuckDB warehouse: an embedded database file — by default
 * `<dataDir>/warehouse.duckdb` — that blocks write tables into and read queries from, and that SQL blocks
 * may name as their connection.
 *
 * Writes load the Arrow data into a temporary staging table first (buffer copy, arrow-to-duckdb.ts), then
 * publish it in one transaction: `replace` = CREATE OR REPLACE … AS SELECT from the staging table, `append`
 * = INSERT … BY NAME (creating the table when missing), `fail` = CREATE TABLE, refused when it exists. A
 * failed load never touches the target.
 *
 * DuckDB allows one process per database file, so the file is opened on first use and kept
 * open by this connector until `close()`; calls are serialised so staging tables never interleave.
 */
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { StatementType } from "@duckdb/node-api";
import type { Table } from "apache-arrow";
import { OperationalError, UserError, isSluiceError } from "../core/errors";
import { quoteIdentifier } from "../arrow/sql-text";
import { loadArrowIntoDuckDB, openDuckDB, queryToArrow, upstreamQuery, type DuckDBSession } from "./duckdb-session";
import { errorMessage } from "./redact";
import { isUpstreamRef, type ArrowConnector, type IoOptions, type WriteData, type WriteMode, type WriteOptions, type WriteResult } from "./types";

/** Settings of a `duckdb` profile. */
export interface DuckDBWarehouseSettings {
  /** Database file; default `<dataDir>/warehouse.duckdb`. `:memory:` for a throw-away database. */
  path?: string;
}

/** A query (params bound to `$1…$n`) or a whole table. */
export type DuckDBReadTarget = string | { sql: string; params?: readonly unknown[] } | { table: string; schema?: string };
/** `table`, `schema.table`, or both parts. */
export type DuckDBWriteTarget = string | { table: string; schema?: string };

function splitName(target: DuckDBWriteTarget): { schema: string; table: string } {
  if (typeof target !== "string") return { schema: target.schema ?? "main", table: target.table };
  const dot = target.indexOf(".");
  return dot === -1 ? { schema: "main", table: target } : { schema: target.slice(0, dot), table: target.slice(dot + 1) };
}

/** Reads and writes tables of one embedded DuckDB database file. */
export class DuckDBWarehouse implements ArrowConnector<DuckDBReadTarget, DuckDBWriteTarget> {
  readonly description: string;
  /** The database file (or `:memory:`). */
  readonly path: string;
  private session: Promise<DuckDBSession> | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly tempDir: string | undefined;

  constructor(settings: DuckDBWarehouseSettings, options: { dataDir: string; name?: string; tempDir?: string }) {
    this.path = settings.path ?? join(options.dataDir, "warehouse.duckdb");
    this.description = `duckdb "${options.name ?? "default"}"`;
    this.tempDir = options.tempDir;
  }

  private open(): Promise<DuckDBSession> {
    this.session ??= (async () => {
      if (this.path !== ":memory:") await mkdir(dirname(this.path), { recursive: true });
      try {
        return await openDuckDB(this.path);
      } catch (error) {
        this.session = null;
        throw new OperationalError("db_unavailable", `${this.description}: cannot open ${this.path}: ${errorMessage(error)}`, { file: this.path }, { cause: error });
      }
    })();
    return this.session;
  }

  /** Runs `work` after every earlier call finished (one connection, staging tables must not interleave). */
  private serial<T>(work: (session: DuckDBSession) => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => work(await this.open()));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private fail(error: unknown, doing: string): Error {
    if (isSluiceError(error)) return error;
    return new UserError("sql_error", `${this.description} (${this.path}): ${doing}: ${errorMessage(error)}`, {}, { cause: error });
  }

  async read(target: DuckDBReadTarget, options: IoOptions = {}): Promise<Table> {
    let sql: string;
    let params: readonly unknown[] = [];
    if (typeof target === "string") sql = target;
    else if ("table" in target) sql = `SELECT * FROM ${quoteIdentifier(target.schema ?? "main")}.${quoteIdentifier(target.table)}`;
    else {
      sql = target.sql;
      params = target.params ?? [];
    }
    return this.serial(async (s) => {
      options.signal?.throwIfAborted();
      try {
        const table = await queryToArrow(s.connection, sql, params, this.tempDir);
        options.onProgress?.({ rows: table.numRows });
        return table;
      } catch (error) {
        throw this.fail(error, "read");
      }
    });
  }

  /**
   * The type of a single statement (`SELECT`, `INSERT`, `DELETE`, …), parsed and bound against this database
   * but not run: SQL blocks check that they hold a query before running it here.
   */
  async statementType(sql: string): Promise<string> {
    return this.serial(async (s) => {
      try {
        const prepared = await s.connection.prepare(sql);
        try {
          return StatementType[prepared.statementType] ?? "UNKNOWN";
        } finally {
          prepared.destroySync();
        }
      } catch (error) {
        throw this.fail(error, "prepare");
      }
    });
  }

  /** Runs SQL that returns nothing (DDL, ELT statements). */
  async execute(sql: string): Promise<void> {
    await this.serial(async (s) => {
      try {
        await s.connection.run(sql);
      } catch (error) {
        throw this.fail(error, "execute");
      }
    });
  }

  /** Writes Arrow, or an upstream by reference (`ctx.upstream(name)`), which the warehouse reads from its persisted file. */
  async write(data: WriteData, target: DuckDBWriteTarget, options: WriteOptions = {}): Promise<WriteResult> {
    const { schema, table } = splitName(target);
    const mode: WriteMode = options.mode ?? "replace";
    const qualified = `${quoteIdentifier(schema)}.${quoteIdentifier(table)}`;
    const location = `${this.description} ${schema}.${table}`;
    return this.serial(async (s) => {
      const c = s.connection;
      const staging = "sluice_staging";
      let began = false;
      try {
        const exists = await tableExists(s, schema, table);
        if (exists && mode === "fail") throw new UserError("target_exists", `${location} already exists (mode: fail)`);
        options.signal?.throwIfAborted();
        let rows: number;
        if (isUpstreamRef(data)) {
          await c.run(`CREATE OR REPLACE TEMP TABLE ${quoteIdentifier(staging)} AS ${await upstreamQuery(c, data)}`);
          rows = Number((await c.runAndReadAll(`SELECT count(*) FROM temp.main.${quoteIdentifier(staging)}`)).getRows()[0]?.[0] ?? 0);
        } else {
          rows = await loadArrowIntoDuckDB(c, staging, data);
        }
        options.signal?.throwIfAborted();
        await c.run("BEGIN TRANSACTION");
        began = true;
        await c.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
        const source = `SELECT * FROM temp.main.${quoteIdentifier(staging)}`;
        if (mode === "append" && exists) await c.run(`INSERT INTO ${qualified} BY NAME ${source}`);
        else if (mode === "replace") await c.run(`CREATE OR REPLACE TABLE ${qualified} AS ${source}`);
        else await c.run(`CREATE TABLE ${qualified} AS ${source}`);
        await c.run("COMMIT");
        began = false;
        options.onProgress?.({ rows });
        return { rows, location: `${this.path} ${schema}.${table}` };
      } catch (error) {
        if (began) await c.run("ROLLBACK").catch(() => undefined);
        if (!isSluiceError(error) && /already exists/i.test(errorMessage(error))) {
          throw new UserError("target_exists", `${location} already exists (mode: fail)`, {}, { cause: error });
        }
        throw this.fail(error, `write ${schema}.${table}`);
      } finally {
        await c.run(`DROP TABLE IF EXISTS temp.main.${quoteIdentifier(staging)}`).catch(() => undefined);
      }
    });
  }

  async close(): Promise<void> {
    const session = this.session;
    this.session = null;
    await this.queue;
    if (session !== null) (await session).close();
  }
}

async function tableExists(s: DuckDBSession, schema: string, table: string): Promise<boolean> {
  const reader = await s.connection.runAndReadAll("SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2", [schema, table]);
  return reader.getRows().length > 0;
}
