/**
 * Arrow → DuckDB by copying Arrow buffers straight into DuckDB data chunks (DESIGN §12: the Node
 * bindings have no Arrow C API, so this is the fastest path measured — see `bench-arrow-duckdb.ts`).
 *
 * Fixed-width columns (ints, floats, dates, timestamps, times, decimals) are one `memcpy` per 2048-row
 * vector; validity bitmaps have the same LSB-first layout in both (shifted when a slice starts mid-byte);
 * strings are written as DuckDB `string_t` records (inline up to 12 bytes, `vector_assign_string_element_len`
 * for longer ones); booleans are unpacked from bits to bytes. Nothing goes through JS values per cell
 * except booleans and strings, and nothing touches the disk.
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
import { UserError } from "../core/errors";
import { quoteIdentifier } from "./sql-text";

/** DuckDB's STANDARD_VECTOR_SIZE: rows per data chunk. */
const VECTOR_SIZE = 2048;
/** Give the event loop a turn every this many chunks so a large load does not freeze the server. */
const CHUNKS_PER_YIELD = 64;

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
 * Why not Parquet in between: writing Parquet with parquet-wasm then `read_parquet` costs an encode and a
 * decode of every value; copying buffers is a memcpy for most columns. Types map value-faithfully: Int and Uint of every width,
 * Float32/64, Bool, Utf8/LargeUtf8 (and dictionaries of them) → VARCHAR, Binary → BLOB, Date → DATE,
 * Timestamp<unit> → TIMESTAMP_S/_MS/TIMESTAMP/_NS (TIMESTAMPTZ in microseconds when the Arrow type has a
 * time zone), Time → TIME, Decimal128 → DECIMAL(p,s), Null → VARCHAR of nulls. Other types are a UserError
 * naming the column.
 *
 * @param replace drop an existing table of that name first (an upstream re-run in the same run).
 */
export async function arrowToDuckDB(
  connection: DuckDBConnection,
  tableName: string,
  source: Table | Uint8Array,
  options: { replace?: boolean; temporary?: boolean } = {},
): Promise<{ rows: number }> {
  const table = source instanceof Uint8Array ? tableFromIPC(source) : source;
  const plans = table.schema.fields.map((field) => planColumn(tableName, field));
  const columnsSql = plans.map((p) => `${quoteIdentifier(p.name)} ${p.duckType.toString()}`).join(", ");
  const create = options.replace ? "CREATE OR REPLACE" : "CREATE";
  const temp = options.temporary ? " TEMP" : "";
  await connection.run(`${create}${temp} TABLE ${quoteIdentifier(tableName)} (${columnsSql})`);
  if (table.numRows === 0 || plans.length === 0) return { rows: 0 };

  const appender = await connection.createAppender(tableName);
  const chunk = DuckDBDataChunk.create(plans.map((p) => p.duckType));
  let chunks = 0;
  try {
    for (const batch of table.batches) {
      const columns = plans.map((_, i) => batch.data.children[i]);
      for (let row = 0; row < batch.numRows; row += VECTOR_SIZE) {
        const count = Math.min(VECTOR_SIZE, batch.numRows - row);
        chunk.reset();
        duckdb.data_chunk_set_size(chunk.chunk, count);
        for (let c = 0; c < plans.length; c++) {
          const vector = duckdb.data_chunk_get_vector(chunk.chunk, c);
          const data = columns[c];
          writeValidity(vector, data, row, count);
          plans[c].write(vector, data, row, count);
        }
        appender.appendDataChunk(chunk);
        if (++chunks % CHUNKS_PER_YIELD === 0) await new Promise<void>((resolve) => setImmediate(resolve));
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
  if (data.nullCount === 0 || !(bitmap instanceof Uint8Array) || bitmap.length === 0) return;
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

/** Copies a window of a typed array into the vector; through the scratch buffer when it is SAB-backed. */
function copyTyped(vector: Vector, values: ArrayBufferView, bytesPerValue: number, row: number, count: number): void {
  const byteOffset = values.byteOffset + row * bytesPerValue;
  const byteCount = count * bytesPerValue;
  if (values.buffer instanceof ArrayBuffer) {
    duckdb.copy_data_to_vector(vector, 0, values.buffer, byteOffset, byteCount);
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
function convertInto<T extends Int32Array | BigInt64Array>(
  bytesPerValue: number,
  view: (buffer: ArrayBuffer) => T,
  convert: (values: ArrayBufferView, index: number) => T[number],
): ColumnWriter {
  return (vector, data, row, count) => {
    const values = typedValues(data);
    const buffer = new ArrayBuffer(count * bytesPerValue);
    const out = view(buffer);
    for (let i = 0; i < count; i++) out[i] = convert(values, row + i);
    duckdb.copy_data_to_vector(vector, 0, buffer, 0, buffer.byteLength);
  };
}

function asBigInt64(values: ArrayBufferView): BigInt64Array {
  if (values instanceof BigInt64Array) return values;
  return new BigInt64Array(values.buffer, values.byteOffset, Math.floor(values.byteLength / 8));
}

function asInt32(values: ArrayBufferView): Int32Array {
  if (values instanceof Int32Array) return values;
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
  if (!(offsets instanceof Int32Array || offsets instanceof BigInt64Array)) throw new Error("variable-width column without offsets");
  return { offsets, bytes: bytes instanceof Uint8Array ? bytes : new Uint8Array(0) };
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
  const big = offsets instanceof BigInt64Array;
  let long: number[] | null = null;
  for (let i = 0; i < count; i++) {
    if (!isValid(i)) continue;
    const k = indexOf(i);
    const start = big ? Number(offsets[k]) : (offsets[k] as number);
    const end = big ? Number(offsets[k + 1]) : (offsets[k + 1] as number);
    const length = end - start;
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
  if (data.nullCount === 0 || !(bitmap instanceof Uint8Array) || bitmap.length === 0) return () => true;
  const start = data.offset + row;
  return (i) => {
    const bit = start + i;
    return ((bitmap[bit >> 3] >> (bit & 7)) & 1) === 1;
  };
}

const writeVarWidth: ColumnWriter = (vector, data, row, count) => {
  writeStrings(vector, varWidthOf(data), count, validityTest(data, row), (i) => row + i);
};

/** Dictionary<Utf8|Binary>: decode indices against the (single-chunk) dictionary; no strings are materialised in JS. */
const writeDictionary: ColumnWriter = (vector, data, row, count) => {
  const dictionary = data.dictionary;
  if (dictionary === undefined) throw new Error("dictionary column without a dictionary");
  const dictData = dictionary.data.length === 1 ? dictionary.data[0] : (dictionary.concat().data[0] ?? dictionary.data[0]);
  const indices = typedValues(data);
  if (!(indices instanceof Int8Array || indices instanceof Int16Array || indices instanceof Int32Array || indices instanceof Uint8Array || indices instanceof Uint16Array || indices instanceof Uint32Array)) {
    throw new Error("dictionary indices must be 8/16/32-bit integers");
  }
  writeStrings(vector, varWidthOf(dictData), count, validityTest(data, row), (i) => indices[row + i]);
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
        4,
        (buffer) => new Int32Array(buffer),
        (values, i) => {
          const ms = asBigInt64(values)[i];
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
          8,
          (buffer) => new BigInt64Array(buffer),
          (values, i) => toMicros(asBigInt64(values)[i], unit),
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
        8,
          (buffer) => new BigInt64Array(buffer),
        (values, i) => toMicros(BigInt(asInt32(values)[i]), unit),
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
