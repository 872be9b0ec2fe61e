/**
 * One DuckDB database per pipeline run (in memory; spills to a temp directory under the cache when large),
 * created on first use and closed when the run ends. It is what keeps SQL → SQL chains inside DuckDB: a
 * SQL block's output stays a table of its name here, so the next SQL block reads it with no conversion.
 *
 * Every upstream of a block is made visible under its block name before the block runs:
 * - a table already here from this run (same output)     → nothing to do;
 * - in-memory Arrow IPC (a TypeScript upstream this run) → a view over the Arrow buffers (`registerArrowView`):
 *   nothing is loaded up front, each query copies only the columns it reads (an aggregate over 3 of 20
 *   columns copies 3), straight from the IPC bytes this run already holds;
 * - a persisted Parquet file (a cached SQL upstream)     → `CREATE VIEW … AS SELECT * FROM read_parquet(…)`;
 * - a persisted Arrow IPC file                           → read and loaded with `arrowToDuckDB` (buffer copies).
 */
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import type { BlockInput } from "../core/execution";
import type { OutputRecord } from "../core/output-types";
import { arrowToDuckDB, registerArrowView } from "../arrow/arrow-to-duckdb";
import { quoteIdentifier, quoteLiteral } from "../arrow/sql-text";

/** What a name in the run database currently holds, and which output it came from. */
interface Entry {
  kind: "table" | "view";
  key: string;
  /** Frees the Arrow table behind a view over Arrow buffers, once the view is dropped. */
  release?: () => void;
}

/** Identity of an output: same file, same size, same rows ⇒ same data (a retried upstream writes a new file or size). */
export function outputKey(output: OutputRecord): string {
  return `${output.ref.path}|${output.summary.bytes}|${output.summary.rows}`;
}

/** One run's DuckDB database and what each block name in it currently holds. */
export class RunDatabase {
  private readonly entries = new Map<string, Entry>();
  /** Loads run one after another: they are DDL on shared names, and the appender is single-threaded anyway. */
  private loading: Promise<void> = Promise.resolve();
  private readonly connections = new Set<DuckDBConnection>();
  private admin: DuckDBConnection | null = null;

  private constructor(
    readonly runId: string,
    private readonly instance: DuckDBInstance,
    readonly tempDir: string,
  ) {}

  static async open(runId: string, tempDir: string): Promise<RunDatabase> {
    await mkdir(tempDir, { recursive: true });
    const instance = await DuckDBInstance.create(":memory:", { temp_directory: tempDir });
    const db = new RunDatabase(runId, instance, tempDir);
    // Timestamps without a zone are UTC instants in Sluice; TIMESTAMPTZ must not pick up the machine's zone.
    await (await db.adminConnection()).run("SET TimeZone = 'UTC'");
    return db;
  }

  /** A fresh connection (one per block run, so `interrupt()` stops only that block). Close it with `release`. */
  async connect(): Promise<DuckDBConnection> {
    const connection = await this.instance.connect();
    await connection.run("SET TimeZone = 'UTC'");
    this.connections.add(connection);
    return connection;
  }

  release(connection: DuckDBConnection): void {
    if (this.connections.delete(connection)) connection.closeSync();
  }

  private async adminConnection(): Promise<DuckDBConnection> {
    this.admin ??= await this.instance.connect();
    return this.admin;
  }

  /** Makes every input visible as a table or view of its name (see the file comment). */
  async ensureInputs(inputs: readonly BlockInput[]): Promise<void> {
    const run = this.loading.then(async () => {
      for (const input of inputs) await this.ensureInput(input);
    });
    this.loading = run.catch(() => undefined);
    await run;
  }

  /** Records that a SQL block created table `name` holding `output`, so downstream SQL blocks use it as is. */
  registerTable(name: string, output: OutputRecord): void {
    this.entries.set(name, { kind: "table", key: outputKey(output) });
  }

  /** Drops whatever `name` holds (before a SQL block re-creates it as a table). */
  async dropName(name: string, connection: DuckDBConnection): Promise<void> {
    const entry = this.entries.get(name);
    this.entries.delete(name);
    if (entry?.kind === "view") await connection.run(`DROP VIEW IF EXISTS ${quoteIdentifier(name)}`);
    else if (entry?.kind === "table") await connection.run(`DROP TABLE IF EXISTS ${quoteIdentifier(name)}`);
    entry?.release?.();
  }

  private async ensureInput(input: BlockInput): Promise<void> {
    const key = outputKey(input.output);
    const existing = this.entries.get(input.name);
    if (existing?.key === key) return;
    const connection = await this.adminConnection();
    await this.dropName(input.name, connection);
    if (input.ipc !== undefined) {
      const { release } = await registerArrowView(connection, input.name, input.ipc);
      this.entries.set(input.name, { kind: "view", key, release });
      return;
    }
    const { format, path } = input.output.ref;
    switch (format) {
      case "parquet":
        await connection.run(`CREATE VIEW ${quoteIdentifier(input.name)} AS SELECT * FROM read_parquet(${quoteLiteral(path)})`);
        this.entries.set(input.name, { kind: "view", key });
        return;
      case "arrow":
        // Loaded once (a cached upstream from an earlier run): the file's bytes need not stay in memory.
        await arrowToDuckDB(connection, input.name, new Uint8Array(await readFile(path)));
        this.entries.set(input.name, { kind: "table", key });
        return;
    }
  }

  async close(): Promise<void> {
    await this.loading;
    for (const connection of this.connections) connection.closeSync();
    this.connections.clear();
    this.admin?.closeSync();
    this.admin = null;
    this.instance.closeSync();
    for (const entry of this.entries.values()) entry.release?.();
    this.entries.clear();
    await rm(this.tempDir, { recursive: true, force: true });
  }
}

/** The run databases of one executor, by run id. */
export class RunDatabases {
  private readonly open = new Map<string, Promise<RunDatabase>>();

  constructor(private readonly tempRoot: string) {}

  get(runId: string): Promise<RunDatabase> {
    let db = this.open.get(runId);
    if (db === undefined) {
      db = RunDatabase.open(runId, join(this.tempRoot, `run-${runId.replace(/[^A-Za-z0-9_-]/g, "_")}`));
      this.open.set(runId, db);
      db.catch(() => this.open.delete(runId));
    }
    return db;
  }

  /** Whether the run has a database (it had a SQL block or a ctx.sql call). */
  has(runId: string): boolean {
    return this.open.has(runId);
  }

  async end(runId: string): Promise<void> {
    const db = this.open.get(runId);
    if (db === undefined) return;
    this.open.delete(runId);
    await (await db).close();
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.open.keys()].map((runId) => this.end(runId)));
  }
}
