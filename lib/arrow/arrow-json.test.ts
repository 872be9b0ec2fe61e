import {
  Binary,
  Bool,
  DateDay,
  DateMillisecond,
  Decimal,
  Dictionary,
  Field,
  FixedSizeList,
  Float64,
  Int32,
  Int64,
  List,
  Map_,
  Struct,
  Table,
  TimeMicrosecond,
  TimestampMicrosecond,
  TimestampMillisecond,
  TimestampNanosecond,
  TimestampSecond,
  Uint64,
  Utf8,
  makeData,
  makeVector,
  tableFromIPC,
  tableToIPC,
  vectorFromArray,
} from "apache-arrow";
import { arrowPageColumns, recordKeys, rowsToJson } from "./arrow-json";

function sampleTable(): Table {
  return new Table({
    i32: vectorFromArray([1, null, -3, 4], new Int32()),
    i64: vectorFromArray([1n, 2n ** 60n, null, -(2n ** 63n)], new Int64()),
    u64: vectorFromArray([0n, 2n ** 64n - 1n, 5n, null], new Uint64()),
    f64: vectorFromArray([1.5, NaN, Infinity, null], new Float64()),
    s: vectorFromArray(["a", "ünïcödé", null, ""], new Utf8()),
    b: vectorFromArray([true, false, null, true], new Bool()),
    d32: vectorFromArray([new Date("2024-02-29"), null, new Date(0), new Date("1969-12-31")], new DateDay()),
    d64: vectorFromArray([new Date("2024-02-29"), null, new Date(0), new Date("1969-12-31")], new DateMillisecond()),
    ts_s: makeVector(makeData({ type: new TimestampSecond(), length: 4, data: new BigInt64Array([1_700_000_000n, 0n, -1n, 1n]) })),
    ts_ms: makeVector(makeData({ type: new TimestampMillisecond("UTC"), length: 4, data: new BigInt64Array([1_700_000_000_123n, 0n, -1n, 1n]) })),
    ts_us: makeVector(makeData({ type: new TimestampMicrosecond(), length: 4, data: new BigInt64Array([1_700_000_000_123_456n, 0n, -1n, 1n]) })),
    ts_ns: makeVector(
      makeData({ type: new TimestampNanosecond(), length: 4, data: new BigInt64Array([1_700_000_000_123_000_000n, 1_700_000_000_999_999_999n, -1n, 1n]) }),
    ),
    dec: makeVector(
      makeData({
        type: new Decimal(2, 10, 128),
        length: 4,
        data: new Uint32Array([12345, 0, 0, 0, 0xfffffffb, 0xffffffff, 0xffffffff, 0xffffffff, 0, 0, 0, 0, 1, 0, 0, 0]),
      }),
    ),
    time: vectorFromArray([1n, 3_600_000_001n, null, 86_399_999_999n], new TimeMicrosecond()),
    bin: vectorFromArray([new Uint8Array([1, 2, 3]), null, new Uint8Array(), new Uint8Array([255])], new Binary()),
    list: vectorFromArray([[1, 2], [3], null, []], new List(new Field("item", new Int32(), true))),
    fsl: vectorFromArray([[1, 2], [3, 4], null, [5, 6]], new FixedSizeList(2, new Field("item", new Int32(), true))),
    struct: vectorFromArray(
      [{ a: 1, b: "x" }, null, { a: null, b: "z" }, { a: 4, b: "w" }],
      new Struct([new Field("a", new Int32(), true), new Field("b", new Utf8(), true)]),
    ),
    dict: vectorFromArray(["a", "b", null, "a"], new Dictionary(new Utf8(), new Int32())),
    map: vectorFromArray(
      [new Map([["k", 1]]), null, new Map<string, number>(), new Map([["x", 2], ["y", 3]])],
      new Map_<Utf8, Int32>(
        new Field("entries", new Struct<{ key: Utf8; value: Int32 }>([new Field("key", new Utf8(), false), new Field("value", new Int32(), true)]), false),
      ),
    ),
  });
}

const EXPECTED = [
  {
    i32: 1, i64: 1, u64: 0, f64: 1.5, s: "a", b: true, d32: "2024-02-29", d64: "2024-02-29",
    ts_s: "2023-11-14 22:13:20", ts_ms: "2023-11-14 22:13:20.123+00:00", ts_us: "2023-11-14 22:13:20.123456", ts_ns: "2023-11-14 22:13:20.123",
    dec: "123.45", time: "00:00:00.000001", bin: "AQID", list: [1, 2], fsl: [1, 2], struct: { a: 1, b: "x" }, dict: "a", map: [{ key: "k", value: 1 }],
  },
  {
    i32: null, i64: "1152921504606846976", u64: "18446744073709551615", f64: "NaN", s: "ünïcödé", b: false, d32: null, d64: null,
    ts_s: "1970-01-01 00:00:00", ts_ms: "1970-01-01 00:00:00+00:00", ts_us: "1970-01-01 00:00:00", ts_ns: "2023-11-14 22:13:20.999999999",
    dec: "-0.05", time: "01:00:00.000001", bin: null, list: [3], fsl: [3, 4], struct: null, dict: "b", map: null,
  },
  {
    i32: -3, i64: null, u64: 5, f64: "Infinity", s: null, b: null, d32: "1970-01-01", d64: "1970-01-01",
    ts_s: "1969-12-31 23:59:59", ts_ms: "1969-12-31 23:59:59.999+00:00", ts_us: "1969-12-31 23:59:59.999999", ts_ns: "1969-12-31 23:59:59.999999999",
    dec: "0.00", time: null, bin: "", list: null, fsl: null, struct: { a: null, b: "z" }, dict: null, map: [],
  },
  {
    i32: 4, i64: "-9223372036854775808", u64: null, f64: null, s: "", b: true, d32: "1969-12-31", d64: "1969-12-31",
    ts_s: "1970-01-01 00:00:01", ts_ms: "1970-01-01 00:00:00.001+00:00", ts_us: "1970-01-01 00:00:00.000001", ts_ns: "1970-01-01 00:00:00.000000001",
    dec: "0.01", time: "23:59:59.999999", bin: "/w==", list: [], fsl: [5, 6], struct: { a: 4, b: "w" }, dict: "a", map: [{ key: "x", value: 2 }, { key: "y", value: 3 }],
  },
];

describe("rowsToJson", () => {
  it("renders every supported type JSON-safely", () => {
    const rows = rowsToJson(sampleTable(), 0, 10);
    expect(rows).toEqual(EXPECTED);
    expect(JSON.parse(JSON.stringify(rows))).toEqual(EXPECTED);
  });

  it("shows values as they are: naive vs zoned timestamps, every decimal digit, exact int64, null apart from empty text", () => {
    const pickup = 1_601_510_940_000_000n; // 2020-10-01 00:09:00 (a TLC reading, no zone)
    const table = new Table({
      naive: makeVector(makeData({ type: new TimestampMicrosecond(), length: 2, data: new BigInt64Array([pickup, pickup + 1n]) })),
      zoned: makeVector(makeData({ type: new TimestampMicrosecond("America/New_York"), length: 2, data: new BigInt64Array([pickup, pickup + 1n]) })),
      fare: makeVector(
        // 38 digits, far beyond a float: 12345678901234567890123456789.012345678 and -0.000000001.
        makeData({ type: new Decimal(9, 38, 128), length: 2, data: new Uint32Array([0xde38f34e, 0xc4499050, 0xf0023313, 0x0949b0f6, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff]) }),
      ),
      id: vectorFromArray([9_007_199_254_740_993n, -5n], new Int64()),
      note: vectorFromArray([null, ""], new Utf8()),
    });
    const rows = rowsToJson(tableFromIPC(tableToIPC(table)), 0, 2);
    expect(rows).toEqual([
      { naive: "2020-10-01 00:09:00", zoned: "2020-09-30 20:09:00-04:00", fare: "12345678901234567890123456789.012345678", id: "9007199254740993", note: null },
      { naive: "2020-10-01 00:09:00.000001", zoned: "2020-09-30 20:09:00.000001-04:00", fare: "-0.000000001", id: -5, note: "" },
    ]);
  });

  it("reads the same from IPC-decoded data and from windows inside it", () => {
    const table = tableFromIPC(tableToIPC(sampleTable()));
    expect(rowsToJson(table, 0, 4)).toEqual(EXPECTED);
    expect(rowsToJson(table, 1, 2)).toEqual(EXPECTED.slice(1, 3));
    expect(rowsToJson(table.slice(1), 1, 5)).toEqual(EXPECTED.slice(2));
  });

  it("pages across record batches and clamps out-of-range windows", () => {
    const part = (from: number) => new Table({ n: vectorFromArray(Array.from({ length: 5 }, (_, i) => from + i), new Int32()) });
    const table = part(0).concat(part(5), part(10));
    expect(table.batches).toHaveLength(3);
    expect(rowsToJson(table, 3, 9).map((r) => r.n)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(rowsToJson(table, 13, 100).map((r) => r.n)).toEqual([13, 14]);
    expect(rowsToJson(table, 15, 10)).toEqual([]);
    expect(rowsToJson(table, -5, 2).map((r) => r.n)).toEqual([0, 1]);
    expect(rowsToJson(table, 0, 0)).toEqual([]);
  });

  it("gives duplicate column names distinct keys, matching the page columns", () => {
    expect(recordKeys(["a", "b", "a", "a_1", "a"])).toEqual(["a", "b", "a_2", "a_1", "a_3"]);
    const table = sampleTable();
    expect(arrowPageColumns(table).slice(0, 3)).toEqual([
      { name: "i32", type: "Int32" },
      { name: "i64", type: "Int64" },
      { name: "u64", type: "Uint64" },
    ]);
    expect(arrowPageColumns(table).find((c) => c.name === "ts_ms")?.type).toBe("Timestamp<MILLISECOND, UTC>");
  });
});
