/**
 * Arrow → PostgreSQL binary COPY, encoded straight from the Arrow buffers (measured here ≈ 1.0M rows/s
 * measured here vs ≈ 520k for `psql \copy` of CSV; multi-row INSERT is 15× slower). One tight encoder per
 * column type, no JS value per cell except strings' byte ranges (copied as bytes, never decoded) and
 * decimals.
 *
 * Type mapping (Arrow → Postgres): Int8/Int16/Uint8 → int2, Int32/Uint16 → int4, Int64/Uint32 → int8,
 * Uint64 → int8 (values above 2^63-1 are an error), Float32 → float4, Float64 → float8, Bool → bool,
 * Utf8/LargeUtf8/Dictionary<Utf8> → text, Binary → bytea, Date → date, Timestamp → timestamp (or timestamptz
 * when the Arrow type has a time zone; seconds/ms/ns scaled to µs, ns truncated), Time → time,
 * Decimal128(p,s) → numeric(p,s) in Postgres' binary numeric format (exact), Null → text (all null).
 */
import { DataType, DateUnit, TimeUnit, type Data, type Field, type RecordBatch } from "apache-arrow";
import { UserError } from "../core/errors";

/** Days between 1970-01-01 and 2000-01-01 (Postgres' date epoch). */
export const PG_EPOCH_DAYS = 10_957;
/** Microseconds between the Unix and the Postgres epoch. */
export const PG_EPOCH_MICROS = 946_684_800_000_000n;

/** Binary COPY header: signature, flags, header extension length. */
export const COPY_HEADER = Buffer.from([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]);
/** Binary COPY trailer: a field count of -1. */
export const COPY_TRAILER = Buffer.from([0xff, 0xff]);

/**
 * Encodes one column of a batch. `size` is the byte length of the value at local index i (validity already
 * checked); `write` writes it at `pos` and returns the next position.
 */
interface ColumnEncoder {
  size(i: number): number;
  /** `view` is a big-endian-capable DataView over the same bytes as `buf` (faster than Buffer.write*). */
  write(buf: Buffer, view: DataView, pos: number, i: number): number;
  /** Byte length of every value, for fixed-width types (the batch encoder then needs no `size` calls). */
  width?: number;
  /**
   * The whole column at once (the hot types): for rows start…end-1, writes each field (length word and
   * value, or -1 for a null) at `cursor[i - start]` and advances the cursor. One tight loop per type.
   */
  writeColumn?(buf: Buffer, view: DataView, cursor: Int32Array, start: number, end: number, nulls: NullMask | null): void;
  /** Adds each non-null value's byte length to `sizes[i - start]` (variable-width types with a column loop). */
  addSizes?(sizes: Int32Array, start: number, end: number, nulls: NullMask | null): void;
}

/** A column's validity bitmap and the bit of row 0 (Arrow slices share bitmaps). */
export interface NullMask {
  bits: Uint8Array;
  offset: number;
}

function isNull(nulls: NullMask, i: number): boolean {
  const bit = nulls.offset + i;
  return ((nulls.bits[bit >> 3] >> (bit & 7)) & 1) === 0;
}

/** A Postgres column for an Arrow field, and how to encode its values. */
export interface PgColumnPlan {
  name: string;
  /** The Postgres type used in CREATE TABLE, e.g. `int4`, `numeric(12,2)`. */
  pgType: string;
  encoder(data: Data): ColumnEncoder;
}

type IntArray = Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array;

function valuesOf(data: Data): ArrayBufferView {
  const values: unknown = data.values;
  if (!ArrayBuffer.isView(values)) throw new Error(`Arrow column of type ${String(data.type)} has no value buffer`);
  return values;
}

function fixed(width: number, write: (view: DataView, pos: number, i: number) => void): ColumnEncoder {
  return {
    width,
    size: () => width,
    write(_buf, view, pos, i) {
      write(view, pos, i);
      return pos + width;
    },
  };
}

/** The hot fixed-width conversions, each with its own branch in `writeFixedColumn`. */
const enum Put {
  Int16,
  Int32,
  /** int8 from the 32-bit halves of an Int64/Uint64 column (little-endian pairs). */
  Int64Halves,
  /** int8 from a 32-bit (or narrower) integer column. */
  Int64FromInt,
  Float32,
  Float64,
  Bool,
  DateDay,
  TimestampMicros,
}

/**
 * The column loop of a fixed-width encoder. One function with a switch per value instead of a closure per
 * type: a closure call inside a loop shared by all types would be megamorphic, and every case here has its
 * own monomorphic property access. The switch is on a loop constant, which the branch predictor absorbs.
 */
function writeFixedColumn(kind: Put, width: number, values: ArrayLike<number>, bitOffset: number, view: DataView, cursor: Int32Array, start: number, end: number, nulls: NullMask | null): void {
  for (let i = start; i < end; i++) {
    const k = i - start;
    const pos = cursor[k];
    if (nulls !== null && isNull(nulls, i)) {
      view.setInt32(pos, -1);
      cursor[k] = pos + 4;
      continue;
    }
    view.setInt32(pos, width);
    const at = pos + 4;
    switch (kind) {
      case Put.Int16:
        view.setInt16(at, values[i]);
        break;
      case Put.Int32:
        view.setInt32(at, values[i]);
        break;
      case Put.Int64Halves:
        view.setInt32(at, values[2 * i + 1]);
        view.setInt32(at + 4, values[2 * i]);
        break;
      case Put.Int64FromInt: {
        const v = values[i];
        view.setInt32(at, v < 0 ? -1 : 0);
        view.setUint32(at + 4, v >>> 0);
        break;
      }
      case Put.Float32:
        view.setFloat32(at, values[i]);
        break;
      case Put.Float64:
        view.setFloat64(at, values[i]);
        break;
      case Put.Bool: {
        const bit = bitOffset + i;
        view.setUint8(at, (values[bit >> 3] >> (bit & 7)) & 1);
        break;
      }
      case Put.DateDay:
        view.setInt32(at, values[i] - PG_EPOCH_DAYS);
        break;
      case Put.TimestampMicros: {
        let lo = (values[2 * i] >>> 0) - EPOCH_LO;
        let borrow = 0;
        if (lo < 0) {
          lo += TWO_32;
          borrow = 1;
        }
        view.setInt32(at, (values[2 * i + 1] - EPOCH_HI - borrow) | 0);
        view.setUint32(at + 4, lo);
        break;
      }
    }
    cursor[k] = at + width;
  }
}

/** Adds the column loop `writeFixedColumn(kind, …)` to a per-value encoder of the same conversion. */
function withColumn(encoder: ColumnEncoder, kind: Put, values: ArrayLike<number>, bitOffset = 0): ColumnEncoder {
  const width = encoder.width!;
  encoder.writeColumn = (_buf, view, cursor, start, end, nulls) => writeFixedColumn(kind, width, values, bitOffset, view, cursor, start, end, nulls);
  return encoder;
}

/** The 32-bit halves of a 64-bit value buffer, to write int8/timestamps without a BigInt per value. */
function halves(values: BigInt64Array | BigUint64Array): Int32Array {
  return new Int32Array(values.buffer, values.byteOffset, values.length * 2);
}

const TWO_32 = 4_294_967_296;

function intEncoder(width: 2 | 4 | 8, data: Data): ColumnEncoder {
  const values = valuesOf(data);
  if (values instanceof BigInt64Array) {
    const h = halves(values);
    const encoder = fixed(8, (view, pos, i) => {
      view.setInt32(pos, h[2 * i + 1]);
      view.setInt32(pos + 4, h[2 * i]);
    });
    return withColumn(encoder, Put.Int64Halves, h);
  }
  if (values instanceof BigUint64Array) {
    const h = halves(values);
    return fixed(8, (view, pos, i) => {
      if (h[2 * i + 1] < 0) throw new UserError("value_out_of_range", `value ${values[i]} does not fit Postgres int8`);
      view.setInt32(pos, h[2 * i + 1]);
      view.setInt32(pos + 4, h[2 * i]);
    });
  }
  const ints = values as IntArray;
  if (width === 2) return withColumn(fixed(2, (view, pos, i) => view.setInt16(pos, ints[i])), Put.Int16, ints);
  if (width === 4) return withColumn(fixed(4, (view, pos, i) => view.setInt32(pos, ints[i])), Put.Int32, ints);
  const encoder = fixed(8, (view, pos, i) => {
    const v = ints[i];
    view.setInt32(pos, v < 0 ? -1 : 0);
    view.setUint32(pos + 4, v >>> 0);
  });
  return withColumn(encoder, Put.Int64FromInt, ints);
}

/** The column loop of Utf8/Binary values with Int32 offsets: bytes copied as they are, never decoded. */
function writeVarWidthColumn(bytes: Uint8Array, offsets: Int32Array, view: DataView, cursor: Int32Array, start: number, end: number, nulls: NullMask | null): void {
  const out = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  for (let i = start; i < end; i++) {
    const k = i - start;
    let pos = cursor[k];
    if (nulls !== null && isNull(nulls, i)) {
      view.setInt32(pos, -1);
      cursor[k] = pos + 4;
      continue;
    }
    const from = offsets[i];
    const to = offsets[i + 1];
    view.setInt32(pos, to - from);
    pos += 4;
    // Short strings (most of them) are cheaper byte by byte than through a subarray.
    if (to - from <= 24) for (let b = from; b < to; b++) out[pos++] = bytes[b];
    else {
      out.set(bytes.subarray(from, to), pos);
      pos += to - from;
    }
    cursor[k] = pos;
  }
}

/** Byte ranges of a Utf8/Binary column (offsets Int32 or BigInt64). */
function varWidthEncoder(data: Data, indexOf: (i: number) => number = (i) => i, identity = true): ColumnEncoder {
  const offsets: unknown = data.valueOffsets;
  const bytesValue: unknown = data.values;
  const bytes = bytesValue instanceof Uint8Array ? bytesValue : new Uint8Array(0);
  if (offsets instanceof Int32Array) {
    return {
      writeColumn: identity ? (_buf, view, cursor, start, end, nulls) => writeVarWidthColumn(bytes, offsets, view, cursor, start, end, nulls) : undefined,
      addSizes: identity
        ? (sizes, start, end, nulls) => {
            for (let i = start; i < end; i++) if (nulls === null || !isNull(nulls, i)) sizes[i - start] += offsets[i + 1] - offsets[i];
          }
        : undefined,
      size: (i) => offsets[indexOf(i) + 1] - offsets[indexOf(i)],
      write(buf, _view, pos, i) {
        const k = indexOf(i);
        const start = offsets[k];
        const end = offsets[k + 1];
        // Short strings (most of them) are cheaper byte by byte than through a subarray.
        if (end - start <= 24) for (let b = start; b < end; b++) buf[pos++] = bytes[b];
        else {
          buf.set(bytes.subarray(start, end), pos);
          pos += end - start;
        }
        return pos;
      },
    };
  }
  if (offsets instanceof BigInt64Array) {
    return {
      size: (i) => Number(offsets[indexOf(i) + 1] - offsets[indexOf(i)]),
      write(buf, _view, pos, i) {
        const k = indexOf(i);
        const start = Number(offsets[k]);
        const end = Number(offsets[k + 1]);
        buf.set(bytes.subarray(start, end), pos);
        return pos + end - start;
      },
    };
  }
  throw new Error("variable-width column without offsets");
}

function dictionaryEncoder(data: Data): ColumnEncoder {
  const dictionary = data.dictionary;
  if (dictionary === undefined) throw new Error("dictionary column without a dictionary");
  const dictData = dictionary.data.length === 1 ? dictionary.data[0] : dictionary.concat().data[0];
  const indices = valuesOf(data) as IntArray;
  return varWidthEncoder(dictData, (i) => indices[i], false);
}

const MICROS_PER: Record<TimeUnit, bigint> = {
  [TimeUnit.SECOND]: 1_000_000n,
  [TimeUnit.MILLISECOND]: 1_000n,
  [TimeUnit.MICROSECOND]: 1n,
  [TimeUnit.NANOSECOND]: 1n,
};

/** PG_EPOCH_MICROS as 32-bit halves, for borrow arithmetic without BigInt. */
const EPOCH_HI = Math.floor(Number(PG_EPOCH_MICROS) / TWO_32);
const EPOCH_LO = Number(PG_EPOCH_MICROS) - EPOCH_HI * TWO_32;

function timestampEncoder(unit: TimeUnit, data: Data): ColumnEncoder {
  const values = valuesOf(data);
  if (!(values instanceof BigInt64Array)) throw new Error("timestamp column without 64-bit values");
  if (unit === TimeUnit.MICROSECOND) {
    const h = halves(values);
    const encoder = fixed(8, (view, pos, i) => {
      let lo = (h[2 * i] >>> 0) - EPOCH_LO;
      let borrow = 0;
      if (lo < 0) {
        lo += TWO_32;
        borrow = 1;
      }
      view.setInt32(pos, (h[2 * i + 1] - EPOCH_HI - borrow) | 0);
      view.setUint32(pos + 4, lo);
    });
    return withColumn(encoder, Put.TimestampMicros, h);
  }
  if (unit === TimeUnit.NANOSECOND) return fixed(8, (view, pos, i) => view.setBigInt64(pos, values[i] / 1000n - PG_EPOCH_MICROS));
  const scale = MICROS_PER[unit];
  return fixed(8, (view, pos, i) => view.setBigInt64(pos, values[i] * scale - PG_EPOCH_MICROS));
}

function timeEncoder(unit: TimeUnit, data: Data): ColumnEncoder {
  const values = valuesOf(data);
  if (values instanceof BigInt64Array) {
    return fixed(8, (view, pos, i) => view.setBigInt64(pos, unit === TimeUnit.NANOSECOND ? values[i] / 1000n : values[i] * MICROS_PER[unit]));
  }
  const ints = values as Int32Array;
  return fixed(8, (view, pos, i) => view.setBigInt64(pos, BigInt(ints[i]) * MICROS_PER[unit]));
}

/** Postgres binary numeric of an unscaled 128-bit value at `scale`: {ndigits, weight, sign, dscale, base-10000 digits}. */
export function encodeNumeric(unscaled: bigint, scale: number): Buffer {
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, "0");
  const intPart = digits.slice(0, digits.length - scale);
  const fracPart = digits.slice(digits.length - scale);
  const intPadded = intPart.padStart(Math.ceil(intPart.length / 4) * 4, "0");
  const fracPadded = fracPart.padEnd(Math.ceil(fracPart.length / 4) * 4, "0");
  const groups: number[] = [];
  for (let k = 0; k < intPadded.length; k += 4) groups.push(Number(intPadded.slice(k, k + 4)));
  for (let k = 0; k < fracPadded.length; k += 4) groups.push(Number(fracPadded.slice(k, k + 4)));
  let weight = intPadded.length / 4 - 1;
  let first = 0;
  while (first < groups.length && groups[first] === 0) {
    first++;
    weight--;
  }
  let last = groups.length;
  while (last > first && groups[last - 1] === 0) last--;
  const kept = groups.slice(first, last);
  const buf = Buffer.alloc(8 + kept.length * 2);
  buf.writeInt16BE(kept.length, 0);
  buf.writeInt16BE(kept.length === 0 ? 0 : weight, 2);
  buf.writeUInt16BE(negative && kept.length > 0 ? 0x4000 : 0, 4);
  buf.writeInt16BE(scale, 6);
  kept.forEach((d, k) => buf.writeInt16BE(d, 8 + k * 2));
  return buf;
}

function decimalEncoder(scale: number, data: Data): ColumnEncoder {
  const words = valuesOf(data) as Uint32Array;
  const cache = new Map<number, Buffer>();
  const encoded = (i: number): Buffer => {
    let buf = cache.get(i);
    if (buf === undefined) {
      let unscaled = 0n;
      for (let w = 3; w >= 0; w--) unscaled = (unscaled << 32n) | BigInt(words[i * 4 + w]);
      if (unscaled >= 1n << 127n) unscaled -= 1n << 128n;
      buf = encodeNumeric(unscaled, scale);
      cache.set(i, buf);
    }
    return buf;
  };
  return {
    size: (i) => encoded(i).length,
    write(buf, _view, pos, i) {
      const value = encoded(i);
      value.copy(buf, pos);
      cache.delete(i);
      return pos + value.length;
    },
  };
}

/** Plans one Arrow field as a Postgres column. */
export function planPgColumn(field: Field): PgColumnPlan {
  const type: DataType = field.type;
  const name = field.name;
  const plan = (pgType: string, encoder: (data: Data) => ColumnEncoder): PgColumnPlan => ({ name, pgType, encoder });
  if (DataType.isNull(type)) return plan("text", () => fixed(0, () => undefined));
  if (DataType.isBool(type)) {
    return plan("bool", (data) => {
      const bits = valuesOf(data) as Uint8Array;
      const offset = data.offset; // arrow-js does not slice bit-packed value buffers
      const encoder = fixed(1, (view, pos, i) => {
        const bit = offset + i;
        view.setUint8(pos, (bits[bit >> 3] >> (bit & 7)) & 1);
      });
      return withColumn(encoder, Put.Bool, bits, offset);
    });
  }
  if (DataType.isInt(type)) {
    const { bitWidth, isSigned } = type;
    if (bitWidth === 8 || (bitWidth === 16 && isSigned)) return plan("int2", (data) => intEncoder(2, data));
    if ((bitWidth === 16 && !isSigned) || (bitWidth === 32 && isSigned)) return plan("int4", (data) => intEncoder(4, data));
    return plan("int8", (data) => intEncoder(8, data));
  }
  if (DataType.isFloat(type)) {
    if (type.precision === 1) return plan("float4", (data) => { const v = valuesOf(data) as Float32Array; return withColumn(fixed(4, (view, pos, i) => view.setFloat32(pos, v[i])), Put.Float32, v); });
    if (type.precision === 2) return plan("float8", (data) => { const v = valuesOf(data) as Float64Array; return withColumn(fixed(8, (view, pos, i) => view.setFloat64(pos, v[i])), Put.Float64, v); });
  }
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) return plan("text", (data) => varWidthEncoder(data));
  if (DataType.isBinary(type) || DataType.isLargeBinary(type)) return plan("bytea", (data) => varWidthEncoder(data));
  if (DataType.isDictionary(type) && (DataType.isUtf8(type.dictionary) || DataType.isLargeUtf8(type.dictionary))) return plan("text", dictionaryEncoder);
  if (DataType.isDate(type)) {
    if (type.unit === DateUnit.DAY) return plan("date", (data) => { const v = valuesOf(data) as Int32Array; return withColumn(fixed(4, (view, pos, i) => view.setInt32(pos, v[i] - PG_EPOCH_DAYS)), Put.DateDay, v); });
    return plan("date", (data) => {
      const v = valuesOf(data);
      const ms = (i: number): number => (v instanceof BigInt64Array ? Number(v[i]) : (v as Int32Array)[i * 2] + (v as Int32Array)[i * 2 + 1] * 2 ** 32);
      return fixed(4, (view, pos, i) => view.setInt32(pos, Math.floor(ms(i) / 86_400_000) - PG_EPOCH_DAYS));
    });
  }
  if (DataType.isTimestamp(type)) {
    const unit: TimeUnit = type.unit;
    return plan(type.timezone ? "timestamptz" : "timestamp", (data) => timestampEncoder(unit, data));
  }
  if (DataType.isTime(type)) {
    const unit: TimeUnit = type.unit;
    return plan("time", (data) => timeEncoder(unit, data));
  }
  if (DataType.isDecimal(type) && type.bitWidth === 128) {
    const scale = type.scale;
    return plan(`numeric(${type.precision},${scale})`, (data) => decimalEncoder(scale, data));
  }
  throw new UserError("unsupported_type", `column ${name} has Arrow type ${String(type)}, which Sluice cannot write to Postgres yet`);
}

/** Rows per encoded chunk: big enough to amortise the stream, small enough to keep memory flat. */
const ROWS_PER_CHUNK = 16_384;

/**
 * Encodes a record batch as binary COPY tuples, in chunks of ROWS_PER_CHUNK rows, each one Buffer sized
 * exactly beforehand. Column by column: the tuple layout is row-major, so each row keeps a cursor (where its
 * next field goes) and each column is written by one loop over the rows (`writeColumn` for the hot types,
 * per-value `write` otherwise). Null bitmaps are honoured, slices included.
 */
export function* encodeBatch(batch: RecordBatch, plans: readonly PgColumnPlan[]): Generator<Buffer> {
  const columns = plans.map((plan, c) => {
    const data = batch.data.children[c];
    const bitmap = data.nullBitmap;
    const hasNulls = data.nullCount > 0 && bitmap instanceof Uint8Array && bitmap.length > 0;
    const alwaysNull = DataType.isNull(data.type);
    const nulls: NullMask | null = hasNulls ? { bits: bitmap, offset: data.offset } : null;
    return { encoder: plan.encoder(data), nulls, alwaysNull };
  });
  const fieldCount = plans.length;
  const rowsPerChunk = Math.min(ROWS_PER_CHUNK, batch.numRows);
  const cursor = new Int32Array(rowsPerChunk);
  for (let start = 0; start < batch.numRows; start += ROWS_PER_CHUNK) {
    const end = Math.min(batch.numRows, start + ROWS_PER_CHUNK);
    const n = end - start;
    // Pass 1: each row's byte length (into `cursor`), then its start offset. Fixed-width columns without
    // nulls add the same to every row: counted once.
    let common = 2 + 4 * fieldCount;
    for (const { encoder, nulls, alwaysNull } of columns) if (!alwaysNull && nulls === null && encoder.width !== undefined) common += encoder.width;
    cursor.fill(common, 0, n);
    for (const { encoder, nulls, alwaysNull } of columns) {
      if (alwaysNull || (nulls === null && encoder.width !== undefined)) continue;
      if (encoder.addSizes !== undefined) {
        encoder.addSizes(cursor, start, end, nulls);
        continue;
      }
      const width = encoder.width;
      for (let i = start; i < end; i++) {
        if (nulls !== null && isNull(nulls, i)) continue;
        cursor[i - start] += width ?? encoder.size(i);
      }
    }
    let size = 0;
    for (let k = 0; k < n; k++) {
      const length = cursor[k];
      cursor[k] = size;
      size += length;
    }
    const buf = Buffer.allocUnsafe(size);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    // Pass 2: the field count of every row, then the columns one after another.
    for (let k = 0; k < n; k++) {
      view.setInt16(cursor[k], fieldCount);
      cursor[k] += 2;
    }
    for (const { encoder, nulls, alwaysNull } of columns) {
      if (alwaysNull) {
        for (let k = 0; k < n; k++) {
          view.setInt32(cursor[k], -1);
          cursor[k] += 4;
        }
      } else if (encoder.writeColumn !== undefined) {
        encoder.writeColumn(buf, view, cursor, start, end, nulls);
      } else {
        for (let i = start; i < end; i++) {
          const k = i - start;
          if (nulls !== null && isNull(nulls, i)) {
            view.setInt32(cursor[k], -1);
            cursor[k] += 4;
            continue;
          }
          const at = cursor[k] + 4;
          const next = encoder.write(buf, view, at, i);
          view.setInt32(at - 4, next - at);
          cursor[k] = next;
        }
      }
    }
    yield buf;
  }
}
