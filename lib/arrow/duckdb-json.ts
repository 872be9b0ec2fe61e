/**
 * DuckDB values and types in the shapes Arrow outputs use, so that a preview of a SQL block's Parquet
 * output (read through DuckDB) looks exactly like a preview of a TypeScript block's Arrow output: same
 * JSON-safe values (`json-value.ts`) and the same Arrow type names (`Timestamp<MICROSECOND>`, `Utf8`, …).
 */
import {
  DuckDBArrayValue,
  DuckDBBlobValue,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBIntervalValue,
  DuckDBListValue,
  DuckDBMapValue,
  DuckDBStructValue,
  DuckDBTimeNSValue,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBTimeValue,
  DuckDBTypeId,
  DuckDBUnionValue,
  DuckDBVariantValue,
  type DuckDBType,
  type DuckDBValue,
} from "@duckdb/node-api";
import {
  bigintToJson,
  bytesToJson,
  epochDaysToDate,
  makeTimestampText,
  numberToJson,
  timeOfDayToString,
  type JsonValue,
  type TimeUnitCode,
} from "./json-value";

const naive = (unit: TimeUnitCode) => makeTimestampText(unit, null);
const NAIVE_TEXT: Record<TimeUnitCode, (value: bigint) => string> = { 0: naive(0), 1: naive(1), 2: naive(2), 3: naive(3) };
/** DuckDB keeps TIMESTAMPTZ as UTC instants and its Arrow type says `UTC` (see `duckdbTypeToArrowName`). */
const UTC_TEXT = makeTimestampText(2, "UTC");

/** A timestamp as Arrow previews render it, or DuckDB's own text for `infinity` / `-infinity`. */
function timestampText(value: { isFinite: boolean; toString(): string }, epoch: bigint, text: (value: bigint) => string): string {
  return value.isFinite ? text(epoch) : value.toString();
}

/** One DuckDB value as JSON-safe data (see `json-value.ts` for the rules). */
export function duckdbValueToJson(value: DuckDBValue): JsonValue {
  if (value === null || typeof value === "boolean" || typeof value === "string") return value;
  if (typeof value === "number") return numberToJson(value);
  if (typeof value === "bigint") return bigintToJson(value);
  if (value instanceof DuckDBTimestampTZValue) return timestampText(value, value.micros, UTC_TEXT);
  if (value instanceof DuckDBTimestampValue) return timestampText(value, value.micros, NAIVE_TEXT[2]);
  if (value instanceof DuckDBTimestampSecondsValue) return timestampText(value, value.seconds, NAIVE_TEXT[0]);
  if (value instanceof DuckDBTimestampMillisecondsValue) return timestampText(value, value.millis, NAIVE_TEXT[1]);
  if (value instanceof DuckDBTimestampNanosecondsValue) return timestampText(value, value.nanos, NAIVE_TEXT[3]);
  if (value instanceof DuckDBDateValue) return value.isFinite ? epochDaysToDate(value.days) : value.toString();
  if (value instanceof DuckDBTimeValue) return timeOfDayToString(value.micros, 2);
  if (value instanceof DuckDBTimeNSValue) return timeOfDayToString(value.nanos, 3);
  if (value instanceof DuckDBDecimalValue) return value.toString();
  if (value instanceof DuckDBIntervalValue) return { months: value.months, days: value.days, micros: bigintToJson(value.micros) };
  if (value instanceof DuckDBListValue || value instanceof DuckDBArrayValue) return value.items.map(duckdbValueToJson);
  if (value instanceof DuckDBStructValue) {
    const out: { [key: string]: JsonValue } = {};
    for (const [key, item] of Object.entries(value.entries)) out[key] = duckdbValueToJson(item);
    return out;
  }
  if (value instanceof DuckDBMapValue) {
    return value.entries.map((entry) => ({ key: duckdbValueToJson(entry.key), value: duckdbValueToJson(entry.value) }));
  }
  if (value instanceof DuckDBUnionValue || value instanceof DuckDBVariantValue) return duckdbValueToJson(value.value);
  if (value instanceof DuckDBBlobValue) return bytesToJson(value.bytes);
  // UUID, BIT, TIME WITH TIME ZONE, GEOMETRY: DuckDB's own text is the useful rendering.
  return value.toString();
}

function fields(names: readonly string[], types: readonly DuckDBType[]): string {
  return names.map((name, i) => `${name}:${duckdbTypeToArrowName(types[i])}`).join(", ");
}

/**
 * The Arrow type text (as `String(arrowType)` prints it) of the Arrow type DuckDB would export a column
 * as. Types Arrow lacks keep a descriptive name (`Int128`, `Uuid`).
 */
export function duckdbTypeToArrowName(type: DuckDBType): string {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return "Bool";
    case DuckDBTypeId.TINYINT:
      return "Int8";
    case DuckDBTypeId.SMALLINT:
      return "Int16";
    case DuckDBTypeId.INTEGER:
      return "Int32";
    case DuckDBTypeId.BIGINT:
      return "Int64";
    case DuckDBTypeId.UTINYINT:
      return "Uint8";
    case DuckDBTypeId.USMALLINT:
      return "Uint16";
    case DuckDBTypeId.UINTEGER:
      return "Uint32";
    case DuckDBTypeId.UBIGINT:
      return "Uint64";
    case DuckDBTypeId.HUGEINT:
      return "Int128";
    case DuckDBTypeId.UHUGEINT:
      return "Uint128";
    case DuckDBTypeId.FLOAT:
      return "Float32";
    case DuckDBTypeId.DOUBLE:
      return "Float64";
    case DuckDBTypeId.VARCHAR:
    case DuckDBTypeId.STRING_LITERAL:
      return "Utf8";
    case DuckDBTypeId.BLOB:
    case DuckDBTypeId.BIT:
    case DuckDBTypeId.GEOMETRY:
      return "Binary";
    case DuckDBTypeId.DECIMAL:
      return `Decimal[${type.width}e${type.scale > 0 ? "+" : ""}${type.scale}]`;
    case DuckDBTypeId.TIMESTAMP:
      return "Timestamp<MICROSECOND>";
    case DuckDBTypeId.TIMESTAMP_S:
      return "Timestamp<SECOND>";
    case DuckDBTypeId.TIMESTAMP_MS:
      return "Timestamp<MILLISECOND>";
    case DuckDBTypeId.TIMESTAMP_NS:
      return "Timestamp<NANOSECOND>";
    case DuckDBTypeId.TIMESTAMP_TZ:
      return "Timestamp<MICROSECOND, UTC>";
    case DuckDBTypeId.DATE:
      return "Date32<DAY>";
    case DuckDBTypeId.TIME:
    case DuckDBTypeId.TIME_TZ:
      return "Time64<MICROSECOND>";
    case DuckDBTypeId.TIME_NS:
      return "Time64<NANOSECOND>";
    case DuckDBTypeId.INTERVAL:
      return "Interval<MONTH_DAY_NANO>";
    case DuckDBTypeId.UUID:
      return "Uuid";
    case DuckDBTypeId.ENUM:
      return "Dictionary<Uint32, Utf8>";
    case DuckDBTypeId.LIST:
      return `List<${duckdbTypeToArrowName(type.valueType)}>`;
    case DuckDBTypeId.ARRAY:
      return `FixedSizeList[${type.length}]<${duckdbTypeToArrowName(type.valueType)}>`;
    case DuckDBTypeId.STRUCT:
      return `Struct<{${fields(type.entryNames, type.entryTypes)}}>`;
    case DuckDBTypeId.MAP:
      return `Map<{key:${duckdbTypeToArrowName(type.keyType)}, value:${duckdbTypeToArrowName(type.valueType)}}>`;
    case DuckDBTypeId.UNION:
      return `DenseUnion<${type.memberTypes.map(duckdbTypeToArrowName).join(" | ")}>`;
    case DuckDBTypeId.SQLNULL:
      return "Null";
    case DuckDBTypeId.INTEGER_LITERAL:
      return "Int64";
    case DuckDBTypeId.ANY:
    case DuckDBTypeId.BIGNUM:
    case DuckDBTypeId.VARIANT:
      return type.toString();
    default: {
      const unreachable: never = type;
      return String(unreachable);
    }
  }
}

