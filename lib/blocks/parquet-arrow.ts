/**
 * Parquet ↔ Arrow through parquet-wasm. Meant for worker threads only: parquet-wasm's WebAssembly memory
 * grows to the largest table it has held and never shrinks (DESIGN §12), so the pool recycles a worker
 * whose `wasmMemoryBytes()` passed a threshold instead of letting the main thread carry that memory.
 */
import { readFileSync } from "node:fs";
import {
  Compression,
  Table as WasmTable,
  WriterPropertiesBuilder,
  readParquet,
  wasmMemory,
  writeParquet,
} from "parquet-wasm";
import { tableFromIPC, type Table } from "apache-arrow";

/** Batch size measured fastest for DuckDB-written files (DESIGN §12). */
export const PARQUET_READ_BATCH_SIZE = 131_072;

/** Decodes Parquet bytes to Arrow IPC stream bytes (in JS memory, out of the wasm heap). */
export function parquetToIPC(bytes: Uint8Array): Uint8Array {
  return readParquet(bytes, { batchSize: PARQUET_READ_BATCH_SIZE }).intoIPCStream();
}

/** Reads a Parquet file as an apache-arrow Table. */
export function readParquetFile(path: string): Table {
  return tableFromIPC(parquetToIPC(readFileSync(path)));
}

/** Encodes Arrow IPC stream bytes as uncompressed Parquet (used by the benchmark's Parquet hand-off variant). */
export function ipcToParquet(ipcStream: Uint8Array): Uint8Array {
  const props = new WriterPropertiesBuilder().setCompression(Compression.UNCOMPRESSED).build();
  return writeParquet(WasmTable.fromIPCStream(ipcStream), props);
}

/** Current size of parquet-wasm's linear memory: what a worker keeps after decoding a large file. */
export function wasmMemoryBytes(): number {
  return wasmMemory().buffer.byteLength;
}
