/**
 * Value-exact comparison of two Arrow tables, for the connector contract suite: "zero changed values"
 * means every cell compares equal after a round trip, so the first difference is reported precisely
 * (column, row, both values) instead of a 200 kB snapshot diff.
 *
 * Values compare by meaning, not by physical type, because sinks legitimately change widths: an Int8 comes
 * back from Postgres as int2, a naive timestamp[ms] as timestamp[us]. What must not change: the kind
 * (integer, float, string, bool, date, timestamp, time, decimal, binary), every value (floats bit-exact
 * up to NaN, timestamps as microseconds since the epoch — the instant), and which cells are null.
 */
import { DataType, TimeUnit, Vector, type Data, type Field, type Table } from "apache-arrow";

/** What a value means, independent of its width. */
export type ValueKind = "null" | "int" | "float" | "string" | "bool" | "date" | "timestamp" | "time" | "decimal" | "binary" | "other";

type Cell = string | number | bigint | boolean | null;

/** The kind of an Arrow type (Dictionary<Utf8> is a string). */
export function valueKind(type: DataType): ValueKind {
  if (DataType.isNull(type)) return "null";
  if (DataType.isInt(type)) return "int";
  if (DataType.isFloat(type)) return "float";
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) return "string";
  if (DataType.isDictionary(type)) return valueKind(type.dictionary);
  if (DataType.isBool(type)) return "bool";
  if (DataType.isDate(type)) return "date";
  if (DataType.isTimestamp(type)) return "timestamp";
  if (DataType.isTime(type)) return "time";
  if (DataType.isDecimal(type)) return "decimal";
  if (DataType.isBinary(type) || DataType.isLargeBinary(type)) return "binary";
  return "other";
}

const MICROS_PER: Record<TimeUnit, bigint> = {
  [TimeUnit.SECOND]: 1_000_000n,
  [TimeUnit.MILLISECOND]: 1_000n,
  [TimeUnit.MICROSECOND]: 1n,
  [TimeUnit.NANOSECOND]: 1n,
};

function micros(raw: bigint, unit: TimeUnit): bigint {
  return unit === TimeUnit.NANOSECOND ? raw / 1000n : raw * MICROS_PER[unit];
}

/** Decimal128 unscaled value (four little-endian u32 words) at `index` of `data` as exact text. */
function decimalText(data: Data, index: number, scale: number): string {
  const values: unknown = data.values;
  if (!(values instanceof Uint32Array)) return String(data.type);
  let unscaled = 0n;
  for (let w = 3; w >= 0; w--) unscaled = (unscaled << 32n) | BigInt(values[index * 4 + w]);
  if (unscaled >= 1n << 127n) unscaled -= 1n << 128n;
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, "0");
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${text}` : text;
}

/** Every cell of a column as a comparable JS value (null for null). */
export function canonicalColumn(vector: Vector): Cell[] {
  const type: DataType = vector.type;
  const kind = valueKind(type);
  const out: Cell[] = new Array<Cell>(vector.length);
  let at = 0;
  for (const data of vector.data) {
    const chunk = new Vector([data]); // per-chunk access: no chunk search per cell
    const values: unknown = data.values;
    const direct = (kind === "int" || kind === "float") && ArrayBuffer.isView(values) && !(values instanceof DataView);
    for (let i = 0; i < data.length; i++, at++) {
      if (kind === "null" || !data.getValid(i)) {
        out[at] = null;
      } else if (direct) {
        out[at] = canonicalNumber((values as unknown as ArrayLike<number | bigint>)[i]);
      } else {
        out[at] = canonicalCell(chunk, data, i, i, kind);
      }
    }
  }
  return out;
}

/** Integers as numbers when exact (so Int32 5 equals Int64 5n), else bigint; floats as they are. */
function canonicalNumber(value: number | bigint): number | bigint {
  if (typeof value === "number") return value;
  return value >= -9_007_199_254_740_991n && value <= 9_007_199_254_740_991n ? Number(value) : value;
}

function canonicalCell(vector: Vector, data: Data, i: number, at: number, kind: ValueKind): Cell {
  const type: DataType = data.type;
  if (kind === "timestamp" && DataType.isTimestamp(type)) {
    const values: unknown = data.values;
    if (values instanceof BigInt64Array) return micros(values[i], type.unit);
  }
  if (kind === "time" && DataType.isTime(type)) {
    const values: unknown = data.values;
    if (values instanceof BigInt64Array) return micros(values[i], type.unit);
    if (values instanceof Int32Array) return micros(BigInt(values[i]), type.unit);
  }
  if (kind === "decimal" && DataType.isDecimal(type)) return decimalText(data, i, type.scale);
  const value: unknown = vector.get(at);
  switch (kind) {
    case "int":
      return canonicalNumber(typeof value === "bigint" ? value : Number(value));
    case "float":
      return Number(value);
    case "string":
      return String(value);
    case "bool":
      return Boolean(value);
    case "date": {
      const ms = value instanceof Date ? value.getTime() : Number(value);
      return Math.floor(ms / 86_400_000);
    }
    case "binary":
      return value instanceof Uint8Array ? Buffer.from(value).toString("hex") : String(value);
    default:
      return String(value);
  }
}

function sameCell(a: Cell, b: Cell): boolean {
  if (typeof a === "number" && typeof b === "number") return Object.is(a, b) || (a === 0 && b === 0 && Object.is(1 / a, 1 / b));
  return a === b;
}

function show(value: Cell): string {
  if (value === null) return "null";
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "string") return JSON.stringify(value);
  return String(value);
}

/** How to compare: which columns, and where each expected row sits in `actual`. */
export interface CompareOptions {
  /** Columns to compare (default: every column of `expected`). */
  columns?: readonly string[];
  /** `order[i]` is the row of `actual` that holds expected row `i` (default: the same row). */
  order?: ArrayLike<number>;
}

/**
 * The first difference between two tables, or null when they hold the same values: row count, a
 * missing column, a different value kind, then the first differing cell by column, e.g.
 * `column "VendorID" row 17: expected 2n, got null`.
 */
export function firstDifference(expected: Table, actual: Table, options: CompareOptions = {}): string | null {
  if (expected.numRows !== actual.numRows) return `row count: expected ${expected.numRows}, got ${actual.numRows}`;
  const names = options.columns ?? expected.schema.fields.map((f: Field) => f.name);
  for (const name of names) {
    const want = expected.getChild(name);
    const got = actual.getChild(name);
    if (want === null) return `column "${name}" is not in the expected table`;
    if (got === null) return `column "${name}" is missing (got columns ${actual.schema.fields.map((f) => f.name).join(", ")})`;
    const wantKind = valueKind(want.type);
    const gotKind = valueKind(got.type);
    if (wantKind !== gotKind && wantKind !== "null" && gotKind !== "null") {
      return `column "${name}": expected ${wantKind} values (${String(want.type)}), got ${gotKind} (${String(got.type)})`;
    }
    const a = canonicalColumn(want);
    const b = canonicalColumn(got);
    const order = options.order;
    for (let row = 0; row < a.length; row++) {
      const other = b[order ? order[row] : row];
      if (!sameCell(a[row], other)) return `column "${name}" row ${row}: expected ${show(a[row])}, got ${show(other)}`;
    }
  }
  return null;
}

/** Throws an Error carrying `firstDifference` when the tables differ (for tests and the contract suite). */
export function assertSameValues(expected: Table, actual: Table, options: CompareOptions = {}): void {
  const difference = firstDifference(expected, actual, options);
  if (difference !== null) throw new Error(`tables differ: ${difference}`);
}
