import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { duckdbTypeToArrowName, duckdbValueToJson } from "./duckdb-json";

describe("duckdb-json", () => {
  let instance: DuckDBInstance;
  let connection: DuckDBConnection;
  beforeAll(async () => {
    instance = await DuckDBInstance.create(":memory:");
    connection = await instance.connect();
  });
  afterAll(() => {
    connection.closeSync();
    instance.closeSync();
  });

  async function row(sql: string): Promise<{ names: string[]; types: string[]; values: unknown[] }> {
    const reader = await connection.runAndReadAll(sql);
    return {
      names: reader.columnNames(),
      types: reader.columnTypes().map(duckdbTypeToArrowName),
      values: reader.getRows()[0].map(duckdbValueToJson),
    };
  }

  it("renders scalars like the Arrow previews do", async () => {
    const { types, values } = await row(`SELECT
      42::INTEGER, 9007199254740993::BIGINT, -5::BIGINT, 18446744073709551615::UBIGINT, 170141183460469231731687303715884105727::HUGEINT,
      1.5::DOUBLE, 'NaN'::DOUBLE, 'inf'::FLOAT, 'héllo', true, NULL::INTEGER,
      123.45::DECIMAL(10,2), -0.05::DECIMAL(4,2), 'a\\x00b'::BLOB`);
    expect(types).toEqual(["Int32", "Int64", "Int64", "Uint64", "Int128", "Float64", "Float64", "Float32", "Utf8", "Bool", "Int32", "Decimal[10e+2]", "Decimal[4e+2]", "Binary"]);
    expect(values).toEqual([
      42,
      "9007199254740993",
      -5,
      "18446744073709551615",
      "170141183460469231731687303715884105727",
      1.5,
      "NaN",
      "Infinity",
      "héllo",
      true,
      null,
      "123.45",
      "-0.05",
      Buffer.from("a\0b").toString("base64"),
    ]);
  });

  it("renders timestamps of every unit, dates and times", async () => {
    const { types, values } = await row(`SELECT
      TIMESTAMP '2023-11-14 22:13:20.123456', TIMESTAMP_S '2023-11-14 22:13:20', TIMESTAMP_MS '2023-11-14 22:13:20.123',
      TIMESTAMP_NS '2023-11-14 22:13:20.123999999', TIMESTAMP '1969-12-31 23:59:59.9999', 'infinity'::TIMESTAMP,
      TIMESTAMPTZ '2023-11-14 22:13:20.5+00', DATE '2024-02-29', DATE '1969-12-31', TIME '12:34:56.789012', INTERVAL 3 DAY`);
    expect(types).toEqual([
      "Timestamp<MICROSECOND>",
      "Timestamp<SECOND>",
      "Timestamp<MILLISECOND>",
      "Timestamp<NANOSECOND>",
      "Timestamp<MICROSECOND>",
      "Timestamp<MICROSECOND>",
      "Timestamp<MICROSECOND, UTC>",
      "Date32<DAY>",
      "Date32<DAY>",
      "Time64<MICROSECOND>",
      "Interval<MONTH_DAY_NANO>",
    ]);
    expect(values).toEqual([
      "2023-11-14 22:13:20.123456",
      "2023-11-14 22:13:20",
      "2023-11-14 22:13:20.123",
      "2023-11-14 22:13:20.123999999",
      "1969-12-31 23:59:59.9999",
      "infinity",
      "2023-11-14 22:13:20.5+00:00",
      "2024-02-29",
      "1969-12-31",
      "12:34:56.789012",
      { months: 0, days: 3, micros: 0 },
    ]);
  });

  it("renders nested values and names nested types", async () => {
    const { types, values } = await row(`SELECT
      [1, NULL, 3]::BIGINT[], {'a': 1, 'b': 'x'}, MAP {'k': 1.5}, [1, 2]::INTEGER[2], 'b'::ENUM('a', 'b'),
      '5f2b2a0e-1c7e-4a52-9a43-1d2b3c4d5e6f'::UUID, union_value(n := 7)`);
    expect(types).toEqual([
      "List<Int64>",
      "Struct<{a:Int32, b:Utf8}>",
      "Map<{key:Utf8, value:Decimal[2e+1]}>",
      "FixedSizeList[2]<Int32>",
      "Dictionary<Uint32, Utf8>",
      "Uuid",
      "DenseUnion<Int32>",
    ]);
    expect(values).toEqual([
      [1, null, 3],
      { a: 1, b: "x" },
      [{ key: "k", value: "1.5" }],
      [1, 2],
      "b",
      "5f2b2a0e-1c7e-4a52-9a43-1d2b3c4d5e6f",
      7,
    ]);
  });
});
