/**
 * DuckDB → Arrow. First choice: the result's data chunks copied straight into Arrow buffers
 * (`duckdb-chunks.ts`: no file, no decoder, the query streams while its chunks are copied). For result types
 * that path does not convert (HUGEINT, UUID, INTERVAL, ENUM, nested types…), the Parquet hand-off:
 * `COPY (query) TO '….parquet'` (DuckDB writes Parquet on all its threads) followed by parquet-wasm
 * `readParquet(bytes, {batchSize: 131072})`, decoded off the main thread (in the requesting block's worker,
 * or any pool worker) because parquet-wasm memory never shrinks. The Node bindings' row-wise readers are
 * 10× slower and use GBs.
 */
import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import { RecordBatchStreamWriter, tableFromIPC, type Table } from "apache-arrow";
import { duckdbChunksToArrow } from "./duckdb-chunks";
import { runWithParams } from "./duckdb-params";
import { quoteLiteral, trimStatement } from "./sql-text";

/** Turns a Parquet file into Arrow IPC stream bytes somewhere other than the calling thread (a pool worker). */
export type ParquetDecoder = (parquetPath: string) => Promise<Uint8Array>;

/**
 * Runs `query` (a single SELECT, `params` bound as $1..$n, see duckdb-params.ts) and writes its result to `path` as Parquet.
 * Uncompressed by default: this file is a hand-off, read once and deleted; compression only costs CPU here.
 */
export async function copyQueryToParquet(
  connection: DuckDBConnection,
  query: string,
  params: readonly unknown[],
  path: string,
  compression: "uncompressed" | "snappy" | "zstd" = "uncompressed",
): Promise<void> {
  const sql = `COPY (${trimStatement(query).body}\n) TO ${quoteLiteral(path)} (FORMAT parquet, COMPRESSION ${compression})`;
  await runWithParams(connection, sql, params);
}

/**
 * A DuckDB query's result as an apache-arrow Table: from its chunks when every column type allows
 * (`duckdbChunksToArrow`), otherwise COPY to a temporary Parquet file on this thread, decoded by `decode`
 * off this thread, returned as IPC and wrapped here without a copy.
 */
export async function duckdbToArrow(
  connection: DuckDBConnection,
  query: string,
  params: readonly unknown[],
  options: { tempDir: string; decode: ParquetDecoder },
): Promise<Table> {
  const direct = await duckdbChunksToArrow(connection, query, params);
  if (direct !== null) return direct;
  const path = join(options.tempDir, `query-${randomUUID()}.parquet`);
  try {
    await copyQueryToParquet(connection, query, params, path);
    return tableFromIPC(await options.decode(path));
  } finally {
    await rm(path, { force: true });
  }
}

/**
 * A DuckDB query's result as Arrow IPC stream bytes in a SharedArrayBuffer (for a block worker to wrap
 * without a copy), built from the result's chunks; null (having run nothing) when a column's type needs
 * the Parquet hand-off instead.
 */
export async function duckdbToSharedIPC(connection: DuckDBConnection, query: string, params: readonly unknown[]): Promise<Uint8Array | null> {
  const table = await duckdbChunksToArrow(connection, query, params);
  if (table === null) return null;
  return tableToSharedIPC(table);
}

/**
 * IPC stream bytes of `table` in a SharedArrayBuffer, with one copy: the writer's pieces are views of the
 * table's buffers (plus message headers), copied once into place, where `tableToIPC` would first join them.
 */
export async function tableToSharedIPC(table: Table): Promise<Uint8Array> {
  const pieces: Uint8Array[] = [];
  let size = 0;
  for await (const piece of RecordBatchStreamWriter.writeAll(table)) {
    pieces.push(piece);
    size += piece.byteLength;
  }
  const shared = new Uint8Array(new SharedArrayBuffer(size));
  let offset = 0;
  for (const piece of pieces) {
    shared.set(piece, offset);
    offset += piece.byteLength;
  }
  return shared;
}
