import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import {
  Bool,
  DateDay,
  DateMillisecond,
  Decimal,
  Dictionary,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  Int8,
  LargeUtf8,
  Null,
  Table,
  TimeMillisecond,
  Timestamp,
  TimestampMillisecond,
  TimestampMicrosecond,
  TimeUnit,
  Uint8,
  Utf8,
  makeData,
  makeVector,
  tableToIPC,
  vectorFromArray,
} from "apache-arrow";
import { UserError } from "../core/errors";
import { arrowToDuckDB } from "./arrow-to-duckdb";

let instance: DuckDBInstance;
let connection: DuckDBConnection;

beforeAll(async () => {
  instance = await DuckDBInstance.create(":memory:");
  connection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
});

afterAll(() => {
  connection.closeSync();
  instance.closeSync();
});

async function rows(sql: string): Promise<Record<string, unknown>[]> {
  return (await connection.runAndReadAll(sql)).getRowObjectsJS();
}

async function types(table: string): Promise<Record<string, string>> {
  const described = await rows(`SELECT column_name, data_type FROM information_schema.columns WHERE table_name = '${table}' ORDER BY ordinal_position`);
  return Object.fromEntries(described.map((r) => [String(r.column_name), String(r.data_type)]));
}

/** Validity bitmap and null count for makeData, from a list of "is valid" flags. */
function validity(valid: boolean[]): { length: number; nullCount: number; nullBitmap: Uint8Array } {
  const nullBitmap = new Uint8Array(Math.ceil(valid.length / 8));
  valid.forEach((ok, i) => {
    if (ok) nullBitmap[i >> 3] |= 1 << (i & 7);
  });
  return { length: valid.length, nullCount: valid.filter((ok) => !ok).length, nullBitmap };
}

describe("arrowToDuckDB", () => {
  test("every supported type keeps its values and nulls", async () => {
    const micros = [1601511330123456n, -1n, 0n];
    const table = new Table({
      i8: vectorFromArray([-128, null, 127], new Int8()),
      i16: vectorFromArray([-32768, 5, null], new Int16()),
      i32: vectorFromArray([null, -2147483648, 2147483647], new Int32()),
      i64: vectorFromArray([9007199254740993n, null, -9223372036854775808n], new Int64()),
      u8: vectorFromArray([0, 255, null], new Uint8()),
      f32: vectorFromArray([1.5, null, -0.25], new Float32()),
      f64: vectorFromArray([Math.PI, Number.NaN, null], new Float64()),
      flag: vectorFromArray([true, null, false], new Bool()),
      short: vectorFromArray(["", "twelve bytes", null], new Utf8()),
      long: vectorFromArray(["thirteen bytes", null, "ünïcødé and then some more"], new Utf8()),
      large: vectorFromArray(["a", null, "a large utf8 string value"], new LargeUtf8()),
      dict: vectorFromArray(["N", "Y", null], new Dictionary(new Utf8(), new Int32())),
      day: vectorFromArray([new Date("2020-10-01"), null, new Date("1969-12-31")], new DateDay()),
      day_ms: makeVector(makeData({ type: new DateMillisecond(), data: BigInt64Array.from([1601510400000n, 0n, -86400000n]), ...validity([true, false, true]) })),
      ts_us: makeVector(makeData({ type: new TimestampMicrosecond(), data: BigInt64Array.from(micros), ...validity([true, true, false]) })),
      ts_ms: makeVector(makeData({ type: new TimestampMillisecond(), data: BigInt64Array.from([1601511330123n, 0n, 0n]), ...validity([true, false, true]) })),
      ts_tz: makeVector(makeData({ type: new Timestamp(TimeUnit.MILLISECOND, "UTC"), data: BigInt64Array.from([1601511330123n, 1n, 0n]), ...validity([true, true, false]) })),
      time_ms: makeVector(makeData({ type: new TimeMillisecond(), data: Int32Array.from([3723004, 0, 0]), ...validity([true, false, true]) })),
      dec: makeVector(
        makeData({ type: new Decimal(2, 9, 128), data: Uint32Array.from([12345, 0, 0, 0, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0, 0, 0, 0]), ...validity([true, true, false]) }),
      ),
      nothing: makeVector(makeData({ type: new Null(), length: 3, nullCount: 3 })),
    });
    await arrowToDuckDB(connection, "all_types", table);
    expect(await types("all_types")).toEqual({
      i8: "TINYINT",
      i16: "SMALLINT",
      i32: "INTEGER",
      i64: "BIGINT",
      u8: "UTINYINT",
      f32: "FLOAT",
      f64: "DOUBLE",
      flag: "BOOLEAN",
      short: "VARCHAR",
      long: "VARCHAR",
      large: "VARCHAR",
      dict: "VARCHAR",
      day: "DATE",
      day_ms: "DATE",
      ts_us: "TIMESTAMP",
      ts_ms: "TIMESTAMP_MS",
      ts_tz: "TIMESTAMP WITH TIME ZONE",
      time_ms: "TIME",
      dec: "DECIMAL(9,2)",
      nothing: "VARCHAR",
    });
    const got = await rows(`
      SELECT i8, i16, i32, i64::VARCHAR AS i64, u8, f32, f64::VARCHAR AS f64, flag, short, long, large, dict,
             strftime(day, '%Y-%m-%d') AS day, strftime(day_ms, '%Y-%m-%d') AS day_ms, epoch_us(ts_us)::VARCHAR AS ts_us,
             epoch_ms(ts_ms) AS ts_ms, epoch_ms(ts_tz) AS ts_tz, time_ms::VARCHAR AS time_ms, dec::VARCHAR AS dec, nothing
      FROM all_types`);
    // The Appender variant (kept for the benchmark) loads the same values.
    await arrowToDuckDB(connection, "all_types_appended", table, { method: "appender" });
    expect(await rows("SELECT count(*)::INTEGER AS n FROM (SELECT * FROM all_types EXCEPT ALL SELECT * FROM all_types_appended)")).toEqual([{ n: 0 }]);
    expect(got).toEqual([
      {
        i8: -128, i16: -32768, i32: null, i64: "9007199254740993", u8: 0, f32: 1.5, f64: "3.141592653589793", flag: true,
        short: "", long: "thirteen bytes", large: "a", dict: "N", day: "2020-10-01", day_ms: "2020-10-01", ts_us: "1601511330123456",
        ts_ms: 1601511330123n, ts_tz: 1601511330123n, time_ms: "01:02:03.004", dec: "123.45", nothing: null,
      },
      {
        i8: null, i16: 5, i32: -2147483648, i64: null, u8: 255, f32: null, f64: "nan", flag: null,
        short: "twelve bytes", long: null, large: null, dict: "Y", day: null, day_ms: null, ts_us: "-1",
        ts_ms: null, ts_tz: 1n, time_ms: null, dec: "-0.01", nothing: null,
      },
      {
        i8: 127, i16: null, i32: 2147483647, i64: "-9223372036854775808", u8: null, f32: -0.25, f64: null, flag: false,
        short: null, long: "ünïcødé and then some more", large: "a large utf8 string value", dict: null, day: "1969-12-31", day_ms: "1969-12-31", ts_us: null,
        ts_ms: 0n, ts_tz: null, time_ms: "00:00:00", dec: null, nothing: null,
      },
    ]);
  });

  test("many batches, a slice starting mid-byte, nulls late in a 2048-row vector, SAB-backed IPC", async () => {
    const n = 5000;
    const ids = Array.from({ length: n }, (_, i) => (i % 7 === 3 ? null : i));
    const names = Array.from({ length: n }, (_, i) => (i % 11 === 5 ? null : `name number ${i}`));
    const base = new Table({ id: vectorFromArray(ids, new Int32()), name: vectorFromArray(names, new Utf8()) });
    const sliced = base.slice(3, 4999); // data.offset = 3: validity bits must be shifted
    const combined = sliced.concat(base.slice(4000)); // two batches
    expect(combined.batches[0].data.children[0].offset).toBe(3);
    const ipc = tableToIPC(combined, "stream");
    const shared = new Uint8Array(new SharedArrayBuffer(ipc.byteLength));
    shared.set(ipc);
    await arrowToDuckDB(connection, "sliced", combined);
    await arrowToDuckDB(connection, "sliced_ipc", shared);
    const expected: Record<string, unknown>[] = [];
    for (let i = 3; i < 4999; i++) expected.push({ id: ids[i], name: names[i] });
    for (let i = 4000; i < n; i++) expected.push({ id: ids[i], name: names[i] });
    for (const table of ["sliced", "sliced_ipc"]) {
      const got = await rows(`SELECT id, name FROM ${table}`);
      expect(got).toHaveLength(expected.length);
      expect(got).toEqual(expected);
    }
  });

  test("replace: true swaps the table; an unsupported type is a UserError naming the column", async () => {
    await arrowToDuckDB(connection, "swap", new Table({ a: vectorFromArray([1, 2], new Int32()) }));
    await arrowToDuckDB(connection, "swap", new Table({ b: vectorFromArray(["x"], new Utf8()) }), { replace: true });
    expect(await rows("SELECT * FROM swap")).toEqual([{ b: "x" }]);
    const nested = new Table({ tags: vectorFromArray([[1, 2]]) });
    await expect(arrowToDuckDB(connection, "nested", nested)).rejects.toThrow(UserError);
    await expect(arrowToDuckDB(connection, "nested2", nested)).rejects.toThrow(/column tags has Arrow type List/);
  });

  test("a dictionary whose dictionary has several chunks", async () => {
    const chunk1 = vectorFromArray(["short", "a string longer than twelve"], new Utf8()).data[0];
    const chunk2 = vectorFromArray(["third", "fourth value, also long"], new Utf8()).data[0];
    const column = makeVector(
      makeData({ type: new Dictionary(new Utf8(), new Int32()), data: Int32Array.from([3, 0, 2, 1, 0]), dictionary: makeVector([chunk1, chunk2]), ...validity([true, true, true, true, false]) }),
    );
    await arrowToDuckDB(connection, "dict_chunks", new Table({ v: column }));
    expect((await rows("SELECT v FROM dict_chunks")).map((r) => r.v)).toEqual(["fourth value, also long", "short", "third", "a string longer than twelve", null]);
  });

  test("a table without columns is a UserError", async () => {
    await expect(arrowToDuckDB(connection, "no_columns", new Table())).rejects.toThrow(UserError);
  });

  test("an empty table creates the columns", async () => {
    await arrowToDuckDB(connection, "empty", new Table({ a: vectorFromArray([], new Int64()) }));
    expect(await types("empty")).toEqual({ a: "BIGINT" });
    expect(await rows("SELECT count(*)::INTEGER AS n FROM empty")).toEqual([{ n: 0 }]);
  });
});
