/**
 * SQL blocks that name a `connection:` (ELT in the warehouse): the query runs inside that database
 * — a `kind: postgres` or `kind: duckdb` profile of `sluice.yaml` — instead of the run's DuckDB, and its
 * result comes back as Arrow (binary COPY for Postgres) to be stored like any SQL block output.
 *
 * Upstream outputs: the query may use an upstream block by its name, as in DuckDB. Each upstream the SQL
 * actually mentions is first written into the database (binary COPY from Arrow for Postgres) as a staging
 * table `sluice_staging.<block>_<run>_<random>`, and the query is run behind a `WITH <upstream> AS (SELECT *
 * FROM <staging table>)` prefix, so the upstream's name shadows any table of the same name there. The
 * staging tables are dropped when the block ends, whatever the outcome (a process killed mid-block leaves
 * them behind in `sluice_staging`; everything there is safe to drop). Upstreams the SQL never mentions are
 * not copied: an upstream may be there only to order the blocks. Why not temp tables: the connectors
 * pool their connections, and a temp table is visible only to the session that made it.
 *
 * Timeout and cancel abort the connector's read, which closes its connection at once; Postgres still finishes
 * the statement it was running before it notices, and the staging tables' DROP waits for that (a server-side cancel
 * on abort, `pg_cancel_backend`, would end it at once).
 *
 * Only one SELECT (`WITH … SELECT`, `VALUES`) is a block's output, as for DuckDB blocks: Postgres refuses
 * anything else when the connector wraps it as a sub-query. Parameters (`{{ variables.x }}`) are bound as
 * `$n`; Postgres receives them as escaped literals, since COPY takes no parameters.
 */
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { tableFromIPC, type Table } from "apache-arrow";
import { OperationalError, UserError } from "../core/errors";
import { didYouMean } from "../core/suggest";
import type { BlockInput } from "../core/execution";
import { DuckDBWarehouse } from "../io/duckdb-warehouse";
import { PostgresConnector, type PgParam } from "../io/postgres";
import type { Profiles } from "../io/profiles";
import { readParquetFile } from "../arrow/parquet-arrow";

/** What a connection block needs besides the request: the project's profiles (`sluice.yaml`). */
export interface ConnectionProfiles {
  profiles: Profiles;
  /** The data directory: the default DuckDB warehouse file lives here. */
  dataDir: string;
  /** Relative DuckDB paths resolve here. */
  projectDir: string;
}

/** The schema staging tables of upstream outputs go into. */
export const STAGING_SCHEMA = "sluice_staging";

/** A database a SQL block can run in, over its connector's public API. */
interface SqlDatabase {
  readonly description: string;
  query(sql: string, params: readonly unknown[], signal: AbortSignal): Promise<Table>;
  /** Writes `table` as `sluice_staging.<name>`. */
  stage(table: Table, name: string, signal: AbortSignal): Promise<void>;
  drop(name: string): Promise<void>;
  close(): Promise<void>;
}

function isPgParam(value: unknown): value is PgParam {
  return value === null || ["string", "number", "bigint", "boolean"].includes(typeof value) || value instanceof Date;
}

function quote(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function openDatabase(connection: string, deps: ConnectionProfiles, where: string): SqlDatabase {
  const file = deps.profiles.file ?? "sluice.yaml";
  const profile = deps.profiles.connections[connection];
  if (profile === undefined) {
    const names = Object.keys(deps.profiles.connections);
    throw new UserError("unknown_connection", `${where}: connection "${connection}" is not in ${file}${didYouMean(connection, names)} (known: ${names.join(", ") || "none"})`);
  }
  const staged = `${quote(STAGING_SCHEMA)}.`;
  switch (profile.kind) {
    case "postgres": {
      const pg = new PostgresConnector(
        { url: profile.url, host: profile.host, port: profile.port, database: profile.database, user: profile.user, password: profile.password, schema: profile.schema, ssl: profile.ssl },
        connection,
      );
      return {
        description: pg.description,
        query: (sql, params, signal) => {
          const bad = params.findIndex((p) => !isPgParam(p));
          if (bad >= 0) throw new UserError("invalid_parameter", `${where}: parameter $${bad + 1} cannot be sent to Postgres (${typeof params[bad]})`);
          return pg.read({ sql, params: params.filter(isPgParam) }, { signal });
        },
        stage: async (table, name, signal) => void (await pg.write(table, { schema: STAGING_SCHEMA, table: name }, { mode: "fail", signal })),
        drop: async (name) => void (await pg.execute(`DROP TABLE IF EXISTS ${staged}${quote(name)}`)),
        close: () => pg.close(),
      };
    }
    case "duckdb": {
      const path = profile.path === undefined || profile.path === ":memory:" ? profile.path : isAbsolute(profile.path) ? profile.path : resolve(deps.projectDir, profile.path);
      const duck = new DuckDBWarehouse({ path }, { dataDir: deps.dataDir, name: connection });
      return {
        description: duck.description,
        query: async (sql, params, signal) => {
          // DuckDB would run a DELETE or an INSERT handed to read(); a block's SQL must be a query.
          const type = await duck.statementType(sql);
          if (type !== "SELECT") throw new UserError("not_a_query", `${where} is a ${type} statement; a SQL block is one SELECT (or WITH … SELECT) whose result is the output`);
          return duck.read({ sql, params }, { signal });
        },
        stage: async (table, name, signal) => void (await duck.write(table, { schema: STAGING_SCHEMA, table: name }, { mode: "fail", signal })),
        drop: (name) => duck.execute(`DROP TABLE IF EXISTS ${staged}${quote(name)}`),
        close: () => duck.close(),
      };
    }
    default:
      throw new UserError("unsupported_connection", `${where}: connection "${connection}" is ${profile.kind}; a SQL block runs in a postgres or duckdb connection (or in the run's DuckDB without connection:)`);
  }
}

/** Words of the SQL outside strings and comments: unquoted ones lower-cased, quoted ones as written. */
export function sqlIdentifiers(sql: string): Set<string> {
  const words = new Set<string>();
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i];
    if (ch === "-" && sql[i + 1] === "-") {
      const end = sql.indexOf("\n", i);
      i = end < 0 ? sql.length : end + 1;
    } else if (ch === "/" && sql[i + 1] === "*") {
      const end = sql.indexOf("*/", i + 2);
      i = end < 0 ? sql.length : end + 2;
    } else if (ch === "'") {
      i += 1;
      while (i < sql.length && !(sql[i] === "'" && sql[i + 1] !== "'")) i += sql[i] === "'" ? 2 : 1;
      i += 1;
    } else if (ch === '"') {
      let word = "";
      i += 1;
      while (i < sql.length && !(sql[i] === '"' && sql[i + 1] !== '"')) {
        word += sql[i];
        i += sql[i] === '"' ? 2 : 1;
      }
      i += 1;
      words.add(word);
    } else if (ch === "$") {
      // A Postgres dollar-quoted string ($$…$$, $tag$…$tag$) is text, not names.
      const tag = /^\$[A-Za-z_]*\$/.exec(sql.slice(i));
      if (tag) {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        i = end < 0 ? sql.length : end + tag[0].length;
      } else i += 1;
    } else if (/[A-Za-z_]/.test(ch)) {
      const word = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(sql.slice(i))?.[0] ?? ch;
      words.add(word.toLowerCase());
      i += word.length;
    } else i += 1;
  }
  return words;
}

/** The upstreams the SQL mentions by name (unquoted names match case-insensitively, as SQL folds them). */
export function referencedUpstreams(sql: string, upstreams: readonly string[]): string[] {
  const words = sqlIdentifiers(sql);
  return upstreams.filter((name) => words.has(name) || words.has(name.toLowerCase()));
}

/**
 * `WITH a AS (SELECT * FROM staged_a), … <sql>`; a query that has its own `WITH [RECURSIVE]` gets the
 * staged names first in the same list.
 */
export function withStagedUpstreams(sql: string, staged: ReadonlyMap<string, string>): string {
  if (staged.size === 0) return sql;
  const ctes = [...staged].map(([name, table]) => `${quote(name)} AS (SELECT * FROM ${quote(STAGING_SCHEMA)}.${quote(table)})`).join(",\n  ");
  const lead = /^(\s*(?:--[^\n]*\n|\/\*[\s\S]*?\*\/|\s)*)with(\s+recursive)?\b/i.exec(sql);
  if (lead) return `${lead[1]}WITH${lead[2] ?? ""} ${ctes},\n${sql.slice(lead[0].length)}`;
  return `WITH ${ctes}\n${sql}`;
}

async function inputTable(input: BlockInput): Promise<Table> {
  if (input.ipc !== undefined) return tableFromIPC(input.ipc);
  const { format, path } = input.output.ref;
  switch (format) {
    case "arrow":
      return tableFromIPC(await readFile(path));
    case "parquet":
      return readParquetFile(path);
  }
}

/**
 * Runs the block's (rendered, single-statement) SQL in its connection and returns the result as Arrow.
 * @param where `block x (pipelines/p/x.sql)`, for messages.
 */
export async function queryOnConnection(
  options: { connection: string; sql: string; params: readonly unknown[]; inputs: readonly BlockInput[]; runId: string; block: string; signal: AbortSignal; log(message: string): void },
  deps: ConnectionProfiles,
  where: string,
): Promise<Table> {
  const db = openDatabase(options.connection, deps, where);
  const staged = new Map<string, string>();
  try {
    const referenced = referencedUpstreams(options.sql, options.inputs.map((input) => input.name));
    for (const input of options.inputs.filter((i) => referenced.includes(i.name))) {
      options.signal.throwIfAborted();
      const table = `${input.name.slice(0, 30)}_${options.runId.replace(/[^A-Za-z0-9]/g, "").slice(-8)}_${randomUUID().slice(0, 8)}`;
      const data = await inputTable(input);
      staged.set(input.name, table);
      await db.stage(data, table, options.signal);
      options.log(`${options.block}: upstream ${input.name} (${data.numRows} rows) staged in ${db.description} as ${STAGING_SCHEMA}.${table}`);
    }
    return await db.query(withStagedUpstreams(options.sql, staged), options.params, options.signal);
  } catch (error) {
    if (error instanceof UserError || error instanceof OperationalError) {
      const message = error.message.startsWith(where) ? error.message : `${where}: ${error.message}`;
      throw error instanceof UserError ? new UserError(error.code, message, { block: options.block }, { cause: error }) : new OperationalError(error.code, message, { block: options.block }, { cause: error });
    }
    throw error;
  } finally {
    for (const table of staged.values()) await db.drop(table).catch(() => undefined);
    await db.close();
  }
}
