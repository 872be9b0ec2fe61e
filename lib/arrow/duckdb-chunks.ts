/**
 * DuckDB → Arrow without a file in between: the query is streamed chunk by chunk (DuckDB's 2048-row data
 * chunks) and each column vector's raw memory (`vector_get_data`, `vector_get_validity`) is copied into Arrow
 * buffers, gathered into record batches of up to `batchRows` rows. Fixed-width values are copied as bytes;
 * DuckDB's validity mask has Arrow's bitmap layout (LSB first), so nulls are copied as bits too; strings
 * are copied as bytes (inlined ones from the vector, longer ones through their pointer), never decoded.
 *
 * The Arrow types are the ones the Parquet hand-off produced, so callers see the same schema
 * either way: every field nullable, TIMESTAMP_S → Timestamp(µs), DECIMAL(p,s) of any width → Decimal128,
 * the NULL type → Int32 (all null), TIMESTAMPTZ → Timestamp(µs, "UTC"). A result with any other type
 * (HUGEINT, UUID, INTERVAL, ENUM, LIST, STRUCT, …) is not handled here: `planChunkColumns` returns null and
 * the caller falls back to the Parquet path.
 */
import duckdb from "@duckdb/node-bindings";
import { DuckDBDecimalType, DuckDBTypeId, type DuckDBConnection, type DuckDBResult, type DuckDBType } from "@duckdb/node-api";
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
  Int8,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimeMicrosecond,
  TimestampMicrosecond,
  TimestampMillisecond,
  TimestampNanosecond,
  Uint16,
  Uint32,
  Uint64,
  Uint8,
  Utf8,
  makeData,
  type DataType,
  type Data,
} from "apache-arrow";
import { bindParams } from "./duckdb-params";
import { trimStatement } from "./sql-text";

/** Rows per Arrow record batch: the batch size the Parquet hand-off used (parquet-arrow.ts). */
export const CHUNK_BATCH_ROWS = 131_072;

/** How one DuckDB column becomes one Arrow column. */
type ColumnKind =
  | { kind: "fixed"; width: 1 | 2 | 4 | 8 } // same bytes in DuckDB and Arrow
  | { kind: "bool" } // DuckDB: a byte per value; Arrow: a bit
  | { kind: "seconds" } // TIMESTAMP_S → µs
  | { kind: "decimal"; width: 2 | 4 | 8 | 16 } // sign-extended to 128 bits
  | { kind: "string" } // VARCHAR / BLOB: 16-byte string_t
  | { kind: "null" };

export interface ChunkColumn {
  name: string;
  type: DataType;
  convert: ColumnKind;
}

/** The Arrow column for a DuckDB result column, or null when this path does not handle its type. */
export function planChunkColumn(name: string, type: DuckDBType): ChunkColumn | null {
  const col = (arrow: DataType, convert: ColumnKind): ChunkColumn => ({ name, type: arrow, convert });
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return col(new Bool(), { kind: "bool" });
    case DuckDBTypeId.TINYINT:
      return col(new Int8(), { kind: "fixed", width: 1 });
    case DuckDBTypeId.SMALLINT:
      return col(new Int16(), { kind: "fixed", width: 2 });
    case DuckDBTypeId.INTEGER:
      return col(new Int32(), { kind: "fixed", width: 4 });
    case DuckDBTypeId.BIGINT:
      return col(new Int64(), { kind: "fixed", width: 8 });
    case DuckDBTypeId.UTINYINT:
      return col(new Uint8(), { kind: "fixed", width: 1 });
    case DuckDBTypeId.USMALLINT:
      return col(new Uint16(), { kind: "fixed", width: 2 });
    case DuckDBTypeId.UINTEGER:
      return col(new Uint32(), { kind: "fixed", width: 4 });
    case DuckDBTypeId.UBIGINT:
      return col(new Uint64(), { kind: "fixed", width: 8 });
    case DuckDBTypeId.FLOAT:
      return col(new Float32(), { kind: "fixed", width: 4 });
    case DuckDBTypeId.DOUBLE:
      return col(new Float64(), { kind: "fixed", width: 8 });
    case DuckDBTypeId.VARCHAR:
      return col(new Utf8(), { kind: "string" });
    case DuckDBTypeId.BLOB:
      return col(new Binary(), { kind: "string" });
    case DuckDBTypeId.DATE:
      return col(new DateDay(), { kind: "fixed", width: 4 });
    case DuckDBTypeId.TIME:
      return col(new TimeMicrosecond(), { kind: "fixed", width: 8 });
    case DuckDBTypeId.TIMESTAMP:
      return col(new TimestampMicrosecond(), { kind: "fixed", width: 8 });
    case DuckDBTypeId.TIMESTAMP_TZ:
      return col(new TimestampMicrosecond("UTC"), { kind: "fixed", width: 8 });
    case DuckDBTypeId.TIMESTAMP_MS:
      return col(new TimestampMillisecond(), { kind: "fixed", width: 8 });
    case DuckDBTypeId.TIMESTAMP_NS:
      return col(new TimestampNanosecond(), { kind: "fixed", width: 8 });
    case DuckDBTypeId.TIMESTAMP_S:
      return col(new TimestampMicrosecond(), { kind: "seconds" });
    case DuckDBTypeId.SQLNULL:
      return col(new Int32(), { kind: "null" });
    case DuckDBTypeId.DECIMAL: {
      if (!(type instanceof DuckDBDecimalType)) return null;
      const width = type.width <= 4 ? 2 : type.width <= 9 ? 4 : type.width <= 18 ? 8 : 16;
      return col(new Decimal(type.scale, type.width, 128), { kind: "decimal", width });
    }
    default:
      return null;
  }
}

/** Plans every column of a result, or null when one of them needs the Parquet path. */
export function planChunkColumns(result: Pick<DuckDBResult, "columnCount" | "columnName" | "columnType">): ChunkColumn[] | null {
  const columns: ChunkColumn[] = [];
  for (let c = 0; c < result.columnCount; c++) {
    const planned = planChunkColumn(result.columnName(c), result.columnType(c));
    if (planned === null) return null;
    columns.push(planned);
  }
  return columns;
}

/** Bytes per Arrow value of a fixed-width output column. */
function arrowWidth(convert: ColumnKind): number {
  switch (convert.kind) {
    case "fixed":
      return convert.width;
    case "seconds":
      return 8;
    case "decimal":
      return 16;
    default:
      return 0;
  }
}

/** One column of the batch being gathered: growable buffers plus a lazily created validity bitmap. */
class ColumnBuilder {
  values: Uint8Array;
  /** Variable-width columns: Int32 offsets (length rows + 1) and the byte count used in `values`. */
  offsets: Int32Array | null = null;
  bytesUsed = 0;
  validity: Uint8Array | null = null;
  nullCount = 0;
  private readonly width: number;

  constructor(
    readonly column: ChunkColumn,
    private capacity: number,
  ) {
    this.width = arrowWidth(column.convert);
    const kind = column.convert.kind;
    if (kind === "string") {
      this.offsets = new Int32Array(capacity + 1);
      this.values = new Uint8Array(capacity * 8);
    } else if (kind === "bool") {
      this.values = new Uint8Array(Math.ceil(capacity / 8));
    } else {
      this.values = new Uint8Array(capacity * this.width);
    }
  }

  /** Makes room for `rows` rows in total (keeps what is there). */
  reserve(rows: number): void {
    if (rows <= this.capacity) return;
    const capacity = rows;
    const kind = this.column.convert.kind;
    if (kind === "string") {
      const offsets = new Int32Array(capacity + 1);
      offsets.set(this.offsets!);
      this.offsets = offsets;
      // Bytes in proportion to the rows (strings tend to keep their length), so a batch rarely regrows.
      this.values = grow(this.values, Math.ceil((this.values.length * capacity) / this.capacity));
    } else if (kind === "bool") {
      this.values = grow(this.values, Math.ceil(capacity / 8));
    } else if (kind !== "null") {
      this.values = grow(this.values, capacity * this.width);
    }
    if (this.validity !== null) this.validity = grow(this.validity, Math.ceil(capacity / 8), 0xff);
    this.capacity = capacity;
  }

  /** The validity bitmap, created all-valid on the first null (most columns never need one). */
  private bitmap(): Uint8Array {
    this.validity ??= new Uint8Array(Math.ceil(this.capacity / 8)).fill(0xff);
    return this.validity;
  }

  /** Appends `rows` rows of one DuckDB vector at row `at` of the batch. */
  append(vector: duckdb.Vector, rows: number, at: number): void {
    const kind = this.column.convert;
    // DuckDB returns no validity (null) when every row of the vector is valid.
    const mask = kind.kind === "null" ? null : duckdb.vector_get_validity(vector, Math.ceil(rows / 64) * 8);
    if (kind.kind === "null") {
      const bits = this.bitmap();
      for (let i = 0; i < rows; i++) bits[(at + i) >> 3] &= ~(1 << ((at + i) & 7));
      this.nullCount += rows;
    } else if (mask !== null) {
      this.copyValidity(mask, rows, at);
    }
    switch (kind.kind) {
      case "null":
        return;
      case "fixed": {
        const data = duckdb.vector_get_data(vector, rows * kind.width);
        this.values.set(data, at * kind.width);
        return;
      }
      case "bool": {
        const data = duckdb.vector_get_data(vector, rows);
        const bits = this.values;
        for (let i = 0; i < rows; i++) {
          const bit = at + i;
          if (data[i] !== 0) bits[bit >> 3] |= 1 << (bit & 7);
          else bits[bit >> 3] &= ~(1 << (bit & 7));
        }
        return;
      }
      case "seconds": {
        const data = duckdb.vector_get_data(vector, rows * 8);
        const source = new BigInt64Array(copyAligned(data).buffer, 0, rows);
        const target = new BigInt64Array(this.values.buffer, this.values.byteOffset, this.values.byteLength / 8);
        for (let i = 0; i < rows; i++) target[at + i] = source[i] * 1_000_000n;
        return;
      }
      case "decimal": {
        const data = copyAligned(duckdb.vector_get_data(vector, rows * kind.width));
        const target = new Int32Array(this.values.buffer, this.values.byteOffset, this.values.byteLength / 4);
        if (kind.width === 16) {
          target.set(new Int32Array(data.buffer, 0, rows * 4), at * 4);
          return;
        }
        const source = kind.width === 2 ? new Int16Array(data.buffer, 0, rows) : kind.width === 4 ? new Int32Array(data.buffer, 0, rows) : new BigInt64Array(data.buffer, 0, rows);
        const halves = kind.width === 8 ? new Int32Array(data.buffer, 0, rows * 2) : null;
        for (let i = 0; i < rows; i++) {
          const w = (at + i) * 4;
          const low = halves !== null ? halves[2 * i] : (source[i] as number);
          const high = halves !== null ? halves[2 * i + 1] : low < 0 ? -1 : 0;
          const sign = high < 0 ? -1 : 0;
          target[w] = low;
          target[w + 1] = high;
          target[w + 2] = sign;
          target[w + 3] = sign;
        }
        return;
      }
      case "string":
        this.appendStrings(vector, mask, rows, at);
        return;
    }
  }

  /**
   * DuckDB string_t (16 bytes): uint32 length, then ≤ 12 bytes inline, or a 4-byte prefix and a pointer.
   * Reading a pointed-to string costs a native call (≈ 1.5 µs), so consecutive long strings whose bytes lie
   * close together in memory (DuckDB's string arenas: almost always) are read as one span (`stringRun`).
   */
  private appendStrings(vector: duckdb.Vector, mask: Uint8Array | null, rows: number, at: number): void {
    const data = duckdb.vector_get_data(vector, rows * 16);
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const offsets = this.offsets!;
    let used = this.bytesUsed;
    let run: StringRun | null = null;
    for (let i = 0; i < rows; i++) {
      const valid = mask === null || ((mask[i >> 3] >> (i & 7)) & 1) === 1;
      if (valid) {
        const base = i * 16;
        const length = view.getUint32(base, true);
        if (used + length > this.values.length) this.values = grow(this.values, Math.max(this.values.length * 2, used + length));
        const bytes = this.values;
        if (length <= 12) {
          // Short strings: a byte loop beats creating a subarray per value.
          for (let b = 0; b < length; b++) bytes[used + b] = data[base + 4 + b];
        } else {
          if (run === null || i > run.lastRow) run = stringRun(data, view, mask, i, rows);
          const from = pointerAt(view, base) - run.start;
          if (length <= 32) for (let b = 0; b < length; b++) bytes[used + b] = run.bytes[from + b];
          else bytes.set(run.bytes.subarray(from, from + length), used);
        }
        used += length;
      }
      offsets[at + i + 1] = used;
    }
    this.bytesUsed = used;
  }

  /** Copies `rows` validity bits from DuckDB's mask to the bitmap at row `at`, counting nulls. */
  private copyValidity(mask: Uint8Array, rows: number, at: number): void {
    let nulls = 0;
    for (let i = 0; i < rows; i++) if (((mask[i >> 3] >> (i & 7)) & 1) === 0) nulls++;
    if (nulls === 0) return;
    this.nullCount += nulls;
    const bits = this.bitmap();
    if ((at & 7) === 0) {
      const bytes = rows >> 3;
      bits.set(mask.subarray(0, bytes), at >> 3);
      for (let i = bytes * 8; i < rows; i++) setBit(bits, at + i, ((mask[i >> 3] >> (i & 7)) & 1) === 1);
      return;
    }
    for (let i = 0; i < rows; i++) setBit(bits, at + i, ((mask[i >> 3] >> (i & 7)) & 1) === 1);
  }

  /** The Arrow Data of the first `rows` rows (the buffers are handed over: the builder is not reused). */
  finish(rows: number): Data {
    const { type, convert } = this.column;
    const nullBitmap = this.validity === null ? undefined : this.validity.subarray(0, Math.ceil(rows / 8));
    const base = { type, length: rows, nullCount: this.nullCount, nullBitmap };
    switch (convert.kind) {
      case "null":
        return makeData({ ...base, type: type as Int32, data: new Int32Array(rows) });
      case "string":
        return makeData({ ...base, type: type as Utf8, valueOffsets: this.offsets!.subarray(0, rows + 1), data: this.values.subarray(0, this.bytesUsed) });
      case "bool":
        return makeData({ ...base, type: type as Bool, data: this.values.subarray(0, Math.ceil(rows / 8)) });
      default: {
        const width = arrowWidth(convert);
        const bytes = this.values.subarray(0, rows * width);
        return makeData({ ...base, type: type as Int32, data: typedView(type, bytes) as Int32Array });
      }
    }
  }
}

/** The bytes of the long strings of rows `firstRow…lastRow` of a VARCHAR/BLOB vector, read with one native call. */
interface StringRun {
  start: number;
  lastRow: number;
  bytes: Uint8Array;
}

/**
 * Largest stretch of unread memory a span may cross. Memory is mapped in pages of ≥ 4 KiB, so a span whose
 * gaps between string bytes are all shorter than a page has string bytes in every page it touches: every
 * page of it is mapped and the one read is safe.
 */
const MAX_SPAN_GAP = 1024;
/** Spans stay small: a long run of strings far apart would otherwise read a lot of unrelated memory. */
const MAX_SPAN_BYTES = 16 * 1024 * 1024;

/** The string's data pointer (bytes 8…15 of a non-inlined string_t; user-space addresses fit in 2^53). */
function pointerAt(view: DataView, base: number): number {
  return view.getUint32(base + 8, true) + view.getUint32(base + 12, true) * 4_294_967_296;
}

/**
 * Extends a span from the long string at row `first` over the following long strings as long as their
 * addresses increase and leave no gap of MAX_SPAN_GAP bytes or more, then reads it in one call.
 */
function stringRun(data: Uint8Array, view: DataView, mask: Uint8Array | null, first: number, rows: number): StringRun {
  const start = pointerAt(view, first * 16);
  let end = start + view.getUint32(first * 16, true);
  let lastRow = first;
  for (let i = first + 1; i < rows; i++) {
    if (mask !== null && ((mask[i >> 3] >> (i & 7)) & 1) === 0) continue;
    const length = view.getUint32(i * 16, true);
    if (length <= 12) continue;
    const pointer = pointerAt(view, i * 16);
    if (pointer < start || pointer - end >= MAX_SPAN_GAP || pointer + length - start > MAX_SPAN_BYTES) break;
    end = Math.max(end, pointer + length);
    lastRow = i;
  }
  // Rows between lastRow and the string that broke the span hold only short strings or nulls: they never read the span.
  const bytes = duckdb.get_data_from_pointer(data.buffer as ArrayBuffer, data.byteOffset + first * 16 + 8, end - start);
  return { start, lastRow, bytes };
}

function setBit(bits: Uint8Array, bit: number, value: boolean): void {
  if (value) bits[bit >> 3] |= 1 << (bit & 7);
  else bits[bit >> 3] &= ~(1 << (bit & 7));
}

function grow(bytes: Uint8Array, length: number, fill = 0): Uint8Array {
  const out = new Uint8Array(length);
  out.set(bytes);
  if (fill !== 0) out.fill(fill, bytes.length);
  return out;
}

/** A copy starting at byte 0 of its own buffer (DuckDB's vector memory need not be 8-byte aligned for a typed view). */
function copyAligned(data: Uint8Array): Uint8Array {
  return new Uint8Array(data);
}

/** The typed array arrow-js expects as the value buffer of a fixed-width type. */
function typedView(type: DataType, bytes: Uint8Array): ArrayBufferView {
  const ArrayType = (type as { ArrayType?: new (buffer: ArrayBuffer, offset: number, length: number) => ArrayBufferView }).ArrayType;
  if (ArrayType === undefined) return bytes;
  const element = (ArrayType as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  // Decimal's ArrayType is Uint32Array (4 words per value).
  return new ArrayType(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength / element);
}

/** The Arrow schema of planned columns: nullable fields, like the Parquet path's. */
export function chunkSchema(columns: readonly ChunkColumn[]): Schema {
  return new Schema(columns.map((c) => new Field(c.name, c.type, true)));
}

function batchOf(schema: Schema, builders: readonly ColumnBuilder[], rows: number): RecordBatch {
  const children = builders.map((b) => b.finish(rows));
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: rows, nullCount: 0, children }));
}

/**
 * Streams a result's chunks as record batches of up to `batchRows` rows. The result must have been planned
 * (`planChunkColumns`) with `columns`.
 */
export async function* resultBatches(result: DuckDBResult, columns: readonly ChunkColumn[], batchRows = CHUNK_BATCH_ROWS): AsyncGenerator<RecordBatch> {
  const schema = chunkSchema(columns);
  const fresh = (capacity: number) => columns.map((c) => new ColumnBuilder(c, capacity));
  let capacity = 2048;
  let builders = fresh(capacity);
  let rows = 0;
  for (;;) {
    const fetched = await result.fetchChunk();
    const size = fetched === null ? 0 : fetched.rowCount;
    if (fetched === null || size === 0) break;
    const chunk = fetched.chunk;
    // A chunk never straddles two batches: a full batch is flushed before the chunk that would overflow it.
    if (rows + size > batchRows && rows > 0) {
      yield batchOf(schema, builders, rows);
      builders = fresh(Math.min(batchRows, capacity));
      rows = 0;
    }
    if (rows + size > capacity) {
      // A second chunk means a large result, most likely: size for a whole batch at once instead of doubling.
      capacity = Math.max(batchRows, rows + size);
      for (const builder of builders) builder.reserve(capacity);
    }
    for (let c = 0; c < builders.length; c++) builders[c].append(duckdb.data_chunk_get_vector(chunk, c), size, rows);
    rows += size;
  }
  if (rows > 0) yield batchOf(schema, builders, rows);
}

/**
 * How much a streaming result may run ahead of its reader. DuckDB's default (≈ 1 MB) keeps its threads
 * waiting on this thread; a few batches' worth lets the query run at full parallelism while chunks are copied.
 */
const STREAMING_BUFFER = "64MB";

/** A query's result as a schema and a stream of record batches (see `openDuckDBBatches`). */
export interface DuckDBBatchStream {
  schema: Schema;
  batches: AsyncGenerator<RecordBatch>;
}

/**
 * Starts `query` (one SELECT-like statement, `params` bound as $1..$n) as a streaming result and returns its
 * schema and batches, or null (having run nothing: only prepared it) when a result column has a type this
 * path does not convert. Run nothing else on `connection` until the batches are consumed or `return()`ed:
 * another statement on the connection ends the stream.
 */
export async function openDuckDBBatches(connection: DuckDBConnection, query: string, params: readonly unknown[] = [], batchRows = CHUNK_BATCH_ROWS): Promise<DuckDBBatchStream | null> {
  const prepared = await connection.prepare(trimStatement(query).body);
  let handedOver = false;
  let restore: string | null = null;
  try {
    bindParams(prepared, params);
    const planned = planChunkColumns(prepared);
    if (planned === null) return null;
    const previous = await connection.runAndReadAll("SELECT current_setting('streaming_buffer_size')");
    restore = String(previous.getRows()[0][0]);
    await connection.run(`SET streaming_buffer_size = '${STREAMING_BUFFER}'`);
    const result = await prepared.stream();
    const columns = planChunkColumns(result);
    // Binding can still change a column's type; such a result goes the Parquet way (nothing has been read yet).
    if (columns === null || columns.some((c, i) => c.type.toString() !== planned[i].type.toString())) return null;
    const schema = chunkSchema(columns);
    const setting = restore;
    restore = null;
    handedOver = true;
    const batches = (async function* () {
      try {
        yield* resultBatches(result, columns, batchRows);
      } finally {
        prepared.destroySync();
        await connection.run(`SET streaming_buffer_size = '${setting.replace(/'/g, "''")}'`);
      }
    })();
    return { schema, batches };
  } finally {
    if (!handedOver) {
      prepared.destroySync();
      if (restore !== null) await connection.run(`SET streaming_buffer_size = '${restore.replace(/'/g, "''")}'`);
    }
  }
}

/**
 * A query's result as an Arrow table built straight from DuckDB's chunks, or null when a column's type
 * needs the Parquet path (see `openDuckDBBatches`).
 */
export async function duckdbChunksToArrow(connection: DuckDBConnection, query: string, params: readonly unknown[] = [], batchRows = CHUNK_BATCH_ROWS): Promise<Table | null> {
  const stream = await openDuckDBBatches(connection, query, params, batchRows);
  if (stream === null) return null;
  const batches: RecordBatch[] = [];
  for await (const batch of stream.batches) batches.push(batch);
  return batches.length === 0 ? new Table(stream.schema) : new Table(batches);
}
