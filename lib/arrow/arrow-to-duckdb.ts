/**
 * Arrow → DuckDB by copying Arrow buffers straight into DuckDB data chunks (the Node
 * bindings have no Arrow C API). Measured in `bench-arrow-duckdb.ts`.
 *
 * Fixed-width columns (ints, floats, dates, timestamps, times, decimals) are one `memcpy` per 2048-row
 * vector; validity bitmaps have the same LSB-first layout in both (shifted when a slice starts mid-byte);
 * strings are written as DuckDB `string_t` records (inline up to 12 bytes, `vector_assign_string_element_len`
 * for longer ones); booleans are unpacked from bits to bytes. Nothing goes through JS values per cell
 * except booleans and strings, and nothing touches the disk.
 *
 * The chunks are handed to DuckDB through a table function, `CREATE TABLE t AS SELECT * FROM
 * sluice_arrow_scan('<id>')`, rather than through an Appender: the Appender does DuckDB's storage work
 * synchronously on the JS thread (≈ 2.5–3× the time of DuckDB reading the same data from Parquet), while
 * the scan leaves it to a DuckDB thread and only fills chunks in JS (≈ 0.15 s of ≈ 1.2 s per 1M × 20),
 * ≈ 1.3–1.5× the Parquet read and the event loop stays free meanwhile. The scan supports projection
 * pushdown, so `registerArrowView` can expose a table as a view that loads nothing up front: each query
 * copies only the columns it reads (the run database uses this for in-memory upstreams).
 */
import duckdb from "@duckdb/node-bindings";
import {
  BIGINT,
  BLOB,
  BOOLEAN,
  DATE,
  DECIMAL,
  DOUBLE,
  DuckDBDataChunk,
  DuckDBTableFunction,
  FLOAT,
  INTEGER,
  SMALLINT,
  TIME,
  TIME_NS,
  TIMESTAMP,
  TIMESTAMP_MS,
  TIMESTAMP_NS,
  TIMESTAMP_S,
  TIMESTAMPTZ,
  TINYINT,
  UBIGINT,
  UINTEGER,
  USMALLINT,
  UTINYINT,
  VARCHAR,
  type DuckDBConnection,
  type DuckDBType,
} from "@duckdb/node-api";
import { DataType, DateUnit, TimeUnit, Type, tableFromIPC, type Data, type Field, type Table } from "apache-arrow";
import { UserError, messageOf } from "../core/errors";
import { quoteIdentifier } from "./sql-text";

/** DuckDB's STANDARD_VECTOR_SIZE: rows per data chunk. */
const VECTOR_SIZE = 2048;

type Vector = ReturnType<typeof duckdb.data_chunk_get_vector>;

/** Writes rows [row, row + count) of one Arrow column (one `Data` of a record batch) into a DuckDB vector. */
type ColumnWriter = (vector: Vector, data: Data, row: number, count: number) => void;

interface ColumnPlan {
  name: string;
  duckType: DuckDBType;
  write: ColumnWriter;
}

/** Reusable scratch buffers: `copy_data_to_vector` only takes plain ArrayBuffers, never SharedArrayBuffers. */
class Scratch {
  readonly bytes = new Uint8Array(VECTOR_SIZE * 16);
  readonly view = new DataView(this.bytes.buffer);
  readonly validity = new Uint8Array(VECTOR_SIZE / 8);
}

/**
 * Loads an Arrow table (or Arrow IPC bytes, stream or file format) into a new DuckDB table.
 *
 * Types map value-faithfully: Int and Uint of every width, Float32/64, Bool, Utf8/LargeUtf8 (and
 * dictionaries of them) → VARCHAR, Binary → BLOB, Date → DATE, Timestamp<unit> → TIMESTAMP_S/_MS/TIMESTAMP/_NS
 * (TIMESTAMPTZ in microseconds when the Arrow type has a time zone), Time → TIME, Decimal128 → DECIMAL(p,s),
 * Null → VARCHAR of nulls. Other types are a UserError naming the column.
 *
 * @param options.replace drop an existing table of that name first (an upstream re-run in the same run).
 * @param options.method `scan` (default, see the file comment) or `appender`, kept for the benchmark.
 */
export async function arrowToDuckDB(
  connection: DuckDBConnection,
  tableName: string,
  source: Table | Uint8Array,
  options: { replace?: boolean; temporary?: boolean; method?: "scan" | "appender" } = {},
): Promise<{ rows: number }> {
  const table = isUint8Array(source) ? tableFromIPC(source) : source;
  const plans = table.schema.fields.map((field) => planColumn(tableName, field));
  const create = `${options.replace ? "CREATE OR REPLACE" : "CREATE"}${options.temporary ? " TEMP" : ""} TABLE ${quoteIdentifier(tableName)}`;
  if (plans.length === 0) {
    throw new UserError("no_columns", `table ${tableName}: an Arrow table without columns cannot be a DuckDB table`, { block: tableName });
  }
  if (options.method === "appender") return viaAppender(connection, create, tableName, table, plans);
  registerScanFunction(connection);
  const id = String(++scanCounter);
  scans.set(id, { table, plans });
  try {
    await connection.run(`${create} AS SELECT * FROM sluice_arrow_scan('${id}')`);
  } finally {
    scans.delete(id);
  }
  return { rows: table.numRows };
}

/** A table that `sluice_arrow_scan('<id>')` reads. */
interface ScanSource {
  table: Table;
  plans: ColumnPlan[];
}

/** One scan of a source (a view is scanned once per query): where the next chunk starts, which columns. */
interface ScanState {
  source: ScanSource;
  batch: number;
  row: number;
  /** Source column of each output vector (projection pushdown: only the columns the query reads). */
  columns: number[];
}

/**
 * Makes an Arrow table readable as a DuckDB view without loading it: every query over the view scans the
 * Arrow buffers (only the columns it reads: projection pushdown), so an aggregate over 3 of 20 columns
 * copies 3. The table stays referenced until `release()` (call it after dropping the view). Scans run on
 * this thread: never query the view through a synchronous DuckDB call here.
 */
export async function registerArrowView(
  connection: DuckDBConnection,
  viewName: string,
  source: Table | Uint8Array,
  options: { replace?: boolean } = {},
): Promise<{ rows: number; release(): void }> {
  const table = isUint8Array(source) ? tableFromIPC(source) : source;
  const plans = table.schema.fields.map((field) => planColumn(viewName, field));
  if (plans.length === 0) {
    throw new UserError("no_columns", `table ${viewName}: an Arrow table without columns cannot be a DuckDB table`, { block: viewName });
  }
  registerScanFunction(connection);
  const id = String(++scanCounter);
  scans.set(id, { table, plans });
  try {
    await connection.run(`${options.replace ? "CREATE OR REPLACE" : "CREATE"} VIEW ${quoteIdentifier(viewName)} AS SELECT * FROM sluice_arrow_scan('${id}')`);
  } catch (error) {
    scans.delete(id);
    throw error;
  }
  return { rows: table.numRows, release: () => scans.delete(id) };
}

/** Tables handed to `sluice_arrow_scan` by id; the function itself is registered once per connection. */
const scans = new Map<string, ScanSource>();
let scanCounter = 0;
const registeredOn = new WeakSet<DuckDBConnection>();

function registerScanFunction(connection: DuckDBConnection): void {
  if (registeredOn.has(connection)) return;
  const scan = DuckDBTableFunction.create({
    name: "sluice_arrow_scan",
    parameterTypes: [VARCHAR],
    bindFunction: (bind) => {
      const id = String(bind.getParameter(0));
      const state = scans.get(id);
      if (state === undefined) {
        bind.setError(`sluice_arrow_scan: no Arrow table is being loaded under id ${id}`);
        return;
      }
      for (const plan of state.plans) bind.addResultColumn(plan.name, plan.duckType);
      bind.setCardinality(state.table.numRows, true);
      bind.setBindData({ id });
    },
    supportsProjectionPushdown: true,
    initFunction: (init) => {
      // One thread: the chunks come from the JS thread one at a time anyway, and one thread keeps row order.
      init.setMaxThreads(1);
      const bindData: unknown = init.getBindData();
      const id: unknown = typeof bindData === "object" && bindData !== null ? Reflect.get(bindData, "id") : undefined;
      const source = typeof id === "string" ? scans.get(id) : undefined;
      if (source === undefined) {
        init.setError(`sluice_arrow_scan: the Arrow table under id ${String(id)} is gone`);
        return;
      }
      const state: ScanState = { source, batch: 0, row: 0, columns: init.getColumnIndexes() };
      init.setInitData(state);
    },
    mainFunction: (info, output) => {
      const state = info.getInitData() as ScanState | undefined;
      try {
        output.rowCount = state === undefined ? 0 : fillNextChunk(state, output.chunk);
      } catch (error) {
        info.setError(messageOf(error));
        output.rowCount = 0;
      }
    },
  });
  try {
    connection.registerTableFunction(scan);
  } catch (error) {
    // Registered on this database through another connection: that registration serves this one too.
    if (!/already exists/i.test(messageOf(error))) throw error;
  }
  registeredOn.add(connection);
}

type RawChunk = DuckDBDataChunk["chunk"];

/** Writes the next ≤ 2048 rows of the scanned table into `chunk`; returns how many (0 at the end). */
function fillNextChunk(state: ScanState, chunk: RawChunk): number {
  const batches = state.source.table.batches;
  while (state.batch < batches.length && state.row >= batches[state.batch].numRows) {
    state.batch++;
    state.row = 0;
  }
  if (state.batch >= batches.length) return 0;
  const batch = batches[state.batch];
  const count = Math.min(VECTOR_SIZE, batch.numRows - state.row);
  duckdb.data_chunk_set_size(chunk, count);
  const { plans } = state.source;
  const children = batch.data.children;
  state.columns.forEach((source, c) => {
    const vector = duckdb.data_chunk_get_vector(chunk, c);
    writeValidity(vector, children[source], state.row, count);
    plans[source].write(vector, children[source], state.row, count);
  });
  state.row += count;
  return count;
}

function writeRows(chunk: RawChunk, plans: readonly ColumnPlan[], columns: readonly Data[], row: number, count: number): void {
  for (let c = 0; c < plans.length; c++) {
    const vector = duckdb.data_chunk_get_vector(chunk, c);
    writeValidity(vector, columns[c], row, count);
    plans[c].write(vector, columns[c], row, count);
  }
}

/** The Appender variant, measured against the scan in the benchmark. */
async function viaAppender(connection: DuckDBConnection, create: string, tableName: string, table: Table, plans: ColumnPlan[]): Promise<{ rows: number }> {
  const columnsSql = plans.map((p) => `${quoteIdentifier(p.name)} ${p.duckType.toString()}`).join(", ");
  await connection.run(`${create} (${columnsSql})`);
  const appender = await connection.createAppender(tableName);
  const chunk = DuckDBDataChunk.create(plans.map((p) => p.duckType));
  try {
    for (const batch of table.batches) {
      for (let row = 0; row < batch.numRows; row += VECTOR_SIZE) {
        const count = Math.min(VECTOR_SIZE, batch.numRows - row);
        chunk.reset();
        duckdb.data_chunk_set_size(chunk.chunk, count);
        writeRows(chunk.chunk, plans, batch.data.children, row, count);
        appender.appendDataChunk(chunk);
      }
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
  return { rows: table.numRows };
}

const scratch = new Scratch();

/** Copies `count` validity bits starting at Arrow bit `data.offset + row`; skipped when the column has no nulls. */
function writeValidity(vector: Vector, data: Data, row: number, count: number): void {
  if (data.typeId === Type.Null) {
    duckdb.vector_ensure_validity_writable(vector);
    const zeros = scratch.validity.fill(0);
    duckdb.copy_data_to_vector_validity(vector, 0, zeros.buffer, 0, Math.ceil(count / 8));
    return;
  }
  const bitmap = data.nullBitmap;
  if (data.nullCount === 0 || !isUint8Array(bitmap) || bitmap.length === 0) return;
  duckdb.vector_ensure_validity_writable(vector);
  const start = data.offset + row;
  const byteCount = Math.ceil(count / 8);
  const out = scratch.validity;
  const first = start >> 3;
  const shift = start & 7;
  if (shift === 0) {
    out.set(bitmap.subarray(first, first + byteCount));
  } else {
    for (let j = 0; j < byteCount; j++) {
      const lo = bitmap[first + j] >> shift;
      const hi = first + j + 1 < bitmap.length ? bitmap[first + j + 1] << (8 - shift) : 0;
      out[j] = (lo | hi) & 0xff;
    }
  }
  duckdb.copy_data_to_vector_validity(vector, 0, out.buffer, 0, byteCount);
}

/*
 * Type checks by tag, not instanceof: arrays and buffers from another realm (a vm context such as jest's, a
 * worker) fail instanceof but are the same memory to N-API; a failed instanceof here would silently drop data.
 */
function tagOf(value: unknown): string {
  return Object.prototype.toString.call(value).slice(8, -1);
}

function isPlainArrayBuffer(buffer: ArrayBufferLike): buffer is ArrayBuffer {
  return tagOf(buffer) === "ArrayBuffer";
}

function isUint8Array(value: unknown): value is Uint8Array {
  return tagOf(value) === "Uint8Array";
}

function isOffsets(value: unknown): value is Int32Array | BigInt64Array {
  const tag = tagOf(value);
  return tag === "Int32Array" || tag === "BigInt64Array";
}

type IndexArray = Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array;
const INDEX_TAGS = new Set(["Int8Array", "Int16Array", "Int32Array", "Uint8Array", "Uint16Array", "Uint32Array"]);

function isIndexArray(value: unknown): value is IndexArray {
  return INDEX_TAGS.has(tagOf(value));
}

/** Copies a window of a typed array into the vector; through the scratch buffer when it is SAB-backed. */
function copyTyped(vector: Vector, values: ArrayBufferView, bytesPerValue: number, row: number, count: number): void {
  const byteOffset = values.byteOffset + row * bytesPerValue;
  const byteCount = count * bytesPerValue;
  const buffer = values.buffer;
  if (isPlainArrayBuffer(buffer)) {
    duckdb.copy_data_to_vector(vector, 0, buffer, byteOffset, byteCount);
    return;
  }
  const source = new Uint8Array(values.buffer, byteOffset, byteCount);
  scratch.bytes.set(source);
  duckdb.copy_data_to_vector(vector, 0, scratch.bytes.buffer, 0, byteCount);
}

function typedValues(data: Data): ArrayBufferView {
  const values: unknown = data.values;
  if (!ArrayBuffer.isView(values)) throw new Error(`Arrow column of type ${String(data.type)} has no value buffer`);
  return values;
}

const copyFixed =
  (bytesPerValue: number): ColumnWriter =>
  (vector, data, row, count) =>
    copyTyped(vector, typedValues(data), bytesPerValue, row, count);

/** Element-wise conversion into a plain typed array, then one copy (dates in ms, timestamps with a time zone, times). */
function convertInto<S, T extends Int32Array | BigInt64Array>(
  source: (values: ArrayBufferView) => S,
  bytesPerValue: number,
  view: (buffer: ArrayBuffer) => T,
  convert: (values: S, index: number) => T[number],
): ColumnWriter {
  return (vector, data, row, count) => {
    const values = source(typedValues(data));
    const buffer = new ArrayBuffer(count * bytesPerValue);
    const out = view(buffer);
    for (let i = 0; i < count; i++) out[i] = convert(values, row + i);
    duckdb.copy_data_to_vector(vector, 0, buffer, 0, buffer.byteLength);
  };
}

function asBigInt64(values: ArrayBufferView): BigInt64Array {
  return new BigInt64Array(values.buffer, values.byteOffset, Math.floor(values.byteLength / 8));
}

function asInt32(values: ArrayBufferView): Int32Array {
  return new Int32Array(values.buffer, values.byteOffset, Math.floor(values.byteLength / 4));
}

const writeBool: ColumnWriter = (vector, data, row, count) => {
  const bits = typedValues(data);
  const bytes = new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength);
  const out = scratch.bytes;
  const start = data.offset + row;
  for (let i = 0; i < count; i++) {
    const bit = start + i;
    out[i] = (bytes[bit >> 3] >> (bit & 7)) & 1;
  }
  duckdb.copy_data_to_vector(vector, 0, out.buffer, 0, count);
};

/** Offsets and bytes of a variable-width column (Utf8, LargeUtf8, Binary, LargeBinary). */
interface VarWidth {
  offsets: Int32Array | BigInt64Array;
  bytes: Uint8Array;
}

function varWidthOf(data: Data): VarWidth {
  const offsets: unknown = data.valueOffsets;
  const bytes: unknown = data.values;
  if (!isOffsets(offsets)) throw new Error("variable-width column without offsets");
  if (bytes !== undefined && bytes !== null && !isUint8Array(bytes)) throw new Error("variable-width column whose data is not bytes");
  return { offsets, bytes: bytes ?? new Uint8Array(0) };
}

/**
 * Writes `string_t` records: {u32 length, 12 bytes inline} for strings up to 12 bytes (zero-padded, because
 * DuckDB compares inline strings bytewise), and lets DuckDB copy longer ones into the vector's heap.
 * `indexOf` maps a row of the window to a row of `source` (identity, or a dictionary index).
 */
function writeStrings(vector: Vector, source: VarWidth, count: number, isValid: (i: number) => boolean, indexOf: (i: number) => number): void {
  const out = scratch.bytes;
  const view = scratch.view;
  out.fill(0, 0, count * 16);
  const { offsets, bytes } = source;
  const big = tagOf(offsets) === "BigInt64Array";
  let long: number[] | null = null;
  for (let i = 0; i < count; i++) {
    if (!isValid(i)) continue;
    const k = indexOf(i);
    const start = big ? Number(offsets[k]) : (offsets[k] as number);
    const end = big ? Number(offsets[k + 1]) : (offsets[k + 1] as number);
    const length = end - start;
    // A bad offset here would become a wild pointer inside DuckDB (a crash, not an error): check it.
    if (length < 0 || end > bytes.length) throw new Error(`corrupt Arrow string offsets at value ${k} (${start}..${end} of ${bytes.length} bytes)`);
    if (length <= 12) {
      const base = i * 16;
      view.setUint32(base, length, true);
      for (let b = 0; b < length; b++) out[base + 4 + b] = bytes[start + b];
    } else {
      (long ??= []).push(i);
    }
  }
  duckdb.copy_data_to_vector(vector, 0, out.buffer, 0, count * 16);
  if (long === null) return;
  for (const i of long) {
    const k = indexOf(i);
    const start = big ? Number(offsets[k]) : (offsets[k] as number);
    const end = big ? Number(offsets[k + 1]) : (offsets[k + 1] as number);
    duckdb.vector_assign_string_element_len(vector, i, bytes.subarray(start, end));
  }
}

function validityTest(data: Data, row: number): (i: number) => boolean {
  const bitmap = data.nullBitmap;
  if (data.nullCount === 0 || !isUint8Array(bitmap) || bitmap.length === 0) return () => true;
  const start = data.offset + row;
  return (i) => {
    const bit = start + i;
    return ((bitmap[bit >> 3] >> (bit & 7)) & 1) === 1;
  };
}

const writeVarWidth: ColumnWriter = (vector, data, row, count) => {
  writeStrings(vector, varWidthOf(data), count, validityTest(data, row), (i) => row + i);
};

/** One offsets + bytes view over a dictionary, concatenating its chunks when it has several (rare). */
const flatDictionaries = new WeakMap<object, VarWidth>();

function dictionaryValues(data: Data): VarWidth {
  const dictionary = data.dictionary;
  if (dictionary === undefined) throw new Error("dictionary column without a dictionary");
  const cached = flatDictionaries.get(dictionary);
  if (cached) return cached;
  let flat: VarWidth;
  if (dictionary.data.length === 1) {
    flat = varWidthOf(dictionary.data[0]);
  } else {
    // Offsets buffers may be longer than length + 1 (builder capacity): count values with each chunk's length.
    const chunks = dictionary.data.map((chunk) => ({ part: varWidthOf(chunk), length: chunk.length }));
    const starts = chunks.map(({ part }) => Number(part.offsets[0]));
    const sizes = chunks.map(({ part, length }, i) => Number(part.offsets[length]) - starts[i]);
    const bytes = new Uint8Array(sizes.reduce((a, b) => a + b, 0));
    const offsets = new Float64Array(chunks.reduce((n, chunk) => n + chunk.length, 0) + 1);
    let at = 0;
    let row = 0;
    chunks.forEach(({ part, length }, c) => {
      bytes.set(part.bytes.subarray(starts[c], starts[c] + sizes[c]), at);
      for (let i = 0; i < length; i++) offsets[row++] = at + Number(part.offsets[i]) - starts[c];
      at += sizes[c];
    });
    offsets[row] = at;
    flat = { offsets: BigInt64Array.from(offsets, (value) => BigInt(value)), bytes };
  }
  flatDictionaries.set(dictionary, flat);
  return flat;
}

/** Dictionary<Utf8|Binary>: decode indices against the dictionary; no strings are materialised in JS. */
const writeDictionary: ColumnWriter = (vector, data, row, count) => {
  const indices = typedValues(data);
  if (!isIndexArray(indices)) throw new Error("dictionary indices must be 8/16/32-bit integers");
  writeStrings(vector, dictionaryValues(data), count, validityTest(data, row), (i) => indices[row + i]);
};

/** Decimal128 (four little-endian u32 words per value) → DuckDB's storage width for the precision. */
function decimalWriter(precision: number): ColumnWriter {
  const width = precision <= 4 ? 2 : precision <= 9 ? 4 : precision <= 18 ? 8 : 16;
  return (vector, data, row, count) => {
    const values = typedValues(data);
    if (width === 16) {
      copyTyped(vector, values, 16, row, count);
      return;
    }
    const source = new DataView(values.buffer, values.byteOffset, values.byteLength);
    const view = scratch.view;
    for (let i = 0; i < count; i++) {
      const at = (row + i) * 16;
      if (width === 8) view.setBigInt64(i * 8, source.getBigInt64(at, true), true);
      else if (width === 4) view.setInt32(i * 4, source.getInt32(at, true), true);
      else view.setInt16(i * 2, source.getInt16(at, true), true);
    }
    duckdb.copy_data_to_vector(vector, 0, scratch.bytes.buffer, 0, count * width);
  };
}

const MS_PER_DAY = 86_400_000n;
const TIME_UNIT_TO_MICROS: Record<TimeUnit, bigint> = {
  [TimeUnit.SECOND]: 1_000_000n,
  [TimeUnit.MILLISECOND]: 1_000n,
  [TimeUnit.MICROSECOND]: 1n,
  [TimeUnit.NANOSECOND]: 0n, // divide by 1000 instead; see below
};

function toMicros(value: bigint, unit: TimeUnit): bigint {
  return unit === TimeUnit.NANOSECOND ? value / 1000n : value * TIME_UNIT_TO_MICROS[unit];
}

/** Chooses the DuckDB type and the writer of one Arrow column. */
function planColumn(tableName: string, field: Field): ColumnPlan {
  const type: DataType = field.type;
  const name = field.name;
  const plan = (duckType: DuckDBType, write: ColumnWriter): ColumnPlan => ({ name, duckType, write });
  if (DataType.isNull(type)) return plan(VARCHAR, () => undefined);
  if (DataType.isBool(type)) return plan(BOOLEAN, writeBool);
  if (DataType.isInt(type)) {
    const byWidth: Record<number, [DuckDBType, DuckDBType]> = {
      8: [TINYINT, UTINYINT],
      16: [SMALLINT, USMALLINT],
      32: [INTEGER, UINTEGER],
      64: [BIGINT, UBIGINT],
    };
    const [signed, unsigned] = byWidth[type.bitWidth];
    return plan(type.isSigned ? signed : unsigned, copyFixed(type.bitWidth / 8));
  }
  if (DataType.isFloat(type)) {
    if (type.precision === 1) return plan(FLOAT, copyFixed(4));
    if (type.precision === 2) return plan(DOUBLE, copyFixed(8));
  }
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) return plan(VARCHAR, writeVarWidth);
  if (DataType.isBinary(type) || DataType.isLargeBinary(type)) return plan(BLOB, writeVarWidth);
  if (DataType.isDictionary(type)) {
    const valueType: DataType = type.dictionary;
    if (DataType.isUtf8(valueType) || DataType.isLargeUtf8(valueType)) return plan(VARCHAR, writeDictionary);
    if (DataType.isBinary(valueType) || DataType.isLargeBinary(valueType)) return plan(BLOB, writeDictionary);
  }
  if (DataType.isDate(type)) {
    if (type.unit === DateUnit.DAY) return plan(DATE, copyFixed(4));
    return plan(
      DATE,
      convertInto(
        asBigInt64,
        4,
        (buffer) => new Int32Array(buffer),
        (values, i) => {
          const ms = values[i];
          const days = ms / MS_PER_DAY;
          return Number(ms < 0n && days * MS_PER_DAY !== ms ? days - 1n : days);
        },
      ),
    );
  }
  if (DataType.isTimestamp(type)) {
    const unit: TimeUnit = type.unit;
    if (type.timezone) {
      if (unit === TimeUnit.MICROSECOND) return plan(TIMESTAMPTZ, copyFixed(8));
      return plan(
        TIMESTAMPTZ,
        convertInto(
          asBigInt64,
          8,
          (buffer) => new BigInt64Array(buffer),
          (values, i) => toMicros(values[i], unit),
        ),
      );
    }
    const byUnit: Record<TimeUnit, DuckDBType> = {
      [TimeUnit.SECOND]: TIMESTAMP_S,
      [TimeUnit.MILLISECOND]: TIMESTAMP_MS,
      [TimeUnit.MICROSECOND]: TIMESTAMP,
      [TimeUnit.NANOSECOND]: TIMESTAMP_NS,
    };
    return plan(byUnit[unit], copyFixed(8));
  }
  if (DataType.isTime(type)) {
    const unit: TimeUnit = type.unit;
    if (unit === TimeUnit.NANOSECOND) return plan(TIME_NS, copyFixed(8));
    if (unit === TimeUnit.MICROSECOND) return plan(TIME, copyFixed(8));
    return plan(
      TIME,
      convertInto(
        asInt32,
        8,
        (buffer) => new BigInt64Array(buffer),
        (values, i) => toMicros(BigInt(values[i]), unit),
      ),
    );
  }
  if (DataType.isDecimal(type) && type.bitWidth === 128) {
    return plan(DECIMAL(type.precision, type.scale), decimalWriter(type.precision));
  }
  throw new UserError("unsupported_type", `table ${tableName}: column ${name} has Arrow type ${String(type)}, which Sluice cannot load into DuckDB yet`, {
    block: tableName,
  });
}
