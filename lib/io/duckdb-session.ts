/**
 * The DuckDB plumbing every file-ish connector shares: an embedded database, query → Arrow straight from
 * DuckDB's result chunks (`lib/arrow/duckdb-chunks.ts`; the Parquet hand-off of `duckdb-to-arrow.ts` for
 * the few types that path does not convert), as a table or as a stream of batches, Arrow → DuckDB by buffer copy
 * (`lib/arrow/arrow-to-duckdb.ts`), and the Arrow → DuckDB type names used in `read_csv(columns = …)` and
 * `hive_types`. Decoding happens on the calling thread: connectors run inside block worker threads, whose
 * parquet-wasm memory the pool recycles.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { DataType, TimeUnit, Table, type Field, type RecordBatch } from "apache-arrow";
import { UserError } from "../core/errors";
import { arrowToDuckDB } from "../arrow/arrow-to-duckdb";
import { openDuckDBBatches } from "../arrow/duckdb-chunks";
import { duckdbToArrow } from "../arrow/duckdb-to-arrow";
import { parquetToIPC } from "../arrow/parquet-arrow";
import { quoteIdentifier, quoteLiteral } from "../arrow/sql-text";
import type { UpstreamRef } from "./types";

/** An open embedded database and one connection to it. */
export interface DuckDBSession {
  connection: DuckDBConnection;
  close(): void;
}

/** Opens `path` (a database file, created when missing) or an in-memory database. */
export async function openDuckDB(path = ":memory:"): Promise<DuckDBSession> {
  const instance = await DuckDBInstance.create(path);
  const connection = await instance.connect();
  return {
    connection,
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/** Runs a DuckDB query and returns its result as Arrow (from its chunks, or via a temporary Parquet file decoded here). */
export async function queryToArrow(connection: DuckDBConnection, sql: string, params: readonly unknown[] = [], tempDir = tmpdir()): Promise<Table> {
  return duckdbToArrow(connection, sql, params, { tempDir, decode: async (path) => parquetToIPC(await readFile(path)) });
}

/**
 * Runs a DuckDB query and streams its result as record batches while DuckDB is still producing it (so a
 * writer downstream, e.g. a Postgres COPY, overlaps with the query). Results with a type the chunk path does
 * not convert are read whole first (`queryToArrow`). Run nothing else on `connection` until the stream ends.
 */
export async function* queryToArrowStream(connection: DuckDBConnection, sql: string, params: readonly unknown[] = [], tempDir = tmpdir()): AsyncGenerator<RecordBatch> {
  const stream = await openDuckDBBatches(connection, sql, params);
  if (stream === null) {
    yield* (await queryToArrow(connection, sql, params, tempDir)).batches;
    return;
  }
  yield* stream.batches;
}

/** A Table from either a Table or a stream of batches (DuckDB loads need the whole schema up front). */
export async function collectTable(data: Table | AsyncIterable<RecordBatch>): Promise<Table> {
  if (data instanceof Table) return data;
  const batches: RecordBatch[] = [];
  for await (const batch of data) batches.push(batch);
  return new Table(batches);
}

/** Loads an Arrow table into a (temporary by default) DuckDB table; see arrow-to-duckdb.ts for the type mapping. */
export async function loadArrowIntoDuckDB(connection: DuckDBConnection, name: string, data: Table | AsyncIterable<RecordBatch>, temporary = true): Promise<number> {
  const table = await collectTable(data);
  const { rows } = await arrowToDuckDB(connection, name, table, { replace: true, temporary });
  return rows;
}

/**
 * Makes an upstream by reference readable on `connection` and returns the query that selects it: a Parquet
 * output is read where it lies (DuckDB scans it in parallel, chunk by chunk); an Arrow IPC output is loaded
 * into a temp table first (DuckDB has no reader of its own for it).
 */
export async function upstreamQuery(connection: DuckDBConnection, ref: UpstreamRef): Promise<string> {
  if (ref.format === "parquet") return `SELECT * FROM read_parquet(${quoteLiteral(ref.path)})`;
  const name = "sluice_upstream";
  await arrowToDuckDB(connection, name, new Uint8Array(await readFile(ref.path)), { replace: true, temporary: true });
  return `SELECT * FROM ${quoteIdentifier(name)}`;
}

/** A fresh scratch directory (for hand-off files); remove it with `rm(dir, {recursive: true})`. */
export async function scratchDir(parent = tmpdir()): Promise<string> {
  return mkdtemp(join(parent, "sluice-io-"));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/**
 * The DuckDB type name that holds values of an Arrow field unchanged, for `read_csv(columns = …)` and
 * `hive_types`: the same mapping `arrowToDuckDB` uses when it loads a table.
 */
export function duckdbTypeOf(field: Field): string {
  const type: DataType = field.type;
  if (DataType.isNull(type)) return "VARCHAR";
  if (DataType.isBool(type)) return "BOOLEAN";
  if (DataType.isInt(type)) {
    const names: Record<number, string> = { 8: "TINYINT", 16: "SMALLINT", 32: "INTEGER", 64: "BIGINT" };
    return `${type.isSigned ? "" : "U"}${names[type.bitWidth]}`;
  }
  if (DataType.isFloat(type)) return type.precision === 1 ? "FLOAT" : "DOUBLE";
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) return "VARCHAR";
  if (DataType.isBinary(type) || DataType.isLargeBinary(type)) return "BLOB";
  if (DataType.isDictionary(type)) return DataType.isBinary(type.dictionary) ? "BLOB" : "VARCHAR";
  if (DataType.isDate(type)) return "DATE";
  if (DataType.isTimestamp(type)) {
    if (type.timezone) return "TIMESTAMPTZ";
    const byUnit: Record<TimeUnit, string> = {
      [TimeUnit.SECOND]: "TIMESTAMP_S",
      [TimeUnit.MILLISECOND]: "TIMESTAMP_MS",
      [TimeUnit.MICROSECOND]: "TIMESTAMP",
      [TimeUnit.NANOSECOND]: "TIMESTAMP_NS",
    };
    return byUnit[type.unit];
  }
  if (DataType.isTime(type)) return "TIME";
  if (DataType.isDecimal(type)) return `DECIMAL(${type.precision}, ${type.scale})`;
  throw new UserError("unsupported_type", `column ${field.name} has Arrow type ${String(type)}, which has no DuckDB equivalent in Sluice yet`);
}
