/**
 * Arrow values → JSON-safe records for output previews (previews are pages, never whole tables).
 *
 * Values are read from each batch's `Data` buffers rather than through `Vector.get()`, because `get()`
 * loses what a preview must show exactly: it turns timestamps into float milliseconds (rounding nanoseconds,
 * and dropping whether the column has a zone at all), decimals into raw 32-bit words, and 64-bit integers into bigints
 * that `JSON.stringify` rejects. See `json-value.ts` for the rendering rules.
 */
import { Data, DataType, makeVector, util, type Table, type Vector } from "apache-arrow";
import {
  bigintToJson,
  bytesToJson,
  decimalToString,
  epochDaysToDate,
  epochMsToDate,
  makeTimestampText,
  numberToJson,
  timeOfDayToString,
  type JsonValue,
  type TimeUnitCode,
} from "./json-value";

/** Reads the value at `index` (relative to the `Data`, which may be a slice) as JSON. */
export type ArrowValueReader = (data: Data, index: number) => JsonValue;

const utf8 = new TextDecoder("utf-8");

function isTimeUnit(unit: number): unit is TimeUnitCode {
  return unit === 0 || unit === 1 || unit === 2 || unit === 3;
}

function timeUnitOf(type: { unit: number }): TimeUnitCode {
  if (!isTimeUnit(type.unit)) throw new Error(`unknown Arrow time unit ${type.unit}`);
  return type.unit;
}

/** The validity bit of a row: `Data.getValid` honours slice offsets and union children. */
function isValid(data: Data, index: number): boolean {
  return data.getValid(index);
}

/** An offset (Int32 or, for Large types, Int64) as a number. */
function offsetAt(offsets: unknown, index: number): number {
  if (offsets instanceof Int32Array) return offsets[index];
  if (offsets instanceof BigInt64Array) return Number(offsets[index]);
  throw new Error("Arrow data has no value offsets");
}

function bytesAt(data: Data, index: number): Uint8Array {
  const values: unknown = data.values;
  if (!(values instanceof Uint8Array)) throw new Error("Arrow binary data has no byte buffer");
  return values.subarray(offsetAt(data.valueOffsets, index), offsetAt(data.valueOffsets, index + 1));
}

/** Two's-complement little-endian 32-bit words (Arrow's decimal layout) as a bigint. */
export function decimalWordsToBigInt(words: Uint32Array, start: number, count: number): bigint {
  let value = 0n;
  for (let w = count - 1; w >= 0; w--) value = (value << 32n) | BigInt(words[start + w]);
  return BigInt.asIntN(count * 32, value);
}

/** Typed arrays that can hold dictionary indices. */
export type IndexArray = Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array | BigInt64Array | BigUint64Array;

/** Type guard for a dictionary index buffer (or any integer buffer), so callers index it without casts. */
export function isIndexArray(value: unknown): value is IndexArray {
  return (
    value instanceof Int32Array ||
    value instanceof Int8Array ||
    value instanceof Int16Array ||
    value instanceof Uint8Array ||
    value instanceof Uint16Array ||
    value instanceof Uint32Array ||
    value instanceof BigInt64Array ||
    value instanceof BigUint64Array
  );
}

/** The value at `index` of a whole vector (possibly several chunks), read with `reader`. */
function readVectorAt(vector: Vector, index: number, reader: ArrowValueReader): JsonValue {
  let rest = index;
  for (const chunk of vector.data) {
    if (rest < chunk.length) return reader(chunk, rest);
    rest -= chunk.length;
  }
  return null;
}

function isIterable(value: object): value is Iterable<unknown> {
  return Symbol.iterator in value;
}

/** Last resort for types without a dedicated reader (view types): `get()` and a generic conversion. */
function genericToJson(value: unknown): JsonValue {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") return bigintToJson(value);
  if (typeof value === "number") return numberToJson(value);
  if (typeof value === "string" || typeof value === "boolean") return value;
  if (value instanceof Uint8Array) return bytesToJson(value);
  if (value instanceof Date) return value.toISOString();
  if (typeof value !== "object") return String(value);
  if (isIterable(value)) return Array.from(value, genericToJson);
  const out: { [key: string]: JsonValue } = {};
  for (const [key, item] of Object.entries(value)) out[key] = genericToJson(item);
  return out;
}

/**
 * A reader for one Arrow type, built once per column (the type switch happens here, not per row).
 * Nested types compose their children's readers.
 */
export function makeArrowReader(type: DataType): ArrowValueReader {
  const read = makeValidReader(type);
  return (data, index) => (isValid(data, index) ? read(data, index) : null);
}

function makeValidReader(type: DataType): ArrowValueReader {
  if (DataType.isNull(type)) return () => null;
  if (DataType.isBool(type)) {
    return (data, index) => {
      const values: unknown = data.values;
      if (!(values instanceof Uint8Array)) return null;
      const bit = data.offset + index;
      return (values[bit >> 3] & (1 << (bit & 7))) !== 0;
    };
  }
  if (DataType.isInt(type) || DataType.isDuration(type)) {
    return (data, index) => {
      const values: unknown = data.values;
      if (values instanceof BigInt64Array || values instanceof BigUint64Array) return bigintToJson(values[index]);
      if (isIndexArray(values)) return Number(values[index]);
      return null;
    };
  }
  if (DataType.isFloat(type)) {
    return (data, index) => {
      const values: unknown = data.values;
      if (values instanceof Uint16Array) return numberToJson(util.uint16ToFloat64(values[index]));
      if (values instanceof Float32Array || values instanceof Float64Array) return numberToJson(values[index]);
      return null;
    };
  }
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) return (data, index) => utf8.decode(bytesAt(data, index));
  if (DataType.isBinary(type) || DataType.isLargeBinary(type)) return (data, index) => bytesToJson(bytesAt(data, index));
  if (DataType.isFixedSizeBinary(type)) {
    const width = type.byteWidth;
    return (data, index) => {
      const values: unknown = data.values;
      return values instanceof Uint8Array ? bytesToJson(values.subarray(index * width, (index + 1) * width)) : null;
    };
  }
  if (DataType.isDecimal(type)) {
    const words = type.bitWidth / 32;
    const scale = type.scale;
    return (data, index) => {
      const values: unknown = data.values;
      return values instanceof Uint32Array ? decimalToString(decimalWordsToBigInt(values, index * words, words), scale) : null;
    };
  }
  if (DataType.isDate(type)) {
    return (data, index) => {
      const values: unknown = data.values;
      if (values instanceof Int32Array) return epochDaysToDate(values[index]);
      if (values instanceof BigInt64Array) return epochMsToDate(values[index]) ?? values[index].toString();
      return null;
    };
  }
  if (DataType.isTime(type)) {
    const unit = timeUnitOf(type);
    return (data, index) => {
      const values: unknown = data.values;
      if (values instanceof Int32Array) return timeOfDayToString(BigInt(values[index]), unit);
      if (values instanceof BigInt64Array) return timeOfDayToString(values[index], unit);
      return null;
    };
  }
  if (DataType.isTimestamp(type)) {
    // A timestamp without a zone is a wall-clock reading: shown as stored, never as a UTC instant.
    const text = makeTimestampText(timeUnitOf(type), type.timezone);
    return (data, index) => {
      const values: unknown = data.values;
      return values instanceof BigInt64Array ? text(values[index]) : null;
    };
  }
  if (DataType.isInterval(type)) {
    const unit = type.unit;
    return (data, index): JsonValue => {
      const values: unknown = data.values;
      if (!(values instanceof Int32Array)) return null;
      if (unit === 0) return { months: values[index] };
      if (unit === 1) return { days: values[index * 2], milliseconds: values[index * 2 + 1] };
      const base = index * 4;
      const nanos = (BigInt(values[base + 3]) << 32n) | BigInt(values[base + 2] >>> 0);
      return { months: values[base], days: values[base + 1], nanoseconds: bigintToJson(nanos) };
    };
  }
  if (DataType.isList(type) || DataType.isLargeList(type)) {
    const child = makeArrowReader(type.children[0].type);
    return (data, index) => {
      const begin = offsetAt(data.valueOffsets, index);
      const end = offsetAt(data.valueOffsets, index + 1);
      const items: JsonValue[] = [];
      for (let i = begin; i < end; i++) items.push(child(data.children[0], i));
      return items;
    };
  }
  if (DataType.isFixedSizeList(type)) {
    const child = makeArrowReader(type.children[0].type);
    const size = type.listSize;
    return (data, index) => {
      const items: JsonValue[] = [];
      for (let i = index * size; i < (index + 1) * size; i++) items.push(child(data.children[0], i));
      return items;
    };
  }
  if (DataType.isMap(type)) {
    const entries = type.children[0].type;
    const keyReader = makeArrowReader(entries.children[0].type);
    const valueReader = makeArrowReader(entries.children[1].type);
    return (data, index) => {
      const begin = offsetAt(data.valueOffsets, index);
      const end = offsetAt(data.valueOffsets, index + 1);
      const struct = data.children[0];
      const items: JsonValue[] = [];
      for (let i = begin; i < end; i++) {
        items.push({ key: keyReader(struct.children[0], i), value: valueReader(struct.children[1], i) });
      }
      return items;
    };
  }
  if (DataType.isStruct(type)) {
    const fields = type.children.map((field) => ({ name: field.name, read: makeArrowReader(field.type) }));
    return (data, index) => {
      const out: { [key: string]: JsonValue } = {};
      fields.forEach((field, k) => {
        out[field.name] = field.read(data.children[k], index);
      });
      return out;
    };
  }
  if (DataType.isDictionary(type)) {
    const valueReader = makeArrowReader(type.dictionary);
    return (data, index) => {
      const keys: unknown = data.values;
      const dictionary = data.dictionary;
      if (!dictionary || !isIndexArray(keys)) return null;
      return readVectorAt(dictionary, Number(keys[index]), valueReader);
    };
  }
  if (DataType.isUnion(type)) {
    const readers = type.children.map((field) => makeArrowReader(field.type));
    const childIndexOf = type.typeIdToChildIndex;
    const dense = DataType.isDenseUnion(type);
    return (data, index) => {
      const typeIds: unknown = data.typeIds;
      if (!(typeIds instanceof Int8Array)) return null;
      const childIndex = childIndexOf[typeIds[index]];
      const childRow = dense ? offsetAt(data.valueOffsets, index) : index;
      return readers[childIndex](data.children[childIndex], childRow);
    };
  }
  // View types and anything newer: correct but slower.
  return (data, index) => genericToJson(makeVector(data).get(index));
}

/** Column names for records: Arrow allows duplicates, JSON objects do not, so repeats get `_1`, `_2`… */
export function recordKeys(names: readonly string[]): string[] {
  const seen = new Map<string, number>();
  const taken = new Set(names);
  return names.map((name) => {
    const count = seen.get(name);
    if (count === undefined) {
      seen.set(name, 0);
      return name;
    }
    let n = count + 1;
    while (taken.has(`${name}_${n}`)) n++;
    seen.set(name, n);
    taken.add(`${name}_${n}`);
    return `${name}_${n}`;
  });
}

/** Page columns: record key and Arrow type text, in schema order. */
export function arrowPageColumns(table: Table): { name: string; type: string }[] {
  const keys = recordKeys(table.schema.fields.map((field) => field.name));
  return table.schema.fields.map((field, i) => ({ name: keys[i], type: String(field.type) }));
}

/**
 * Rows `[offset, offset + limit)` of a table as JSON-safe records, for a preview page. Out-of-range
 * windows are clamped (an offset past the end yields no rows); cost is proportional to the page, not
 * to the table.
 */
export function rowsToJson(table: Table, offset: number, limit: number): Record<string, JsonValue>[] {
  const start = Math.max(0, Math.min(Math.floor(offset), table.numRows));
  const end = Math.max(start, Math.min(start + Math.max(0, Math.floor(limit)), table.numRows));
  if (end === start) return [];
  const window = table.slice(start, end);
  const rows: Record<string, JsonValue>[] = Array.from({ length: end - start }, () => ({}));
  const keys = recordKeys(window.schema.fields.map((field) => field.name));
  window.schema.fields.forEach((field, c) => {
    const column = window.getChildAt(c);
    if (!column) return;
    const read = makeArrowReader(field.type);
    const key = keys[c];
    let row = 0;
    for (const data of column.data) {
      for (let i = 0; i < data.length; i++) rows[row++][key] = read(data, i);
    }
  });
  return rows;
}
