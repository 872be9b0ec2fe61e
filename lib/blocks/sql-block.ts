/**
 * Runs a SQL block (`<name>.sql`) in the run's DuckDB database.
 *
 * 1. Render the template: `{{ variables.x }}`, `{{ logical_date }}`, … become `$n` parameters bound as
 *    prepared-statement values (lib/core/sql-template.ts), never pasted into the SQL.
 * 2. Make every upstream visible as a table/view of its block name (run-database.ts).
 * 3. `CREATE OR REPLACE TABLE <block> AS <query>`: the output stays in DuckDB for downstream SQL blocks.
 * 4. `COPY <block> TO <temp>.parquet`, summarise with one aggregate query, commit through the output store.
 *
 * Only a single SELECT (including `WITH … SELECT`, `FROM t`, `VALUES …`) is a block's output: a script of
 * several statements or DDL/DML has no single result to hand downstream and would make re-runs
 * non-idempotent, so both are rejected with a UserError before anything runs.
 *
 * Timeout and cancel call `connection.interrupt()` on the block's own connection, so only this block stops.
 *
 * A block with `connection: <profile>` runs its SQL in that database instead (sql-connection.ts: Postgres or
 * the DuckDB warehouse); the result comes back as Arrow, becomes the block's table in the run database and
 * is persisted from there exactly like a DuckDB result (steps 3–4), so downstream blocks cannot tell.
 */
import { readFile } from "node:fs/promises";
import { isAbsolute, join, relative } from "node:path";
import { StatementType, type DuckDBConnection } from "@duckdb/node-api";
import { OperationalError, UserError, isSluiceError, messageOf } from "../core/errors";
import { formatDuration } from "../core/duration";
import { blockFileName } from "../core/model";
import { renderSql, scanSqlTemplate } from "../core/sql-template";
import type { BlockRunRequest, BlockRunResult } from "../core/execution";
import { arrowToDuckDB } from "../arrow/arrow-to-duckdb";
import { runWithParams } from "../arrow/duckdb-params";
import { csvQueryError, verifyFileReads } from "../io/sql-file-reads";
import type { RunDatabase, RunDatabases } from "./run-database";
import { queryOnConnection, type ConnectionProfiles } from "./sql-connection";
import { summarizeDuckDBTable } from "./sql-summary";
import { quoteIdentifier, quoteLiteral, trimStatement } from "../arrow/sql-text";

/** What runSqlBlock needs from the executor: the run databases, and the profiles for `connection:` blocks. */
export interface SqlBlockDeps {
  databases: RunDatabases;
  /** `sluice.yaml`'s connections; without them a block naming a connection fails with a UserError saying so. */
  connections?: ConnectionProfiles;
}

/** `pipelines/p/x.sql` when the file is inside the project, else the absolute path. */
export function displayPath(file: string, projectDir: string): string {
  const rel = relative(projectDir, file);
  return rel.startsWith("..") || isAbsolute(rel) ? file : rel;
}

/**
 * Stops a block's work on timeout or cancel: interrupts its connection and rejects whatever step is
 * awaited. Steps are thunks so that nothing new starts once stopped, and the step in flight is kept so
 * the connection is closed only after DuckDB has actually given up on it (closing a connection under a
 * running query leaves the query, and the process, hanging).
 */
class Stopper {
  reason: Error | null = null;
  connection: DuckDBConnection | null = null;
  /** Further connections of the block (the summary's, beside the COPY), interrupted with the first. */
  readonly others = new Set<DuckDBConnection>();
  private inFlight: Promise<unknown> = Promise.resolve();
  private rejectStop: ((error: Error) => void) | null = null;
  private readonly stopped = new Promise<never>((_, reject) => {
    this.rejectStop = reject;
  });

  constructor() {
    this.stopped.catch(() => undefined);
  }

  /** Aborted on stop: work outside DuckDB (a `connection:` query) listens to it. */
  readonly abort = new AbortController();

  stop(reason: Error): void {
    if (this.reason !== null) return;
    this.reason = reason;
    this.abort.abort(reason);
    for (const connection of [this.connection, ...this.others]) {
      try {
        connection?.interrupt();
      } catch {
        // the connection may already be closed
      }
    }
    this.rejectStop?.(reason);
  }

  /** Starts `start()` unless stopped, and awaits it unless stopped meanwhile. */
  async step<T>(start: () => Promise<T>): Promise<T> {
    if (this.reason !== null) throw this.reason;
    const running = start();
    this.inFlight = running.catch(() => undefined);
    const value = await Promise.race([running, this.stopped]);
    if (this.reason !== null) throw this.reason;
    return value;
  }

  /** Resolves once the step in flight has settled (DuckDB answers an interrupt quickly), or after `maxMs`. */
  async settled(maxMs = 10_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.inFlight, new Promise<void>((resolve) => (timer = setTimeout(resolve, maxMs)))]);
    clearTimeout(timer);
  }
}

/** Runs one SQL block run in the run database and persists its output; see the file comment. */
export async function runSqlBlock(request: BlockRunRequest, deps: SqlBlockDeps): Promise<BlockRunResult> {
  const { block, runId } = request;
  const file = join(request.pipelineDir, blockFileName(block));
  const shown = displayPath(file, request.projectDir);
  const where = `block ${block.name} (${shown})`;
  const stopper = new Stopper();
  if (request.signal.aborted) throw new UserError("cancelled", `block ${block.name} was cancelled`, { block: block.name });
  const onAbort = (): void => stopper.stop(new UserError("cancelled", `block ${block.name} was cancelled`, { block: block.name }));
  request.signal.addEventListener("abort", onAbort, { once: true });
  const timer =
    request.timeoutMs > 0
      ? setTimeout(
          () => stopper.stop(new OperationalError("timeout", `block ${block.name} timed out after ${formatDuration(Math.round(request.timeoutMs))}`, { block: block.name })),
          request.timeoutMs,
        )
      : null;
  try {
    const template = request.sql ?? (await stopper.step(() => readFile(file, "utf8")));
    const upstream = await stopper.step(() => upstreamValues(request, deps, template, shown));
    const rendered = renderSql(
      template,
      {
        upstream,
        variables: request.variables,
        logical_date: new Date(request.logicalDate),
        data_interval_start: new Date(request.dataInterval.start),
        data_interval_end: new Date(request.dataInterval.end),
        run_id: runId,
        pipeline: request.pipelineName,
        block: block.name,
        ...(request.item !== undefined ? { item: request.item } : {}),
      },
      shown,
    );
    const { body, statements } = trimStatement(rendered.sql);
    if (statements === 0) throw new UserError("empty_sql", `${where} has no SQL statement`, { block: block.name, file: shown });
    if (statements > 1) {
      throw new UserError("multiple_statements", `${where} has ${statements} statements; a SQL block is one SELECT (or WITH … SELECT) whose result is the output`, {
        block: block.name,
        file: shown,
      });
    }
    const db = await stopper.step(() => deps.databases.get(runId));
    const fromConnection = block.connection === null ? null : await stopper.step(() => runOnConnection(request, deps, body, rendered.params, stopper, where, shown));
    if (fromConnection === null) await stopper.step(() => db.ensureInputs(request.inputs));
    // Not through step(): a connection opened just as the block is stopped must still be released below.
    const connection = await db.connect();
    stopper.connection = connection;
    try {
      if (fromConnection !== null) {
        await stopper.step(() => db.dropName(block.name, connection));
        await stopper.step(() => arrowToDuckDB(connection, block.name, fromConnection));
        return await persistTable(request, db, connection, stopper);
      }
      return await runQuery(request, db, connection, body, rendered.params, stopper, where, shown);
    } finally {
      await stopper.settled();
      db.release(connection);
    }
  } catch (error) {
    if (stopper.reason !== null) throw stopper.reason;
    if (isSluiceError(error)) throw error;
    const silent = block.connection === null ? upstreamWithoutOutput(request, messageOf(error)) : undefined;
    if (silent !== undefined) {
      throw new UserError(
        "upstream_without_output",
        `${where}: upstream "${silent}" returns no output (an exporter, a sensor or a block that returns nothing): it runs before this block but is not a table it can read`,
        { block: block.name, file: shown },
        { cause: error },
      );
    }
    throw new UserError("sql_error", `${where}: ${messageOf(error)}`, { block: block.name, file: shown }, { cause: error });
  } finally {
    request.signal.removeEventListener("abort", onAbort);
    if (timer) clearTimeout(timer);
  }
}

/** Most rows `{{ upstream.<block>.<column> }}` binds: it is for small lists (files, keys), not for data. */
export const UPSTREAM_LIST_MAX_ROWS = 10_000;

/**
 * The values of `{{ upstream.<block>.<column> }}` placeholders: each names a column of an upstream's output,
 * bound as one list parameter (in the upstream's row order). It is how a block hands a SQL block the files
 * to read — `read_csv({{ upstream.files.path }}, …)` — since DuckDB's table functions take constants only,
 * never a subquery. Only the upstreams the template names are loaded, and only when it names one.
 */
async function upstreamValues(request: BlockRunRequest, deps: SqlBlockDeps, template: string, shown: string): Promise<Record<string, Record<string, unknown[]>>> {
  const wanted = new Map<string, Set<string>>();
  for (const placeholder of scanSqlTemplate(template, shown)) {
    const [root, block, column] = placeholder.expression.split(".");
    if (root !== "upstream" || block === undefined || column === undefined) continue;
    const input = request.inputs.find((i) => i.name === block);
    if (input === undefined) continue; // left out of the scope: renderSql names the upstreams there are
    const columns = wanted.get(block) ?? new Set<string>();
    columns.add(column);
    wanted.set(block, columns);
  }
  const scope: Record<string, Record<string, unknown[]>> = {};
  for (const input of request.inputs) scope[input.name] = {};
  if (wanted.size === 0) return scope;
  const db = await deps.databases.get(request.runId);
  await db.ensureInputs(request.inputs.filter((input) => wanted.has(input.name)));
  const connection = await db.connect();
  try {
    for (const [block, columns] of wanted) {
      const rows = Number((await connection.runAndReadAll(`SELECT count(*) FROM ${quoteIdentifier(block)}`)).getRows()[0]?.[0] ?? 0);
      if (rows > UPSTREAM_LIST_MAX_ROWS) {
        throw new UserError(
          "upstream_too_large",
          `block ${request.block.name} (${shown}): {{ upstream.${block}.… }} binds a column of ${block} as one list, which is for small tables (at most ${UPSTREAM_LIST_MAX_ROWS.toLocaleString("en-US")} rows); ${block} has ${rows.toLocaleString("en-US")}: read it as the table ${block} instead`,
          { block: request.block.name, file: shown },
        );
      }
      const described = await connection.runAndReadAll(`SELECT * FROM ${quoteIdentifier(block)} LIMIT 0`);
      const names = described.columnNames();
      // Every column is a key (so a misspelt one is answered with the names there are); only named ones are read.
      for (const name of names) {
        if (!columns.has(name)) {
          scope[block][name] = [];
          continue;
        }
        const result = await connection.runAndReadAll(`SELECT ${quoteIdentifier(name)} FROM ${quoteIdentifier(block)}`);
        scope[block][name] = result.getRows().map(([value]) => bindable(value));
      }
    }
  } finally {
    db.release(connection);
  }
  return scope;
}

/** A DuckDB value as a template parameter: strings, numbers, bigints, booleans and null as they are, the rest as text. */
function bindable(value: unknown): unknown {
  if (value === null || ["string", "number", "bigint", "boolean"].includes(typeof value)) return value;
  return String(value);
}

/**
 * The upstream the failed query named as a table although it has no output: the runner leaves such
 * upstreams out of `inputs`, so DuckDB only says the table does not exist.
 */
function upstreamWithoutOutput(request: BlockRunRequest, message: string): string | undefined {
  const missing = request.block.upstream.filter((name) => !request.inputs.some((input) => input.name === name));
  return missing.find((name) => new RegExp(`Table with name "?${name}"? does not exist`, "i").test(message));
}

async function runQuery(
  request: BlockRunRequest,
  db: RunDatabase,
  connection: DuckDBConnection,
  body: string,
  params: readonly unknown[],
  stopper: Stopper,
  where: string,
  shown: string,
): Promise<BlockRunResult> {
  const name = request.block.name;
  // Before prepare: binding read_parquet/read_csv already opens the files, and a damaged one should be named as such.
  await stopper.step(() => verifyInputFiles(request, connection, body, params, where));
  const prepared = await stopper.step(() => connection.prepare(body));
  const statementType = prepared.statementType;
  prepared.destroySync();
  if (statementType !== StatementType.SELECT) {
    throw new UserError("not_a_query", `${where} is a ${StatementType[statementType] ?? "non-SELECT"} statement; a SQL block is one SELECT (or WITH … SELECT) whose result is the output`, {
      block: name,
      file: shown,
    });
  }
  await stopper.step(() => db.dropName(name, connection));
  // The newline keeps a trailing `-- comment` in the block from swallowing anything after it.
  await stopper.step(() => runWithParams(connection, `CREATE OR REPLACE TABLE ${quoteIdentifier(name)} AS ${body}\n`, params)).catch((error: unknown) => {
    const located = csvQueryError(error);
    throw located === null ? error : new UserError(located.code, `${where}: ${located.message}`, { ...located.location, block: name }, { cause: error });
  });
  return persistTable(request, db, connection, stopper);
}

/**
 * Fails the block before its query runs when a file the query reads is damaged or ragged (a truncated
 * `.csv.gz` would otherwise load half its rows as success); tolerant reads and empty files become warn lines.
 */
async function verifyInputFiles(request: BlockRunRequest, connection: DuckDBConnection, body: string, params: readonly unknown[], where: string): Promise<void> {
  const warn = (message: string): void => request.onLog({ at: new Date().toISOString(), level: "warn", message });
  try {
    await verifyFileReads(connection, body, params, warn);
  } catch (error) {
    if (error instanceof UserError) throw new UserError(error.code, `${where}: ${error.message}`, { ...error.location, block: request.block.name }, { cause: error });
    throw error;
  }
}

/** Persists the block's table of the run database as its output (Parquet, summary) and registers it there. */
async function persistTable(request: BlockRunRequest, db: RunDatabase, connection: DuckDBConnection, stopper: Stopper): Promise<BlockRunResult> {
  const name = request.block.name;
  const temp = request.outputs.tempParquetPath(request.runId, name);
  // The summary's scans run beside the COPY, on a connection of their own: each leaves cores idle in its
  // single-threaded phases, which the other fills. Both have ended (settled) before either connection goes.
  const beside = await db.connect();
  stopper.others.add(beside);
  let summary: Awaited<ReturnType<typeof summarizeDuckDBTable>>;
  try {
    const [copied, summarized] = await stopper.step(() =>
      Promise.allSettled([connection.run(`COPY ${quoteIdentifier(name)} TO ${quoteLiteral(temp)} (FORMAT parquet)`), summarizeDuckDBTable(beside, name)]),
    );
    if (copied.status === "rejected") throw copied.reason;
    if (summarized.status === "rejected") throw summarized.reason;
    summary = summarized.value;
  } finally {
    await stopper.settled();
    stopper.others.delete(beside);
    db.release(beside);
  }
  request.onProgress({ rows: summary.rows });
  const output = await stopper.step(() => request.outputs.commitParquet(request.runId, name, temp, summary));
  db.registerTable(name, output);
  request.onLog({ at: new Date().toISOString(), level: "info", message: `${name}: ${summary.rows} rows, ${summary.columns.length} columns` });
  return { output };
}

/** Runs the block's SQL in its `connection:` database (sql-connection.ts) and returns the result as Arrow. */
async function runOnConnection(request: BlockRunRequest, deps: SqlBlockDeps, sql: string, params: readonly unknown[], stopper: Stopper, where: string, shown: string) {
  const { block } = request;
  const connection = block.connection ?? "";
  if (deps.connections === undefined) {
    throw new UserError("no_connections", `${where}: connection "${connection}" cannot be used: this executor was given no connection profiles (sluice.yaml)`, { block: block.name, file: shown });
  }
  return queryOnConnection(
    {
      connection,
      sql,
      params,
      inputs: request.inputs,
      runId: request.runId,
      block: block.name,
      signal: stopper.abort.signal,
      log: (message) => request.onLog({ at: new Date().toISOString(), level: "info", message }),
    },
    deps.connections,
    where,
  );
}
