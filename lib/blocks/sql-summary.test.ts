import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { tableFromIPC } from "apache-arrow";
import { summarizeArrowTable } from "../arrow/arrow-summary";
import { parquetToIPC } from "../arrow/parquet-arrow";
import { quoteLiteral } from "../arrow/sql-text";
import { summarizeDuckDBTable } from "./sql-summary";

let dir: string;
let instance: DuckDBInstance;
let connection: DuckDBConnection;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sluice-sql-summary-"));
  instance = await DuckDBInstance.create(":memory:");
  connection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
});

afterAll(() => {
  connection.closeSync();
  instance.closeSync();
  rmSync(dir, { recursive: true, force: true });
});

test("the SQL summary names the types the Parquet output reads back as, and renders values like the Arrow summary", async () => {
  await connection.run(`
    CREATE TABLE t AS SELECT * FROM (VALUES
      (true, 1::TINYINT, 2::SMALLINT, 3::INTEGER, 9007199254740993::BIGINT, 4::UINTEGER, 1.5::FLOAT, -2.25::DOUBLE, 'abc', DATE '2020-10-01',
       TIMESTAMP '2020-10-01 00:15:30.123456', TIMESTAMPTZ '2020-10-01 00:15:30.5+00', TIMESTAMP_MS '2020-10-01 00:00:00.001', TIMESTAMP_NS '2020-10-01 00:00:00.000000001',
       TIME '01:02:03.000004', 12.5::DECIMAL(9,2), 7::HUGEINT, [1, 2], {'a': 1}),
      (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (false, -1::TINYINT, -2::SMALLINT, -3::INTEGER, -5::BIGINT, 0::UINTEGER, -1.5::FLOAT, 1e300::DOUBLE, '', DATE '1969-12-31',
       TIMESTAMP '1969-12-31 23:59:59', TIMESTAMPTZ '1970-01-01 00:00:00+00', TIMESTAMP_MS '1970-01-01', TIMESTAMP_NS '1970-01-01',
       TIME '00:00:00', -0.01::DECIMAL(9,2), -7::HUGEINT, [], {'a': 2})
    ) v(b, i8, i16, i32, i64, u32, f32, f64, s, d, ts, tstz, ts_ms, ts_ns, tm, dec, huge, list, struct)`);
  const fromSql = await summarizeDuckDBTable(connection, "t");
  const file = join(dir, "t.parquet");
  await connection.run(`COPY t TO ${quoteLiteral(file)} (FORMAT parquet)`);
  const fromArrow = summarizeArrowTable(tableFromIPC(await parquetToIPC(readFileSync(file))));
  expect(fromSql.rows).toBe(3);
  expect(fromSql.columns.map((c) => [c.name, c.type, c.nulls])).toEqual(fromArrow.columns.map((c) => [c.name, c.type, c.nulls]));
  const scalar = (columns: typeof fromSql.columns) => columns.filter((c) => !["list", "struct"].includes(c.name)).map((c) => [c.name, c.min, c.max, c.distinct, c.histogram]);
  expect(scalar(fromSql.columns)).toEqual(scalar(fromArrow.columns));
  expect(fromSql.columns.filter((c) => c.histogram).map((c) => c.name)).toEqual(["i8", "i16", "i32", "i64", "u32", "f32", "f64", "d", "ts", "tstz", "ts_ms", "ts_ns", "huge"]);
});

describe("histograms of SQL outputs", () => {
  async function summaryOf(sql: string) {
    await connection.run(`CREATE OR REPLACE TABLE h AS ${sql}`);
    return summarizeDuckDBTable(connection, "h");
  }
  const zeros = (n: number) => Array<number>(n).fill(0);

  test("bins exactly: nulls and NaN left out, negatives, a single value, small integer ranges one value per bin", async () => {
    const summary = await summaryOf(`SELECT * FROM (VALUES (-2, 7, -10.0::DOUBLE, 'x'), (NULL, 7, -0.5, 'y'), (-1, NULL, 0, NULL), (0, 7, 9.99, 'z'), (2, 7, 10, 'z'),
      (2, 7, 'NaN'::DOUBLE, 'z'), (NULL, 7, NULL, 'z'), (NULL, 7, 10, 'z')) v(n, one, f, s)`);
    const byName = Object.fromEntries(summary.columns.map((c) => [c.name, c.histogram]));
    expect(byName.n).toEqual({ kind: "number", edges: [-2, -1, 0, 1, 2, 3], counts: [1, 1, 1, 0, 2] });
    expect(byName.one).toEqual({ kind: "number", edges: [7, 8], counts: [7] });
    const counts = zeros(20);
    counts[0] = counts[9] = counts[10] = 1;
    counts[19] = 3;
    expect(byName.f).toEqual({ kind: "number", edges: Array.from({ length: 21 }, (_, i) => -10 + i), counts });
    expect(byName.s).toBeUndefined();
  });

  test("bins timestamps and dates in their unit, edges in epoch milliseconds", async () => {
    const base = Date.UTC(2024, 0, 1);
    const summary = await summaryOf(`SELECT * FROM (VALUES
      (TIMESTAMP_S '2024-01-01 00:00:00', DATE '2024-01-01', TIMESTAMP '2024-01-01 00:00:00', 1.5::DOUBLE),
      (TIMESTAMP_S '2024-01-01 00:00:10', NULL, NULL, 1.5),
      (NULL, DATE '2024-01-03', TIMESTAMP '2024-01-01 00:00:00.000003', NULL),
      (TIMESTAMP_S '2024-01-01 00:00:19', DATE '2024-01-03', NULL, 1.5)) v(s, d, us, same)`);
    const byName = Object.fromEntries(summary.columns.map((c) => [c.name, c.histogram]));
    // TIMESTAMP_S is stored as microseconds: 19,000,001 of them in bins of 950,001.
    expect(byName.s).toEqual({
      kind: "time",
      edges: Array.from({ length: 21 }, (_, i) => (base * 1000 + 950_001 * i) / 1000),
      counts: [1, ...zeros(9), 1, ...zeros(8), 1],
    });
    expect(byName.d).toEqual({ kind: "time", edges: [0, 1, 2, 3].map((i) => base + i * 86_400_000), counts: [1, 0, 2] });
    expect(byName.us).toEqual({ kind: "time", edges: [0, 1, 2, 3, 4].map((i) => (base * 1000 + i) / 1000), counts: [1, 0, 0, 1] });
    expect(byName.same).toEqual({ kind: "number", edges: [1.5, 1.5], counts: [3] });
  });

  test("agrees exactly with the Arrow summary of the Parquet output on a large table", async () => {
    await connection.run(`CREATE OR REPLACE TABLE big AS SELECT
        (range * 7919 % 100003) - 50000 AS i,
        CASE WHEN range % 13 = 0 THEN NULL ELSE sin(range) * 1e6 END AS f,
        TIMESTAMP '2020-01-01' + to_microseconds((range * 104729 % 1000003) * 997) AS ts,
        TIMESTAMP_NS '2020-01-01' + to_microseconds(range) AS ns,
        DATE '2000-01-01' + (range % 9000)::INTEGER AS d
      FROM range(50000)`);
    const fromSql = await summarizeDuckDBTable(connection, "big");
    const file = join(dir, "big.parquet");
    await connection.run(`COPY big TO ${quoteLiteral(file)} (FORMAT parquet)`);
    const fromArrow = summarizeArrowTable(tableFromIPC(await parquetToIPC(readFileSync(file))));
    expect(fromSql.columns.map((c) => [c.name, c.histogram])).toEqual(fromArrow.columns.map((c) => [c.name, c.histogram]));
    for (const c of fromSql.columns) {
      expect(c.histogram?.counts.length).toBe(20);
      expect(c.histogram?.counts.reduce((a, b) => a + b, 0)).toBe(50000 - c.nulls);
    }
  });
});
