import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { tableFromIPC } from "apache-arrow";
import { summarizeArrowTable } from "../store/arrow-summary";
import { parquetToIPC } from "./parquet-arrow";
import { quoteLiteral } from "./sql-text";
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
  const scalar = (columns: typeof fromSql.columns) => columns.filter((c) => !["list", "struct"].includes(c.name)).map((c) => [c.name, c.min, c.max, c.distinct]);
  expect(scalar(fromSql.columns)).toEqual(scalar(fromArrow.columns));
});
