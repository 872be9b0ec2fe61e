/**
 * The output summary of a SQL block, computed by DuckDB in one aggregate query over the block's table
 * (exact null counts, min, max, approx_count_distinct), rendered the way the output store renders Arrow
 * summaries (lib/arrow/arrow-summary.ts) so the editor shows the same thing whichever language made the
 * output. Type names are those of the Arrow type the persisted Parquet file reads back as (DuckDB writes
 * HUGEINT as DOUBLE and TIMESTAMP_S as microseconds, for example), checked by a test against parquet-wasm.
 */
import { DOUBLE, DuckDBTypeId, type DuckDBConnection, type DuckDBType } from "@duckdb/node-api";
import {
  Binary,
  Bool,
  DataType,
  DateDay,
  Decimal,
  Field,
  FixedSizeBinary,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  Int8,
  IntervalDayTime,
  List,
  Struct,
  TimeMicrosecond,
  Timestamp,
  TimeUnit,
  Uint16,
  Uint32,
  Uint64,
  Uint8,
  Utf8,
} from "apache-arrow";
import { DAY_MS, makeHistogram, planHistogram, type ColumnHistogram, type ColumnSummary, type EdgeUnit, type HistogramPlan, type OutputSummary } from "../core/output-types";
import { quoteIdentifier } from "../arrow/sql-text";

/** The Arrow type DuckDB's Parquet writer + parquet-wasm produce for a DuckDB type, or null when there is none worth naming. */
export function arrowTypeOfDuckDB(type: DuckDBType): DataType | null {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return new Bool();
    case DuckDBTypeId.TINYINT:
      return new Int8();
    case DuckDBTypeId.SMALLINT:
      return new Int16();
    case DuckDBTypeId.INTEGER:
      return new Int32();
    case DuckDBTypeId.BIGINT:
      return new Int64();
    case DuckDBTypeId.UTINYINT:
      return new Uint8();
    case DuckDBTypeId.USMALLINT:
      return new Uint16();
    case DuckDBTypeId.UINTEGER:
      return new Uint32();
    case DuckDBTypeId.UBIGINT:
      return new Uint64();
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.DOUBLE:
      return new Float64();
    case DuckDBTypeId.FLOAT:
      return new Float32();
    case DuckDBTypeId.VARCHAR:
    case DuckDBTypeId.ENUM:
      return new Utf8();
    case DuckDBTypeId.BLOB:
      return new Binary();
    case DuckDBTypeId.DATE:
      return new DateDay();
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
      return new Timestamp(TimeUnit.MICROSECOND);
    case DuckDBTypeId.TIMESTAMP_MS:
      return new Timestamp(TimeUnit.MILLISECOND);
    case DuckDBTypeId.TIMESTAMP_NS:
      return new Timestamp(TimeUnit.NANOSECOND);
    case DuckDBTypeId.TIMESTAMP_TZ:
      return new Timestamp(TimeUnit.MICROSECOND, "UTC");
    case DuckDBTypeId.TIME:
      return new TimeMicrosecond();
    case DuckDBTypeId.DECIMAL:
      return new Decimal(type.scale, type.width, 128);
    case DuckDBTypeId.INTERVAL:
      return new IntervalDayTime();
    case DuckDBTypeId.UUID:
      return new FixedSizeBinary(16);
    case DuckDBTypeId.LIST: {
      const child = arrowTypeOfDuckDB(type.valueType);
      return child === null ? null : new List(new Field("item", child, true));
    }
    case DuckDBTypeId.STRUCT: {
      const fields: Field[] = [];
      for (let i = 0; i < type.entryTypes.length; i++) {
        const child = arrowTypeOfDuckDB(type.entryTypes[i]);
        if (child === null) return null;
        fields.push(new Field(type.entryNames[i], child, true));
      }
      return new Struct(fields);
    }
    default:
      return null;
  }
}

/** `Timestamp<MICROSECOND>`, `Utf8`, … (apache-arrow's own spelling, as the Arrow summaries use). */
export function arrowTypeName(type: DuckDBType): string {
  const arrow = arrowTypeOfDuckDB(type);
  return arrow === null ? type.toString() : String(arrow);
}

type Render = "number" | "bigint" | "text" | "boolean" | "date" | "timestamp" | "time" | "none";

function renderOf(type: DuckDBType): Render {
  switch (type.typeId) {
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
      return "number";
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UBIGINT:
      return "bigint";
    case DuckDBTypeId.VARCHAR:
    case DuckDBTypeId.ENUM:
    case DuckDBTypeId.DECIMAL:
      return "text";
    case DuckDBTypeId.BOOLEAN:
      return "boolean";
    case DuckDBTypeId.DATE:
      return "date";
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
    case DuckDBTypeId.TIMESTAMP_TZ:
      return "timestamp";
    case DuckDBTypeId.TIME:
      return "time";
    default:
      return "none";
  }
}

/** SQL for min or max of a column, shaped so the JS value needs no DuckDB value classes. */
function extremeSql(aggregate: "min" | "max", column: string, render: Render): string {
  const value = `${aggregate}(${column})`;
  switch (render) {
    case "number":
      return `${value}::DOUBLE`;
    case "bigint":
    case "boolean":
      return value;
    case "text":
      return `${value}::VARCHAR`;
    case "date":
      return `strftime(${value}, '%Y-%m-%d')`;
    case "timestamp":
      return `epoch_ms(${value}::TIMESTAMP)`;
    case "time":
      return `datediff('microsecond', TIME '00:00:00', ${value})`;
    case "none":
      return "NULL";
  }
}

function renderValue(value: unknown, render: Render): ColumnSummary["min"] {
  if (value === null || value === undefined) return null;
  switch (render) {
    case "number":
      if (typeof value !== "number") return null;
      if (Number.isFinite(value)) return value;
      return Number.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
    case "bigint":
      if (typeof value === "bigint") return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value.toString();
      return typeof value === "number" ? value : null;
    case "text":
    case "date":
      return typeof value === "string" ? value : String(value);
    case "boolean":
      return typeof value === "boolean" ? value : null;
    case "timestamp": {
      const ms = typeof value === "bigint" ? Number(value) : typeof value === "number" ? value : NaN;
      const date = new Date(ms);
      return Number.isNaN(date.getTime()) ? String(value) : date.toISOString();
    }
    case "time": {
      const micros = typeof value === "bigint" ? value : BigInt(Math.trunc(Number(value)));
      const pad = (n: bigint): string => n.toString().padStart(2, "0");
      const seconds = micros / 1_000_000n;
      return `${pad(seconds / 3600n)}:${pad((seconds / 60n) % 60n)}:${pad(seconds % 60n)}.${(micros % 1_000_000n).toString().padStart(6, "0")}`;
    }
    case "none":
      return null;
  }
}

/** How a column is binned: the SQL of its values as DOUBLE in the unit of its Arrow type, as `arrow-summary.ts` bins them. */
interface Binning {
  sql: string;
  kind: ColumnHistogram["kind"];
  integral: boolean;
  toEdge: EdgeUnit;
}

const asIs: EdgeUnit = (value) => value;
const microsToMs: EdgeUnit = (value) => value / 1000;

function binningOf(type: DuckDBType, column: string): Binning | null {
  const number = (integral: boolean): Binning => ({ sql: `${column}::DOUBLE`, kind: "number", integral, toEdge: asIs });
  switch (type.typeId) {
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.UBIGINT:
      return number(true);
    // HUGEINT is written to Parquet as DOUBLE, so it is binned as one.
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
      return number(false);
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      // NaN is left out, as in the Arrow summary.
      return { ...number(false), sql: `CASE WHEN isnan(${column}) THEN NULL ELSE ${column}::DOUBLE END` };
    case DuckDBTypeId.DATE:
      return { sql: `(${column} - DATE '1970-01-01')::DOUBLE`, kind: "time", integral: true, toEdge: (days) => days * DAY_MS };
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_TZ:
      return { sql: `epoch_us(${column})::DOUBLE`, kind: "time", integral: true, toEdge: microsToMs };
    case DuckDBTypeId.TIMESTAMP_MS:
      return { sql: `epoch_ms(${column})::DOUBLE`, kind: "time", integral: true, toEdge: asIs };
    case DuckDBTypeId.TIMESTAMP_NS:
      return { sql: `epoch_ns(${column})::DOUBLE`, kind: "time", integral: true, toEdge: (value) => value / 1_000_000 };
    default:
      return null;
  }
}

/** `histogram()`'s MAP as node-api returns it, `[{ key, value }]`, into counts per bin. */
function binCounts(value: unknown, bins: number): number[] {
  const counts = new Array<number>(bins).fill(0);
  if (!Array.isArray(value)) return counts;
  for (const entry of value as { key: unknown; value: unknown }[]) {
    const bin = Number(entry.key);
    if (bin >= 0 && bin < bins) counts[bin] = toCount(entry.value);
  }
  return counts;
}

function toCount(value: unknown): number {
  return typeof value === "bigint" ? Number(value) : typeof value === "number" ? value : 0;
}

/** Tables up to this many rows get exact distinct counts; larger ones DuckDB's HyperLogLog estimate. */
const EXACT_DISTINCT_MAX_ROWS = 100_000;

/** Rows and per-column statistics of a table in the run database (`bytes` is the store's to fill in). */
export async function summarizeDuckDBTable(connection: DuckDBConnection, table: string): Promise<Omit<OutputSummary, "bytes">> {
  const described = await connection.runAndReadAll(`SELECT * FROM ${quoteIdentifier(table)} LIMIT 0`);
  const names = described.columnNames();
  const types = described.columnTypes();
  const parts = ["count(*)"];
  const renders = types.map(renderOf);
  // approx_count_distinct is off by a few even on tiny columns (4 for 5 values); exact counts are cheap up to here.
  const counted = await connection.runAndReadAll(`SELECT count(*) FROM ${quoteIdentifier(table)}`);
  const countDistinct = toCount(counted.getRowsJS()[0]?.[0]) <= EXACT_DISTINCT_MAX_ROWS ? "count(DISTINCT " : "approx_count_distinct(";
  names.forEach((name, i) => {
    const column = quoteIdentifier(name);
    const render = renders[i];
    const distinct = render === "none" && types[i].typeId !== DuckDBTypeId.BLOB && types[i].typeId !== DuckDBTypeId.UUID ? "0" : `${countDistinct}${column})`;
    parts.push(`count(${column})`, extremeSql("min", column, render), extremeSql("max", column, render), distinct);
  });
  // Histogram bounds, in the same scan: count, min and max of each binnable column's values.
  const binnings = names.map((name, i) => binningOf(types[i], quoteIdentifier(name)));
  const boundsAt = new Map<number, number>();
  binnings.forEach((binning, i) => {
    if (!binning) return;
    boundsAt.set(i, parts.length);
    parts.push(`count(${binning.sql})`, `min(${binning.sql})`, `max(${binning.sql})`);
  });
  const reader = await connection.runAndReadAll(`SELECT ${parts.join(", ")} FROM ${quoteIdentifier(table)}`);
  const row = reader.getRowsJS()[0] ?? [];
  const rows = toCount(row[0]);
  const histograms = await binTable(connection, table, binnings, (i) => {
    const at = boundsAt.get(i);
    return at === undefined ? null : { count: toCount(row[at]), low: row[at + 1], high: row[at + 2] };
  });
  const columns: ColumnSummary[] = names.map((name, i) => {
    const base = 1 + i * 4;
    const column: ColumnSummary = {
      name,
      type: arrowTypeName(types[i]),
      nulls: rows - toCount(row[base]),
      min: renderValue(row[base + 1], renders[i]),
      max: renderValue(row[base + 2], renders[i]),
      distinct: toCount(row[base + 3]),
    };
    const histogram = histograms.get(i);
    if (histogram) column.histogram = histogram;
    return column;
  });
  return { rows, columns };
}

/**
 * The histograms of the binnable columns (`planHistogram`'s bins, so they equal those of the Arrow summary of
 * the same data), in one more scan of the table: `histogram()` of each value's bin number,
 * `least(floor((value - low) / width), bins - 1)` in double precision, as `binOf` computes it. Columns with a
 * single bin need no scan: their count is the bin's.
 */
async function binTable(
  connection: DuckDBConnection,
  table: string,
  binnings: readonly (Binning | null)[],
  boundsOf: (column: number) => { count: number; low: unknown; high: unknown } | null,
): Promise<Map<number, ColumnHistogram>> {
  const plans = new Map<number, { plan: HistogramPlan; binning: Binning; count: number }>();
  binnings.forEach((binning, i) => {
    const bounds = boundsOf(i);
    if (!binning || !bounds || typeof bounds.low !== "number" || typeof bounds.high !== "number") return;
    const plan = planHistogram(bounds.low, bounds.high, binning.integral);
    if (plan) plans.set(i, { plan, binning, count: bounds.count });
  });
  const scanned = [...plans].filter(([, { plan }]) => plan.bins > 1);
  const counts = new Map<number, number[]>();
  if (scanned.length > 0) {
    const params: number[] = [];
    const selects = scanned.map(([, { plan, binning }]) => {
      params.push(plan.low, plan.width);
      const low = `$${params.length - 1}::DOUBLE`;
      const width = `$${params.length}::DOUBLE`;
      // The FILTER matters: least() ignores NULL arguments, so a null value would land in the last bin.
      return `histogram(least(floor((${binning.sql} - ${low}) / ${width}), ${plan.bins - 1})::INTEGER) FILTER (WHERE ${binning.sql} IS NOT NULL)`;
    });
    // Typed as DOUBLE: node-api would bind an integral JS number as BIGINT (and refuse one beyond 2^63).
    const reader = await connection.runAndReadAll(`SELECT ${selects.join(", ")} FROM ${quoteIdentifier(table)}`, params, params.map(() => DOUBLE));
    const row = reader.getRowsJS()[0] ?? [];
    scanned.forEach(([i, { plan }], k) => counts.set(i, binCounts(row[k], plan.bins)));
  }
  const histograms = new Map<number, ColumnHistogram>();
  for (const [i, { plan, binning, count }] of plans) {
    histograms.set(i, makeHistogram(plan, counts.get(i) ?? [count], binning.kind, binning.toEdge));
  }
  return histograms;
}
