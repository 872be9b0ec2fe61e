import {
  Binary,
  Bool,
  DateDay,
  Decimal,
  Dictionary,
  Field,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  Int8,
  List,
  Null,
  Table,
  DateMillisecond,
  TimestampMicrosecond,
  TimestampMillisecond,
  TimestampNanosecond,
  TimestampSecond,
  Uint32,
  Uint64,
  Uint8,
  Utf8,
  makeData,
  makeVector,
  tableFromIPC,
  tableToIPC,
  vectorFromArray,
} from "apache-arrow";
import { summarizeArrowTable } from "./arrow-summary";
import type { ColumnSummary } from "../core/output-types";

function column(table: Table, name: string): ColumnSummary {
  const found = summarizeArrowTable(table).columns.find((c) => c.name === name);
  if (!found) throw new Error(`no column ${name}`);
  return found;
}

describe("summarizeArrowTable", () => {
  it("summarises numbers, strings, booleans and temporal columns with nulls", () => {
    const table = new Table({
      i32: vectorFromArray([5, null, -3, 5, 100], new Int32()),
      i8: vectorFromArray([1, 2, null, -128, 127], new Int8()),
      i16: vectorFromArray([1, 2, 3, 4, 5], new Int16()),
      u8: vectorFromArray([0, 255, null, null, 1], new Uint8()),
      u32: vectorFromArray([4_000_000_000, 1, 2, 3, null], new Uint32()),
      f32: vectorFromArray([0.5, -0.5, null, 0, -0], new Float32()),
      f64: vectorFromArray([1.5, NaN, -2.25, null, 1.5], new Float64()),
      s: vectorFromArray(["pear", "apple", null, "Zebra", "äpfel"], new Utf8()),
      b: vectorFromArray([true, true, null, true, true], new Bool()),
      d: vectorFromArray([new Date("2024-02-29"), new Date("1969-12-31"), null, null, new Date(0)], new DateDay()),
      ts: makeVector(
        makeData({
          type: new TimestampMicrosecond(),
          length: 5,
          nullCount: 1,
          nullBitmap: new Uint8Array([0b11101]),
          data: new BigInt64Array([1_700_000_000_123_456n, 0n, 123n, -1n, 1_700_000_000_000_000n]),
        }),
      ),
    });
    const summary = summarizeArrowTable(table);
    expect(summary.rows).toBe(5);
    const byName = Object.fromEntries(summary.columns.map((c) => [c.name, c]));
    // [-3, 100] holds 104 integers: bins of width ceil(104 / 20) = 6, 18 of them to cover it (edges -3 … 105).
    expect(byName.i32).toEqual({
      name: "i32",
      type: "Int32",
      nulls: 1,
      min: -3,
      max: 100,
      distinct: 3,
      histogram: { kind: "number", edges: Array.from({ length: 19 }, (_, i) => -3 + 6 * i), counts: [1, 2, ...Array<number>(15).fill(0), 1] },
    });
    expect(byName.i8).toMatchObject({ type: "Int8", nulls: 1, min: -128, max: 127, distinct: 4 });
    expect(byName.i16).toMatchObject({ nulls: 0, min: 1, max: 5, distinct: 5 });
    expect(byName.u8).toMatchObject({ nulls: 2, min: 0, max: 255, distinct: 3 });
    expect(byName.u32).toMatchObject({ type: "Uint32", nulls: 1, min: 1, max: 4_000_000_000, distinct: 4 });
    expect(byName.f32).toMatchObject({ type: "Float32", nulls: 1, min: -0.5, max: 0.5, distinct: 3 });
    expect(byName.f64).toMatchObject({ type: "Float64", nulls: 1, min: -2.25, max: 1.5, distinct: 3 });
    expect(byName.s).toEqual({ name: "s", type: "Utf8", nulls: 1, min: "Zebra", max: "äpfel", distinct: 4 });
    expect(byName.b).toMatchObject({ type: "Bool", nulls: 1, min: true, max: true, distinct: 1 });
    expect(byName.d).toMatchObject({ type: "Date32<DAY>", nulls: 2, min: "1969-12-31", max: "2024-02-29", distinct: 3 });
    expect(byName.ts).toMatchObject({
      type: "Timestamp<MICROSECOND>",
      nulls: 1,
      min: "1969-12-31T23:59:59.999Z",
      max: "2023-11-14T22:13:20.123Z",
      distinct: 4,
    });
  });

  it("compares 64-bit values exactly and renders big ones as strings", () => {
    const table = new Table({
      i64: vectorFromArray([-(2n ** 63n), 2n ** 62n + 1n, 2n ** 62n, null, -1n], new Int64()),
      u64: vectorFromArray([2n ** 64n - 1n, 2n ** 63n, 7n], new Uint64()).slice(0, 3),
      ns: makeVector(
        makeData({
          type: new TimestampNanosecond(),
          length: 3,
          data: new BigInt64Array([1_700_000_000_123_000_001n, 1_700_000_000_123_000_000n, 1_700_000_000_999_999_999n]),
        }),
      ),
    });
    expect(column(table, "i64")).toMatchObject({ nulls: 1, min: "-9223372036854775808", max: "4611686018427387905", distinct: 4 });
    expect(column(table, "u64")).toMatchObject({ min: 7, max: "18446744073709551615", distinct: 3 });
    expect(column(table, "ns")).toMatchObject({ min: "2023-11-14T22:13:20.123Z", max: "2023-11-14T22:13:20.999Z", distinct: 3 });
  });

  it("honours slice offsets in values and null bitmaps across batches", () => {
    const values = Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? null : i));
    const strings = values.map((v) => (v === null ? null : `v${String(v).padStart(2, "0")}`));
    const part = (from: number, to: number) =>
      new Table({ n: vectorFromArray(values.slice(from, to), new Int32()), s: vectorFromArray(strings.slice(from, to), new Utf8()) });
    const table = tableFromIPC(tableToIPC(part(0, 20).concat(part(20, 40)))).slice(5, 33);
    const window = values.slice(5, 33);
    const present = window.filter((v): v is number => v !== null);
    expect(table.batches.length).toBe(2);
    expect(column(table, "n")).toMatchObject({ nulls: window.length - present.length, min: Math.min(...present), max: Math.max(...present), distinct: present.length });
    expect(column(table, "s")).toMatchObject({
      nulls: window.length - present.length,
      min: `v${String(Math.min(...present)).padStart(2, "0")}`,
      max: `v${Math.max(...present)}`,
      distinct: present.length,
    });
  });

  it("handles empty tables, all-null and Null columns", () => {
    const empty = new Table({ n: vectorFromArray([], new Int32()), s: vectorFromArray([], new Utf8()) });
    expect(summarizeArrowTable(empty)).toEqual({
      rows: 0,
      columns: [
        { name: "n", type: "Int32", nulls: 0, min: null, max: null, distinct: 0 },
        { name: "s", type: "Utf8", nulls: 0, min: null, max: null, distinct: 0 },
      ],
    });
    const nulls = new Table({
      n: vectorFromArray([null, null, null], new Float64()),
      z: makeVector(makeData({ type: new Null(), length: 3 })),
      nan: vectorFromArray([NaN, NaN, NaN], new Float64()),
    });
    expect(column(nulls, "n")).toMatchObject({ nulls: 3, min: null, max: null, distinct: 0 });
    expect(column(nulls, "z")).toMatchObject({ type: "Null", nulls: 3, min: null, max: null, distinct: 0 });
    expect(column(nulls, "nan")).toMatchObject({ nulls: 0, min: null, max: null, distinct: 1 });
  });

  it("treats the rows Arrow JS pads a short column with as nulls", () => {
    const padded = new Table({
      long: vectorFromArray([1, 2, 3, 4, 5], new Int32()),
      f: vectorFromArray([1.5, 2.5], new Float64()),
      big: vectorFromArray([7n, 8n], new Int64()),
      s: vectorFromArray(["a", "b"], new Utf8()),
      b: vectorFromArray([true, false], new Bool()),
    });
    expect(padded.numRows).toBe(5);
    expect(column(padded, "f")).toMatchObject({ nulls: 3, min: 1.5, max: 2.5, distinct: 2 });
    expect(column(padded, "big")).toMatchObject({ nulls: 3, min: 7, max: 8, distinct: 2 });
    expect(column(padded, "s")).toMatchObject({ nulls: 3, min: "a", max: "b", distinct: 2 });
    expect(column(padded, "b")).toMatchObject({ nulls: 3, min: false, max: true, distinct: 2 });
  });

  it("summarises decimals, dictionaries, binary and nested columns", () => {
    const table = new Table({
      dec: makeVector(
        makeData({
          type: new Decimal(2, 10, 128),
          length: 3,
          data: new Uint32Array([12345, 0, 0, 0, 0xfffffffb, 0xffffffff, 0xffffffff, 0xffffffff, 12345, 0, 0, 0]),
        }),
      ),
      dict: vectorFromArray(["b", "a", null], new Dictionary(new Utf8(), new Int32())),
      bin: vectorFromArray([new Uint8Array([1]), new Uint8Array([2]), new Uint8Array([1])], new Binary()),
      list: vectorFromArray([[1, 2], [1, 2], null], new List(new Field("item", new Int32(), true))),
    });
    expect(column(table, "dec")).toMatchObject({ type: "Decimal[10e+2]", min: "-0.05", max: "123.45", distinct: 2 });
    expect(column(table, "dict")).toMatchObject({ type: "Dictionary<Int32, Utf8>", nulls: 1, min: "a", max: "b", distinct: 2 });
    expect(column(table, "bin")).toMatchObject({ nulls: 0, min: null, max: null, distinct: 2 });
    expect(column(table, "list")).toMatchObject({ type: "List<Int32>", nulls: 1, min: null, max: null, distinct: 1 });
  });

  it("estimates distinct counts of big columns closely", () => {
    const n = 300_000;
    const ints = new Int32Array(n).map((_, i) => i * 7);
    const floats = new Float64Array(n).map((_, i) => i / 3);
    const table = new Table({ ints: vectorFromArray(ints), floats: vectorFromArray(floats) });
    for (const c of summarizeArrowTable(table).columns) {
      expect(Math.abs(c.distinct - n) / n).toBeLessThan(0.015);
    }
    expect(column(table, "floats").max).toBeCloseTo((n - 1) / 3);
  });

  describe("histograms", () => {
    const zeros = (n: number) => Array<number>(n).fill(0);

    it("bins small integer ranges one value per bin, leaving out nulls, negatives included", () => {
      const table = new Table({ n: vectorFromArray([-2, null, -1, 0, 2, 2, null], new Int32()) });
      expect(column(table, "n").histogram).toEqual({ kind: "number", edges: [-2, -1, 0, 1, 2, 3], counts: [1, 1, 1, 0, 2] });
    });

    it("gives a single-value column one bin", () => {
      const table = new Table({
        i: vectorFromArray([7, 7, null], new Int32()),
        f: vectorFromArray([1.5, null, 1.5], new Float64()),
        big: vectorFromArray([-9n, -9n], new Int64()),
      });
      expect(column(table, "i").histogram).toEqual({ kind: "number", edges: [7, 8], counts: [2] });
      expect(column(table, "f").histogram).toEqual({ kind: "number", edges: [1.5, 1.5], counts: [2] });
      expect(column(table, "big").histogram).toEqual({ kind: "number", edges: [-9, -8], counts: [2] });
    });

    it("bins floats in 20 bins from min to max, the max in the last bin, NaN left out", () => {
      const table = new Table({ f: vectorFromArray([-10, -0.5, 0, 9.99, 10, NaN, null, 10], new Float64()) });
      const counts = zeros(20);
      counts[0] = 1; // -10
      counts[9] = 1; // -0.5
      counts[10] = 1; // 0
      counts[19] = 3; // 9.99, 10, 10
      expect(column(table, "f").histogram).toEqual({ kind: "number", edges: Array.from({ length: 21 }, (_, i) => -10 + i), counts });
    });

    it("covers wide integer ranges with 20 equal bins, 64-bit ones too", () => {
      const table = new Table({
        n: vectorFromArray(Array.from({ length: 1000 }, (_, i) => i), new Int32()),
        big: vectorFromArray(Array.from({ length: 1000 }, (_, i) => BigInt(i) - 500n), new Int64()),
      });
      expect(column(table, "n").histogram).toEqual({ kind: "number", edges: Array.from({ length: 21 }, (_, i) => 50 * i), counts: Array<number>(20).fill(50) });
      expect(column(table, "big").histogram).toEqual({ kind: "number", edges: Array.from({ length: 21 }, (_, i) => 50 * i - 500), counts: Array<number>(20).fill(50) });
    });

    it("bins dates and timestamps in their own unit, with edges in epoch milliseconds", () => {
      const base = Date.UTC(2024, 0, 1);
      const table = new Table({
        d: vectorFromArray([new Date(base), null, new Date(base + 2 * 86_400_000)], new DateDay()),
        d64: vectorFromArray([new Date(base), new Date(base + 1)], new DateMillisecond()),
        s: makeVector(makeData({ type: new TimestampSecond(), length: 4, nullCount: 1, nullBitmap: new Uint8Array([0b1011]), data: new BigInt64Array([BigInt(base / 1000), BigInt(base / 1000 + 10), 5n, BigInt(base / 1000 + 19)]) })),
        us: makeVector(makeData({ type: new TimestampMicrosecond(), length: 2, data: new BigInt64Array([-3000n, 1000n]) })),
      });
      expect(column(table, "d").histogram).toEqual({ kind: "time", edges: [0, 1, 2, 3].map((i) => base + i * 86_400_000), counts: [1, 0, 1] });
      expect(column(table, "d64").histogram).toEqual({ kind: "time", edges: [base, base + 1, base + 2], counts: [1, 1] });
      const counts = zeros(20);
      counts[0] = counts[10] = counts[19] = 1;
      expect(column(table, "s").histogram).toEqual({ kind: "time", edges: Array.from({ length: 21 }, (_, i) => base + i * 1000), counts });
      // 4,001 µs in bins of 201 µs: 20 bins, edges at fractions of a millisecond.
      const usCounts = zeros(20);
      usCounts[0] = usCounts[19] = 1;
      expect(column(table, "us").histogram).toEqual({ kind: "time", edges: Array.from({ length: 21 }, (_, i) => (-3000 + 201 * i) / 1000), counts: usCounts });
    });

    it("counts only the rows of a sliced, multi-batch table", () => {
      const values = Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? null : i));
      const part = (from: number, to: number) => new Table({ n: vectorFromArray(values.slice(from, to), new Int32()) });
      const table = tableFromIPC(tableToIPC(part(0, 20).concat(part(20, 40)))).slice(5, 33);
      // rows 5…32 without multiples of 3: 5 … 32, 28 integers → bins of width 2 starting at 5.
      const present = values.slice(5, 33).filter((v): v is number => v !== null);
      const counts = zeros(14);
      for (const v of present) counts[Math.floor((v - 5) / 2)]++;
      expect(column(table, "n").histogram).toEqual({ kind: "number", edges: Array.from({ length: 15 }, (_, i) => 5 + 2 * i), counts });
    });

    it("has none for strings, booleans, decimals, empty, all-null, all-NaN and infinite columns", () => {
      const table = new Table({
        s: vectorFromArray(["a", "b"], new Utf8()),
        b: vectorFromArray([true, false], new Bool()),
        n: vectorFromArray([null, null], new Float64()),
        nan: vectorFromArray([NaN, NaN], new Float64()),
        inf: vectorFromArray([1, Infinity], new Float64()),
        ms: vectorFromArray([null, null], new TimestampMillisecond()),
      });
      for (const c of summarizeArrowTable(table).columns) expect([c.name, c.histogram]).toEqual([c.name, undefined]);
      expect(column(new Table({ e: vectorFromArray([], new Int32()) }), "e").histogram).toBeUndefined();
    });
  });
});
