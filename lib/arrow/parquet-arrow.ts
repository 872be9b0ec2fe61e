/**
 * Parquet ↔ Arrow through parquet-wasm. Meant for worker threads only: parquet-wasm's WebAssembly memory
 * grows to the largest table it has held and never shrinks, so the pool recycles a worker
 * whose `wasmMemoryBytes()` passed a threshold instead of letting the main thread carry that memory.
 *
 * parquet-wasm is loaded on first use (`loadParquetWasm`): compiling its 5 MB of WebAssembly costs ~80 ms,
 * which a worker that only runs TypeScript blocks over in-memory inputs never needs to pay.
 */
import { readFileSync } from "node:fs";
import { tableFromIPC, type Table } from "apache-arrow";

type ParquetWasm = typeof import("parquet-wasm");

let loaded: ParquetWasm | null = null;

/** Loads parquet-wasm once; the synchronous functions below need it loaded. */
export async function loadParquetWasm(): Promise<ParquetWasm> {
  loaded ??= await import("parquet-wasm");
  return loaded;
}

function wasm(): ParquetWasm {
  if (loaded === null) throw new Error("parquet-wasm is not loaded yet: await loadParquetWasm() first");
  return loaded;
}

/** Batch size measured fastest for DuckDB-written files. */
export const PARQUET_READ_BATCH_SIZE = 131_072;

/** Decodes Parquet bytes to Arrow IPC stream bytes (copied out of the wasm heap into JS memory). */
export function parquetToIPCSync(bytes: Uint8Array): Uint8Array {
  return wasm().readParquet(bytes, { batchSize: PARQUET_READ_BATCH_SIZE }).intoIPCStream();
}

export async function parquetToIPC(bytes: Uint8Array): Promise<Uint8Array> {
  await loadParquetWasm();
  return parquetToIPCSync(bytes);
}

/** Reads a Parquet file as an apache-arrow Table (parquet-wasm must be loaded). */
export function readParquetFileSync(path: string): Table {
  return tableFromIPC(parquetToIPCSync(readFileSync(path)));
}

export async function readParquetFile(path: string): Promise<Table> {
  await loadParquetWasm();
  return readParquetFileSync(path);
}

/** Encodes Arrow IPC stream bytes as uncompressed Parquet (the benchmark's "Parquet in between" variant). */
export async function ipcToParquet(ipcStream: Uint8Array): Promise<Uint8Array> {
  const pw = await loadParquetWasm();
  const props = new pw.WriterPropertiesBuilder().setCompression(pw.Compression.UNCOMPRESSED).build();
  return pw.writeParquet(pw.Table.fromIPCStream(ipcStream), props);
}

/** Current size of parquet-wasm's linear memory (0 before first use): what a worker keeps after a large decode. */
export function wasmMemoryBytes(): number {
  return loaded === null ? 0 : loaded.wasmMemory().buffer.byteLength;
}
