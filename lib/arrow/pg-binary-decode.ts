/**
 * PostgreSQL binary COPY → Arrow record batches, decoded from `COPY (query) TO STDOUT (FORMAT binary)` as
 * the bytes stream in: no per-row JS objects, no text parsing of numbers or timestamps, and the result
 * is available batch by batch for large queries.
 *
 * Type mapping (Postgres → Arrow): bool → Bool, int2 → Int16, int4 → Int32, int8 → Int64, float4 →
 * Float32, float8 → Float64, text/varchar/bpchar/name/char → Utf8, bytea → Binary, date → Date32(day),
 * timestamp → Timestamp(µs), timestamptz → Timestamp(µs, "UTC"), time → Time64(µs), numeric(p,s) with
 * p ≤ 38 → Decimal128(p,s) (exact). Everything else (unconstrained numeric, uuid, json/jsonb, interval,
 * arrays, enums, …) is read as its text form (Utf8): `castToText` says which columns the query must cast.
 */
import {
  Binary,
  Bool,
  DateDay,
  Decimal,
  Field,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  TimeMicrosecond,
  TimestampMicrosecond,
  Utf8,
  type Data,
  type DataType,
} from "apache-arrow";
import { PG_EPOCH_DAYS, PG_EPOCH_MICROS } from "./pg-binary-encode";

/** A result column as `pg` describes it (`FieldDef`). */
export interface PgField {
  name: string;
  dataTypeID: number;
  dataTypeModifier: number;
}

type Kind = "bool" | "int2" | "int4" | "int8" | "float4" | "float8" | "text" | "bytea" | "date" | "timestamp" | "timestamptz" | "time" | "numeric";

const KIND_BY_OID: Record<number, Kind> = {
  16: "bool",
  21: "int2",
  23: "int4",
  20: "int8",
  700: "float4",
  701: "float8",
  25: "text",
  1043: "text",
  1042: "text",
  19: "text",
  18: "text",
  17: "bytea",
  1082: "date",
  1114: "timestamp",
  1184: "timestamptz",
  1083: "time",
  1700: "numeric",
};

/** How one result column is read. */
export interface ReadColumn {
  name: string;
  kind: Kind;
  type: DataType;
  /** The query must cast this column to text (its binary form is not decoded here). */
  castToText: boolean;
}

/** Plans the Arrow schema of a query result from its field descriptions. */
export function planPgRead(fields: readonly PgField[]): ReadColumn[] {
  return fields.map((f) => {
    const kind: Kind | undefined = KIND_BY_OID[f.dataTypeID];
    if (kind === "numeric") {
      const precision = f.dataTypeModifier >= 4 ? ((f.dataTypeModifier - 4) >> 16) & 0xffff : -1;
      const scale = f.dataTypeModifier >= 4 ? (f.dataTypeModifier - 4) & 0xffff : -1;
      if (precision > 0 && precision <= 38) return { name: f.name, kind, type: new Decimal(scale, precision, 128), castToText: false };
      return { name: f.name, kind: "text", type: new Utf8(), castToText: true };
    }
    if (kind === undefined) return { name: f.name, kind: "text", type: new Utf8(), castToText: true };
    const types: Record<Exclude<Kind, "numeric">, DataType> = {
      bool: new Bool(),
      int2: new Int16(),
      int4: new Int32(),
      int8: new Int64(),
      float4: new Float32(),
      float8: new Float64(),
      text: new Utf8(),
      bytea: new Binary(),
      date: new DateDay(),
      timestamp: new TimestampMicrosecond(),
      timestamptz: new TimestampMicrosecond("UTC"),
      time: new TimeMicrosecond(),
    };
    return { name: f.name, kind, type: types[kind], castToText: false };
  });
}

/** Accumulates one column of a batch. */
interface ColumnBuilder {
  append(buf: Buffer, pos: number, len: number, row: number): void;
  finish(length: number, validity: Uint8Array, nullCount: number): Data;
}

/** Builds the finished Data of a fixed-width column from its values (typed per Arrow type by the caller). */
type MakeFixed<T> = (values: T, length: number, nullBitmap: Uint8Array, nullCount: number) => Data;

function fixedBuilder<T extends Int16Array | Int32Array | BigInt64Array | Float32Array | Float64Array>(
  values: T,
  read: (buf: Buffer, pos: number) => T[number],
  make: MakeFixed<T>,
): ColumnBuilder {
  return {
    append(buf, pos, _len, row) {
      values[row] = read(buf, pos);
    },
    finish: (length, validity, nullCount) => make(values, length, validity, nullCount),
  };
}

function varBuilder(type: Utf8 | Binary, capacity: number): ColumnBuilder {
  const offsets = new Int32Array(capacity + 1);
  let bytes = new Uint8Array(64 * 1024);
  let used = 0;
  let lastRow = -1;
  return {
    append(buf, pos, len, row) {
      for (let r = lastRow + 1; r < row; r++) offsets[r + 1] = used; // nulls in between
      if (used + len > bytes.length) {
        const grown = new Uint8Array(Math.max(bytes.length * 2, used + len));
        grown.set(bytes.subarray(0, used));
        bytes = grown;
      }
      bytes.set(buf.subarray(pos, pos + len), used);
      used += len;
      offsets[row + 1] = used;
      lastRow = row;
    },
    finish(length, validity, nullCount) {
      for (let r = lastRow + 1; r < length; r++) offsets[r + 1] = used;
      const valueOffsets = offsets.slice(0, length + 1);
      const data = bytes.slice(0, used);
      return type instanceof Utf8
        ? makeData({ type, length, nullCount, nullBitmap: validity, valueOffsets, data })
        : makeData({ type, length, nullCount, nullBitmap: validity, valueOffsets, data });
    },
  };
}

function boolBuilder(capacity: number): ColumnBuilder {
  const bits = new Uint8Array(Math.ceil(capacity / 8));
  return {
    append(buf, pos, _len, row) {
      if (buf[pos] !== 0) bits[row >> 3] |= 1 << (row & 7);
    },
    finish: (length, validity, nullCount) => makeData({ type: new Bool(), length, nullCount, nullBitmap: validity, data: bits.slice(0, Math.ceil(length / 8)) }),
  };
}

/** Postgres binary numeric → Decimal128 words at the column's scale. */
function decimalBuilder(type: Decimal, capacity: number): ColumnBuilder {
  const words = new Uint32Array(capacity * 4);
  const scale = type.scale;
  return {
    append(buf, pos, _len, row) {
      const ndigits = buf.readInt16BE(pos);
      const weight = buf.readInt16BE(pos + 2);
      const sign = buf.readUInt16BE(pos + 4);
      if (sign === 0xc000) throw new Error("numeric NaN cannot be stored in an Arrow decimal");
      let acc = 0n;
      for (let k = 0; k < ndigits; k++) acc = acc * 10_000n + BigInt(buf.readInt16BE(pos + 8 + k * 2));
      const exponent = 4 * (weight - ndigits + 1) + scale;
      let unscaled = exponent >= 0 ? acc * 10n ** BigInt(exponent) : acc / 10n ** BigInt(-exponent);
      if (sign === 0x4000) unscaled = -unscaled;
      let twos = unscaled < 0n ? (1n << 128n) + unscaled : unscaled;
      for (let w = 0; w < 4; w++) {
        words[row * 4 + w] = Number(twos & 0xffffffffn);
        twos >>= 32n;
      }
    },
    finish: (length, validity, nullCount) => makeData({ type, length, nullCount, nullBitmap: validity, data: words.slice(0, length * 4) }),
  };
}

function builderFor(column: ReadColumn, capacity: number): ColumnBuilder {
  switch (column.kind) {
    case "bool":
      return boolBuilder(capacity);
    case "int2":
      return fixedBuilder(new Int16Array(capacity), (b, p) => b.readInt16BE(p), (v, length, nullBitmap, nullCount) => makeData({ type: new Int16(), length, nullCount, nullBitmap, data: v.slice(0, length) }));
    case "int4":
      return fixedBuilder(new Int32Array(capacity), (b, p) => b.readInt32BE(p), (v, length, nullBitmap, nullCount) => makeData({ type: new Int32(), length, nullCount, nullBitmap, data: v.slice(0, length) }));
    case "int8":
      return fixedBuilder(new BigInt64Array(capacity), (b, p) => b.readBigInt64BE(p), (v, length, nullBitmap, nullCount) => makeData({ type: new Int64(), length, nullCount, nullBitmap, data: v.slice(0, length) }));
    case "float4":
      return fixedBuilder(new Float32Array(capacity), (b, p) => b.readFloatBE(p), (v, length, nullBitmap, nullCount) => makeData({ type: new Float32(), length, nullCount, nullBitmap, data: v.slice(0, length) }));
    case "float8":
      return fixedBuilder(new Float64Array(capacity), (b, p) => b.readDoubleBE(p), (v, length, nullBitmap, nullCount) => makeData({ type: new Float64(), length, nullCount, nullBitmap, data: v.slice(0, length) }));
    case "text":
      return varBuilder(new Utf8(), capacity);
    case "bytea":
      return varBuilder(new Binary(), capacity);
    case "date":
      return fixedBuilder(new Int32Array(capacity), (b, p) => b.readInt32BE(p) + PG_EPOCH_DAYS, (v, length, nullBitmap, nullCount) => makeData({ type: new DateDay(), length, nullCount, nullBitmap, data: v.slice(0, length) }));
    case "timestamp":
    case "timestamptz": {
      const type = new TimestampMicrosecond(column.kind === "timestamptz" ? "UTC" : null);
      return fixedBuilder(new BigInt64Array(capacity), (b, p) => b.readBigInt64BE(p) + PG_EPOCH_MICROS, (v, length, nullBitmap, nullCount) => makeData({ type, length, nullCount, nullBitmap, data: v.slice(0, length) }));
    }
    case "time":
      return fixedBuilder(new BigInt64Array(capacity), (b, p) => b.readBigInt64BE(p), (v, length, nullBitmap, nullCount) => makeData({ type: new TimeMicrosecond(), length, nullCount, nullBitmap, data: v.slice(0, length) }));
    case "numeric":
      if (column.type instanceof Decimal) return decimalBuilder(column.type, capacity);
      return varBuilder(new Utf8(), capacity);
  }
}

const SIGNATURE = "PGCOPY\n\xff\r\n\0";

/**
 * Incremental decoder: `push` each chunk of the COPY stream, collect the batches it returns, then `end`.
 * Batches hold up to `batchSize` rows.
 */
export class BinaryCopyDecoder {
  readonly schema: Schema;
  private pending: Buffer = Buffer.alloc(0);
  private headerDone = false;
  private builders: ColumnBuilder[] = [];
  private validity: Uint8Array[] = [];
  private nullCounts: number[] = [];
  private rows = 0;
  private finished = false;

  constructor(
    private readonly columns: readonly ReadColumn[],
    private readonly batchSize = 65_536,
  ) {
    this.schema = new Schema(columns.map((c) => new Field(c.name, c.type, true)));
    this.reset();
  }

  private reset(): void {
    this.builders = this.columns.map((c) => builderFor(c, this.batchSize));
    this.validity = this.columns.map(() => new Uint8Array(Math.ceil(this.batchSize / 8)));
    this.nullCounts = this.columns.map(() => 0);
    this.rows = 0;
  }

  push(chunk: Buffer): RecordBatch[] {
    const buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let pos = 0;
    if (!this.headerDone) {
      if (buf.length < 19) {
        this.pending = buf;
        return [];
      }
      if (buf.toString("latin1", 0, 11) !== SIGNATURE) throw new Error("not a PostgreSQL binary COPY stream");
      const extension = buf.readInt32BE(15);
      if (buf.length < 19 + extension) {
        this.pending = buf;
        return [];
      }
      pos = 19 + extension;
      this.headerDone = true;
    }
    const out: RecordBatch[] = [];
    const fieldCount = this.columns.length;
    while (!this.finished && pos + 2 <= buf.length) {
      const count = buf.readInt16BE(pos);
      if (count === -1) {
        this.finished = true;
        pos += 2;
        break;
      }
      if (count !== fieldCount) throw new Error(`COPY tuple has ${count} fields, expected ${fieldCount}`);
      // Is the whole tuple here?
      let scan = pos + 2;
      let complete = true;
      for (let c = 0; c < count; c++) {
        if (scan + 4 > buf.length) {
          complete = false;
          break;
        }
        const len = buf.readInt32BE(scan);
        scan += 4 + (len > 0 ? len : 0);
        if (scan > buf.length) {
          complete = false;
          break;
        }
      }
      if (!complete) break;
      let at = pos + 2;
      const row = this.rows;
      for (let c = 0; c < count; c++) {
        const len = buf.readInt32BE(at);
        at += 4;
        if (len < 0) {
          this.nullCounts[c]++;
          continue;
        }
        this.validity[c][row >> 3] |= 1 << (row & 7);
        this.builders[c].append(buf, at, len, row);
        at += len;
      }
      pos = at;
      this.rows++;
      if (this.rows === this.batchSize) out.push(this.flush());
    }
    this.pending = pos < buf.length ? buf.subarray(pos) : Buffer.alloc(0);
    return out;
  }

  /** The last partial batch (if any). */
  end(): RecordBatch[] {
    return this.rows > 0 ? [this.flush()] : [];
  }

  /** A batch with no rows, for empty results (so the schema survives). */
  emptyBatch(): RecordBatch {
    return this.flush();
  }

  private flush(): RecordBatch {
    const length = this.rows;
    const children = this.builders.map((b, c) => b.finish(length, this.validity[c].slice(0, Math.ceil(length / 8)), this.nullCounts[c]));
    const batch = new RecordBatch(this.schema, makeData({ type: new Struct(this.schema.fields), length, nullCount: 0, children }));
    this.reset();
    return batch;
  }
}
