/**
 * Per-column statistics of an Arrow table (type, nulls, min, max, approximate distinct), computed once
 * when an output is written so that the editor shows them without touching the data again.
 *
 * Speed matters: this runs on every block output, so the common types are scanned straight from each
 * batch's buffers (typed arrays, null bitmaps, UTF-8 bytes) with no per-row JS values; 64-bit values are
 * compared as pairs of 32-bit words instead of as bigints. Rare types (nested, view, interval, …) go
 * through the slower generic path of `arrow-json.ts`.
 */
import { DataType, type Data, type Field, type Table, type Vector } from "apache-arrow";
import { decimalWordsToBigInt, isIndexArray, makeArrowReader, type ArrowValueReader } from "./arrow-json";
import * as distinct from "./distinct-counter";

// Imported functions are copied into module constants so that hot loops call them directly: CommonJS
// transpilers (tsx, SWC under Jest) turn `import { f }` into a getter read on every call, which made the
// scans 2–3× slower when measured.
const DistinctCounter = distinct.DistinctCounter;
const hash64 = distinct.hash64;
const hashBytes = distinct.hashBytes;
const hashString = distinct.hashString;
const mix32 = distinct.mix32;
import {
  bigintToJson,
  decimalToString,
  epochDaysToDate,
  epochMsToDate,
  numberToJson,
  timeOfDayToString,
  timestampToIso,
  type JsonValue,
  type TimeUnitCode,
} from "./json-value";
import * as output from "../core/output-types";
import type { ColumnHistogram, ColumnSummary, EdgeUnit, OutputSummary } from "../core/output-types";

const binOf = output.binOf;
const planHistogram = output.planHistogram;
const makeHistogram = output.makeHistogram;

type Scalar = ColumnSummary["min"];

/** Scans a column batch by batch, then reports min, max and distinct (and a histogram, for some types). */
interface ColumnScanner {
  scan(data: Data): void;
  min(): Scalar;
  max(): Scalar;
  distinct(): number;
  /**
   * The bins depend on min and max, so they take a second pass over the batches once `scan` has seen them
   * all; it reads only the typed arrays (no hashing), a few ms per million values.
   */
  histogram?(batches: readonly Data[]): ColumnHistogram | undefined;
}

/** Whether and how a numeric column gets a histogram: its kind, integral bins or not, and its unit → edge unit. */
interface HistogramSpec {
  kind: ColumnHistogram["kind"];
  integral: boolean;
  toEdge: EdgeUnit;
}

const identity: EdgeUnit = (value) => value;
const NUMBER_BINS: HistogramSpec = { kind: "number", integral: false, toEdge: identity };
const INTEGER_BINS: HistogramSpec = { kind: "number", integral: true, toEdge: identity };

/** The null bitmap when the batch has nulls, else null (the loops then skip validity checks). */
function bitmapOf(data: Data): Uint8Array | null {
  if (data.nullCount === 0) return null;
  const bitmap: unknown = data.nullBitmap;
  return bitmap instanceof Uint8Array && bitmap.length > 0 ? bitmap : null;
}

function isTimeUnit(unit: number): unit is TimeUnitCode {
  return unit === 0 || unit === 1 || unit === 2 || unit === 3;
}

/** Hash of +0 and -0 alike (they compare equal, so they are one distinct value). */
const ZERO_HASH = mix32(0x5bd1e995);

/** Numbers that fit a double exactly: 8/16/32-bit ints, floats, Date32 days, Time32. */
class NumberScanner implements ColumnScanner {
  private low = Infinity;
  private high = -Infinity;
  private readonly counter = new DistinctCounter();
  constructor(
    private readonly render: (value: number) => Scalar,
    private readonly bins: HistogramSpec | null = null,
  ) {}

  scan(data: Data): void {
    const values: unknown = data.values;
    const bitmap = bitmapOf(data);
    // A column padded to its table's length (Arrow JS does that) has fewer values than rows; the rest are null.
    const rows = data.length;
    if (values instanceof Float64Array) this.scanFloat64(values, bitmap, data.offset, Math.min(rows, values.length));
    else if (values instanceof Float32Array) {
      const length = Math.min(rows, values.length);
      this.scanInts(values, new Int32Array(values.buffer, values.byteOffset, length), bitmap, data.offset, length);
    } else if (values instanceof Int32Array) this.scanInts(values, values, bitmap, data.offset, Math.min(rows, values.length));
    else if (
      values instanceof Int8Array ||
      values instanceof Int16Array ||
      values instanceof Uint8Array ||
      values instanceof Uint16Array ||
      values instanceof Uint32Array
    ) {
      this.scanInts(values, values, bitmap, data.offset, Math.min(rows, values.length));
    }
  }

  private scanFloat64(values: Float64Array, bitmap: Uint8Array | null, offset: number, length: number): void {
    const words = new Uint32Array(values.buffer, values.byteOffset, length * 2);
    const counter = this.counter;
    let low = this.low;
    let high = this.high;
    for (let i = 0; i < length; i++) {
      if (bitmap !== null) {
        const bit = offset + i;
        if ((bitmap[bit >> 3] & (1 << (bit & 7))) === 0) continue;
      }
      const value = values[i];
      counter.add(value === 0 ? ZERO_HASH : hash64(words[2 * i], words[2 * i + 1]));
      if (value < low) low = value;
      if (value > high) high = value;
    }
    this.low = low;
    this.high = high;
  }

  /** `hashed` holds the bits to hash: the values themselves for integers, an Int32 view for Float32. */
  private scanInts(values: ArrayLike<number>, hashed: ArrayLike<number>, bitmap: Uint8Array | null, offset: number, length: number): void {
    const counter = this.counter;
    let low = this.low;
    let high = this.high;
    for (let i = 0; i < length; i++) {
      if (bitmap !== null) {
        const bit = offset + i;
        if ((bitmap[bit >> 3] & (1 << (bit & 7))) === 0) continue;
      }
      const value = values[i];
      counter.add(value === 0 ? ZERO_HASH : mix32(hashed[i]));
      if (value < low) low = value;
      if (value > high) high = value;
    }
    this.low = low;
    this.high = high;
  }

  histogram(batches: readonly Data[]): ColumnHistogram | undefined {
    const spec = this.bins;
    const plan = spec && planHistogram(this.low, this.high, spec.integral);
    if (!spec || !plan) return undefined;
    const counts = new Array<number>(plan.bins).fill(0);
    for (const data of batches) {
      const values: unknown = data.values;
      if (!ArrayBuffer.isView(values) || values instanceof BigInt64Array || values instanceof BigUint64Array || values instanceof DataView) continue;
      const numbers = values as unknown as ArrayLike<number>;
      const bitmap = bitmapOf(data);
      const offset = data.offset;
      const length = Math.min(data.length, numbers.length);
      for (let i = 0; i < length; i++) {
        if (bitmap !== null) {
          const bit = offset + i;
          if ((bitmap[bit >> 3] & (1 << (bit & 7))) === 0) continue;
        }
        const value = numbers[i];
        if (value !== value) continue; // NaN
        counts[binOf(plan, value)]++;
      }
    }
    return makeHistogram(plan, counts, spec.kind, spec.toEdge);
  }

  /** Null when there was no comparable value (no rows, all null, or all NaN). */
  min(): Scalar {
    return this.low > this.high ? null : this.render(this.low);
  }
  max(): Scalar {
    return this.low > this.high ? null : this.render(this.high);
  }
  distinct(): number {
    return this.counter.estimate();
  }
}

/** 64-bit integers (Int64, Uint64, Timestamp, Date64, Time64, Duration), compared as (high, low) word pairs. */
class Int64Scanner implements ColumnScanner {
  private seen = false;
  private minHi = 0;
  private minLo = 0;
  private maxHi = 0;
  private maxLo = 0;
  private readonly counter = new DistinctCounter();
  constructor(
    private readonly signed: boolean,
    private readonly render: (value: bigint) => Scalar,
    private readonly bins: HistogramSpec | null = null,
  ) {}

  scan(data: Data): void {
    const values: unknown = data.values;
    if (!(values instanceof BigInt64Array || values instanceof BigUint64Array)) return;
    const length = Math.min(data.length, values.length);
    const words = new Int32Array(values.buffer, values.byteOffset, length * 2);
    const bitmap = bitmapOf(data);
    const offset = data.offset;
    const signed = this.signed;
    const counter = this.counter;
    let { seen, minHi, minLo, maxHi, maxLo } = this;
    for (let i = 0; i < length; i++) {
      if (bitmap !== null) {
        const bit = offset + i;
        if ((bitmap[bit >> 3] & (1 << (bit & 7))) === 0) continue;
      }
      const lo = words[2 * i] >>> 0;
      const rawHi = words[2 * i + 1];
      const hi = signed ? rawHi : rawHi >>> 0;
      counter.add(hash64(lo, rawHi));
      if (!seen) {
        seen = true;
        minHi = maxHi = hi;
        minLo = maxLo = lo;
        continue;
      }
      if (hi < minHi || (hi === minHi && lo < minLo)) {
        minHi = hi;
        minLo = lo;
      }
      if (hi > maxHi || (hi === maxHi && lo > maxLo)) {
        maxHi = hi;
        maxLo = lo;
      }
    }
    this.seen = seen;
    this.minHi = minHi;
    this.minLo = minLo;
    this.maxHi = maxHi;
    this.maxLo = maxLo;
  }

  private value(hi: number, lo: number): bigint {
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** Bins in double precision (exact below 2^53; beyond, as close as a double gets, like DuckDB's cast). */
  histogram(batches: readonly Data[]): ColumnHistogram | undefined {
    const spec = this.bins;
    const plan = spec && this.seen ? planHistogram(this.minHi * 4294967296 + this.minLo, this.maxHi * 4294967296 + this.maxLo, spec.integral) : null;
    if (!spec || !plan) return undefined;
    const counts = new Array<number>(plan.bins).fill(0);
    const signed = this.signed;
    for (const data of batches) {
      const values: unknown = data.values;
      if (!(values instanceof BigInt64Array || values instanceof BigUint64Array)) continue;
      const length = Math.min(data.length, values.length);
      const words = new Int32Array(values.buffer, values.byteOffset, length * 2);
      const bitmap = bitmapOf(data);
      const offset = data.offset;
      for (let i = 0; i < length; i++) {
        if (bitmap !== null) {
          const bit = offset + i;
          if ((bitmap[bit >> 3] & (1 << (bit & 7))) === 0) continue;
        }
        const hi = signed ? words[2 * i + 1] : words[2 * i + 1] >>> 0;
        counts[binOf(plan, hi * 4294967296 + (words[2 * i] >>> 0))]++;
      }
    }
    return makeHistogram(plan, counts, spec.kind, spec.toEdge);
  }
  min(): Scalar {
    return this.seen ? this.render(this.value(this.minHi, this.minLo)) : null;
  }
  max(): Scalar {
    return this.seen ? this.render(this.value(this.maxHi, this.maxLo)) : null;
  }
  distinct(): number {
    return this.counter.estimate();
  }
}

function compareBytes(a: Uint8Array, aStart: number, aEnd: number, b: Uint8Array): number {
  const aLength = aEnd - aStart;
  const n = Math.min(aLength, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[aStart + i] - b[i];
    if (d !== 0) return d;
  }
  return aLength - b.length;
}

/** UTF-8 strings, compared by bytes (which orders by code point) and hashed from the bytes, never decoded. */
class Utf8Scanner implements ColumnScanner {
  private low: Uint8Array | null = null;
  private high: Uint8Array | null = null;
  private readonly counter = new DistinctCounter();
  private static readonly decoder = new TextDecoder("utf-8");

  scan(data: Data): void {
    const bytes: unknown = data.values;
    const offsets: unknown = data.valueOffsets;
    if (!(bytes instanceof Uint8Array) || !(offsets instanceof Int32Array)) return;
    const bitmap = bitmapOf(data);
    const offset = data.offset;
    const counter = this.counter;
    const length = Math.min(data.length, offsets.length - 1);
    let low = this.low;
    let high = this.high;
    for (let i = 0; i < length; i++) {
      if (bitmap !== null) {
        const bit = offset + i;
        if ((bitmap[bit >> 3] & (1 << (bit & 7))) === 0) continue;
      }
      const start = offsets[i];
      const end = offsets[i + 1];
      counter.add(hashBytes(bytes, start, end));
      if (low === null || compareBytes(bytes, start, end, low) < 0) low = bytes.subarray(start, end);
      if (high === null || compareBytes(bytes, start, end, high) > 0) high = bytes.subarray(start, end);
    }
    this.low = low;
    this.high = high;
  }

  min(): Scalar {
    return this.low === null ? null : Utf8Scanner.decoder.decode(this.low);
  }
  max(): Scalar {
    return this.high === null ? null : Utf8Scanner.decoder.decode(this.high);
  }
  distinct(): number {
    return this.counter.estimate();
  }
}

class BoolScanner implements ColumnScanner {
  private sawTrue = false;
  private sawFalse = false;

  scan(data: Data): void {
    const values: unknown = data.values;
    if (!(values instanceof Uint8Array)) return;
    const bitmap = bitmapOf(data);
    const offset = data.offset;
    const length = Math.min(data.length, values.length * 8 - offset);
    for (let i = 0; i < length && !(this.sawTrue && this.sawFalse); i++) {
      const bit = offset + i;
      if (bitmap !== null && (bitmap[bit >> 3] & (1 << (bit & 7))) === 0) continue;
      if ((values[bit >> 3] & (1 << (bit & 7))) !== 0) this.sawTrue = true;
      else this.sawFalse = true;
    }
  }
  min(): Scalar {
    return this.sawFalse ? false : this.sawTrue ? true : null;
  }
  max(): Scalar {
    return this.sawTrue ? true : this.sawFalse ? false : null;
  }
  distinct(): number {
    return Number(this.sawTrue) + Number(this.sawFalse);
  }
}

/** Decimals: exact bigint comparison, rendered as decimal strings. */
class DecimalScanner implements ColumnScanner {
  private low: bigint | null = null;
  private high: bigint | null = null;
  private readonly counter = new DistinctCounter();
  constructor(
    private readonly words: number,
    private readonly scale: number,
  ) {}

  scan(data: Data): void {
    const values: unknown = data.values;
    if (!(values instanceof Uint32Array)) return;
    const bitmap = bitmapOf(data);
    const words = this.words;
    const length = Math.min(data.length, Math.floor(values.length / words));
    for (let i = 0; i < length; i++) {
      const bit = data.offset + i;
      if (bitmap !== null && (bitmap[bit >> 3] & (1 << (bit & 7))) === 0) continue;
      let hash = 0;
      for (let w = 0; w < words; w++) hash = mix32(hash ^ values[i * words + w]);
      this.counter.add(hash);
      const value = decimalWordsToBigInt(values, i * words, words);
      if (this.low === null || value < this.low) this.low = value;
      if (this.high === null || value > this.high) this.high = value;
    }
  }
  min(): Scalar {
    return this.low === null ? null : decimalToString(this.low, this.scale);
  }
  max(): Scalar {
    return this.high === null ? null : decimalToString(this.high, this.scale);
  }
  distinct(): number {
    return this.counter.estimate();
  }
}

function compareScalars(a: JsonValue, b: JsonValue): number | null {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "boolean" && typeof b === "boolean") return Number(a) - Number(b);
  return null;
}

function isScalar(value: JsonValue): value is string | number | boolean {
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean";
}

/** Folds JSON values into min/max (for scalars) and a distinct count (for everything). */
class JsonValueStats {
  private low: string | number | boolean | null = null;
  private high: string | number | boolean | null = null;
  private readonly counter = new DistinctCounter();

  /** `orderable` false: only count distinct values (min/max of base64 bytes would mean nothing). */
  constructor(private readonly orderable = true) {}

  add(value: JsonValue): void {
    if (value === null) return;
    this.counter.add(hashString(typeof value === "string" ? value : JSON.stringify(value)));
    if (!this.orderable || !isScalar(value)) return;
    if (this.low === null || (compareScalars(value, this.low) ?? 0) < 0) this.low = value;
    if (this.high === null || (compareScalars(value, this.high) ?? 0) > 0) this.high = value;
  }
  min(): Scalar {
    return this.low;
  }
  max(): Scalar {
    return this.high;
  }
  distinct(): number {
    return this.counter.estimate();
  }
}

/** Anything else: read each value as JSON (slow, but only for unusual types). */
class GenericScanner implements ColumnScanner {
  private readonly stats: JsonValueStats;
  private readonly read: ArrowValueReader;
  constructor(type: DataType, orderable = true) {
    this.read = makeArrowReader(type);
    this.stats = new JsonValueStats(orderable);
  }
  scan(data: Data): void {
    for (let i = 0; i < data.length; i++) this.stats.add(this.read(data, i));
  }
  min(): Scalar {
    return this.stats.min();
  }
  max(): Scalar {
    return this.stats.max();
  }
  distinct(): number {
    return this.stats.distinct();
  }
}

/**
 * Dictionary-encoded columns: find which dictionary entries the rows use (cheap, from the index buffer),
 * then summarise just those entries.
 */
class DictionaryScanner implements ColumnScanner {
  private readonly used = new Map<Vector, Uint8Array>();
  private result: JsonValueStats | null = null;
  private readonly read: ArrowValueReader;
  constructor(private readonly valueType: DataType) {
    this.read = makeArrowReader(valueType);
  }

  scan(data: Data): void {
    const dictionary = data.dictionary;
    const keys: unknown = data.values;
    if (!dictionary || !isIndexArray(keys)) return;
    let used = this.used.get(dictionary);
    if (!used) {
      used = new Uint8Array(dictionary.length);
      this.used.set(dictionary, used);
    }
    const bitmap = bitmapOf(data);
    const length = Math.min(data.length, keys.length);
    for (let i = 0; i < length; i++) {
      const bit = data.offset + i;
      if (bitmap !== null && (bitmap[bit >> 3] & (1 << (bit & 7))) === 0) continue;
      used[Number(keys[i])] = 1;
    }
    this.result = null;
  }

  private stats(): JsonValueStats {
    if (this.result) return this.result;
    const stats = new JsonValueStats(!isBinaryType(this.valueType));
    for (const [dictionary, used] of this.used) {
      let base = 0;
      for (const chunk of dictionary.data) {
        for (let i = 0; i < chunk.length; i++) if (used[base + i] === 1) stats.add(this.read(chunk, i));
        base += chunk.length;
      }
    }
    this.result = stats;
    return stats;
  }
  min(): Scalar {
    return this.stats().min();
  }
  max(): Scalar {
    return this.stats().max();
  }
  distinct(): number {
    return this.stats().distinct();
  }
}

function isBinaryType(type: DataType): boolean {
  return DataType.isBinary(type) || DataType.isLargeBinary(type) || DataType.isFixedSizeBinary(type) || DataType.isBinaryView(type);
}

/** Picks the fastest scanner for a type; the rendering of min/max follows `json-value.ts`. */
function makeScanner(type: DataType): ColumnScanner {
  if (DataType.isInt(type)) {
    if (type.bitWidth === 64) return new Int64Scanner(type.isSigned, bigintToJson, INTEGER_BINS);
    return new NumberScanner((value) => value, INTEGER_BINS);
  }
  if (DataType.isFloat(type)) {
    return type.precision === 0 ? new GenericScanner(type) : new NumberScanner(numberToJson, NUMBER_BINS);
  }
  if (DataType.isUtf8(type)) return new Utf8Scanner();
  if (DataType.isBool(type)) return new BoolScanner();
  if (DataType.isTimestamp(type) && isTimeUnit(type.unit)) {
    const unit = type.unit;
    return new Int64Scanner(true, (value) => timestampToIso(value, unit), { kind: "time", integral: true, toEdge: output.epochToMs(unit) });
  }
  if (DataType.isDate(type)) {
    if (type.unit === 0) return new NumberScanner(epochDaysToDate, { kind: "time", integral: true, toEdge: (days) => days * output.DAY_MS });
    return new Int64Scanner(true, (value) => epochMsToDate(value) ?? value.toString(), { kind: "time", integral: true, toEdge: identity });
  }
  if (DataType.isTime(type) && isTimeUnit(type.unit)) {
    const unit = type.unit;
    if (type.bitWidth === 64) return new Int64Scanner(true, (value) => timeOfDayToString(value, unit));
    return new NumberScanner((value) => timeOfDayToString(BigInt(value), unit));
  }
  if (DataType.isDuration(type)) return new Int64Scanner(true, bigintToJson);
  if (DataType.isDecimal(type)) return new DecimalScanner(type.bitWidth / 32, type.scale);
  if (DataType.isDictionary(type)) return new DictionaryScanner(type.dictionary);
  return new GenericScanner(type, !isBinaryType(type));
}

/** Summarises one column given its batches. */
export function summarizeArrowColumn(field: Field, batches: readonly Data[]): ColumnSummary {
  const scanner = makeScanner(field.type);
  let nulls = 0;
  let rows = 0;
  for (const data of batches) {
    rows += data.length;
    nulls += DataType.isNull(field.type) ? data.length : data.nullCount;
    scanner.scan(data);
  }
  const summary: ColumnSummary = {
    name: field.name,
    type: String(field.type),
    nulls,
    min: scanner.min(),
    max: scanner.max(),
    // The estimate can overshoot on small columns; there cannot be more distinct values than non-null ones.
    distinct: Math.min(scanner.distinct(), rows - nulls),
  };
  const histogram = scanner.histogram?.(batches);
  if (histogram) summary.histogram = histogram;
  return summary;
}

/**
 * Row count and per-column statistics of a table. `bytes` is left to the caller, who knows the size of
 * the persisted file.
 */
export function summarizeArrowTable(table: Table): Omit<OutputSummary, "bytes"> {
  return {
    rows: table.numRows,
    columns: table.schema.fields.map((field, c) => summarizeArrowColumn(field, table.getChildAt(c)?.data ?? [])),
  };
}
