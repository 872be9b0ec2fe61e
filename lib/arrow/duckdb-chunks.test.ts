import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import type { Table } from "apache-arrow";
import { taxiDataDir } from "../../test/taxi-data";
import { firstDifference } from "./compare-tables";
import { GREEN_CSV_COLUMNS, columnsSql } from "../io/connector-contract";
import { duckdbChunksToArrow, openDuckDBBatches } from "./duckdb-chunks";
import { copyQueryToParquet, duckdbToArrow } from "./duckdb-to-arrow";
import { readParquetFile } from "./parquet-arrow";

let instance: DuckDBInstance;
let connection: DuckDBConnection;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sluice-chunks-test-"));
  instance = await DuckDBInstance.create(":memory:");
  connection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
});

afterAll(async () => {
  connection.closeSync();
  instance.closeSync();
  await rm(dir, { recursive: true, force: true });
});

/** The reference: the same query through the Parquet hand-off (DuckDB COPY + parquet-wasm). */
async function viaParquet(query: string, params: readonly unknown[] = []): Promise<Table> {
  const path = join(dir, `ref-${Math.random().toString(36).slice(2)}.parquet`);
  await copyQueryToParquet(connection, query, params, path);
  try {
    return await readParquetFile(path);
  } finally {
    await rm(path, { force: true });
  }
}

async function direct(query: string, params: readonly unknown[] = [], batchRows?: number): Promise<Table> {
  const table = await duckdbChunksToArrow(connection, query, params, batchRows);
  if (table === null) throw new Error(`the chunk path refused ${query}`);
  return table;
}

/** Same schema (names, types, nullability) and every cell equal, nulls included. */
async function expectSameAsParquet(query: string, params: readonly unknown[] = [], batchRows?: number): Promise<Table> {
  const [want, got] = [await viaParquet(query, params), await direct(query, params, batchRows)];
  expect(String(got.schema)).toBe(String(want.schema));
  expect(got.schema.fields.map((f) => f.nullable)).toEqual(want.schema.fields.map((f) => f.nullable));
  expect(firstDifference(want, got)).toBeNull();
  // firstDifference compares by meaning; the raw values must match too (e.g. a timestamp's unit).
  const show = (v: unknown): unknown => (v !== null && typeof v === "object" ? JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? `${x}n` : x)) : v);
  let mismatch: string | null = null;
  for (const field of want.schema.fields) {
    const [a, b] = [want.getChild(field.name)!, got.getChild(field.name)!];
    for (let i = 0; i < want.numRows && mismatch === null; i++) {
      const [x, y] = [show(a.get(i)), show(b.get(i))];
      if (!Object.is(x, y)) mismatch = `${field.name}[${i}]: Parquet path ${String(x)}, chunk path ${String(y)}`;
    }
  }
  expect(mismatch).toBeNull();
  return got;
}

const EVERY_TYPE = `SELECT
  CASE WHEN i % 5 = 0 THEN NULL ELSE (i % 100 - 50)::TINYINT END AS tiny,
  CASE WHEN i % 6 = 0 THEN NULL ELSE (i * 7 - 30000)::SMALLINT END AS small,
  CASE WHEN i % 7 = 0 THEN NULL ELSE (i * 104729 - 2000000000)::INTEGER END AS int,
  CASE WHEN i % 3 = 0 THEN NULL ELSE (i::BIGINT * 9007199254740 - 4611686018427387904) END AS big,
  (i % 250)::UTINYINT AS utiny, (i * 3 % 65535)::USMALLINT AS usmall, (i * 48271 % 4294967295)::UINTEGER AS uint, (i::UBIGINT * 1000000007 + 9223372036854775000::UBIGINT) AS ubig,
  CASE WHEN i % 4 = 0 THEN NULL ELSE (i / 7.0)::FLOAT END AS f4,
  CASE WHEN i % 9 = 0 THEN NULL WHEN i % 9 = 1 THEN 'NaN'::DOUBLE WHEN i % 9 = 2 THEN '-Infinity'::DOUBLE WHEN i % 9 = 3 THEN '-0.0'::DOUBLE ELSE i / 3.0 - 1e6 END AS f8,
  CASE WHEN i % 8 = 0 THEN NULL ELSE i % 3 = 0 END AS flag,
  CASE WHEN i % 10 = 0 THEN NULL WHEN i % 10 = 1 THEN 'NA' WHEN i % 10 = 2 THEN 'N/A' WHEN i % 10 = 3 THEN '' WHEN i % 10 = 4 THEN 'Zürich – 東京 ' || i::VARCHAR ELSE 'zone-' || (i % 265)::VARCHAR END AS short_text,
  CASE WHEN i % 11 = 0 THEN NULL ELSE 'a string longer than twelve bytes #' || i::VARCHAR || repeat('x', (i % 40)::INTEGER) END AS long_text,
  CASE WHEN i % 12 = 0 THEN NULL ELSE ('\\x00\\xFF' || i::VARCHAR)::BLOB END AS bytes,
  CASE WHEN i % 13 = 0 THEN NULL ELSE DATE '1969-12-25' + (i % 20000)::INTEGER END AS day,
  CASE WHEN i % 14 = 0 THEN NULL ELSE TIMESTAMP '1960-01-01 00:00:00.000001' + INTERVAL (i * 7919) SECOND + INTERVAL (i % 999983) MICROSECOND END AS ts,
  CASE WHEN i % 15 = 0 THEN NULL ELSE TIMESTAMPTZ '2020-03-08 01:59:59+00' + INTERVAL (i * 61) SECOND END AS tstz,
  CASE WHEN i % 16 = 0 THEN NULL ELSE (TIMESTAMP '2020-01-01' + INTERVAL (i) SECOND)::TIMESTAMP_S END AS ts_s,
  CASE WHEN i % 17 = 0 THEN NULL ELSE (TIMESTAMP '2020-01-01' + INTERVAL (i * 1001) MILLISECOND)::TIMESTAMP_MS END AS ts_ms,
  CASE WHEN i % 18 = 0 THEN NULL ELSE (TIMESTAMP '2020-01-01' + INTERVAL (i * 1001) MICROSECOND)::TIMESTAMP_NS END AS ts_ns,
  CASE WHEN i % 19 = 0 THEN NULL ELSE TIME '00:00:00' + INTERVAL (i * 37 % 86400) SECOND END AS t,
  CASE WHEN i % 20 = 0 THEN NULL ELSE ((i % 19999) - 9999) / 100 END::DECIMAL(4, 2) AS d4,
  CASE WHEN i % 21 = 0 THEN NULL ELSE (i * 12345 - 99999999) / 1000 END::DECIMAL(9, 3) AS d9,
  CASE WHEN i % 22 = 0 THEN NULL ELSE (i::BIGINT * 987654321 - 999999999999) / 10000 END::DECIMAL(18, 4) AS d18,
  CASE WHEN i % 23 = 0 THEN NULL ELSE (i::HUGEINT * 98765432109876543 - 99999999999999999999) / 1000000 END::DECIMAL(38, 6) AS d38,
  NULL AS nothing
FROM range(0, 5000) t(i)`;

describe("DuckDB chunks → Arrow", () => {
  it("gives every supported type the Parquet path's Arrow type and the same values, nulls included", async () => {
    const table = await expectSameAsParquet(EVERY_TYPE);
    expect(table.numRows).toBe(5000);
    // Spot checks that do not depend on the reference path.
    expect(table.getChild("short_text")!.get(1)).toBe("NA");
    expect(table.getChild("short_text")!.get(2)).toBe("N/A");
    expect(table.getChild("short_text")!.get(3)).toBe("");
    expect(table.getChild("short_text")!.get(0)).toBeNull();
    expect(table.getChild("long_text")!.get(1)).toBe("a string longer than twelve bytes #1x");
    expect(Number.isNaN(table.getChild("f8")!.get(1))).toBe(true);
    expect(Object.is(table.getChild("f8")!.get(3), -0)).toBe(true);
    expect(table.getChild("tstz")!.get(1)).toBe(Date.UTC(2020, 2, 8, 1, 59, 59) + 61_000);
    expect(table.getChild("nothing")!.nullCount).toBe(5000);
  });

  it("keeps the instant of timestamps and the exact value of decimals", async () => {
    const table = await direct(
      "SELECT TIMESTAMP '2020-10-01 00:09:08.123456' AS ts, TIMESTAMPTZ '2020-10-01 00:09:08+02' AS tz, -12345678901234567890.123456::DECIMAL(38, 6) AS d, -1.5::DECIMAL(4,1) AS small",
    );
    const ts = table.getChild("ts")!.data[0].values as BigInt64Array;
    expect(ts[0]).toBe(BigInt(Date.UTC(2020, 9, 1, 0, 9, 8)) * 1000n + 123_456n);
    expect((table.getChild("tz")!.data[0].values as BigInt64Array)[0]).toBe(BigInt(Date.UTC(2020, 8, 30, 22, 9, 8)) * 1000n);
    const words = table.getChild("d")!.data[0].values as Uint32Array;
    let unscaled = 0n;
    for (let w = 3; w >= 0; w--) unscaled = (unscaled << 32n) | BigInt(words[w]);
    expect(BigInt.asIntN(128, unscaled)).toBe(-12345678901234567890123456n);
    const small = table.getChild("small")!.data[0].values as Uint32Array;
    expect([...small.subarray(0, 4)]).toEqual([0xfffffff1, 0xffffffff, 0xffffffff, 0xffffffff]);
  });

  it("splits many chunks into batches of the requested size, across partial chunks and unaligned nulls", async () => {
    // The filter leaves chunks of odd sizes, so batches and validity bits start at unaligned rows.
    const query = `SELECT i, CASE WHEN i % 3 = 1 THEN NULL ELSE 'v' || i::VARCHAR END AS s, CASE WHEN i % 5 = 2 THEN NULL ELSE i * 0.5 END AS f,
      CASE WHEN i % 13 = 4 THEN NULL ELSE 'a long enough value number ' || i::VARCHAR END AS l, (i % 2 = 0) AS b
      FROM range(0, 200000) t(i) WHERE i % 7 <> 3 AND (i // 1000) % 3 <> 1`;
    const table = await expectSameAsParquet(query, [], 10_000);
    expect(table.batches.length).toBeGreaterThan(5);
    for (const batch of table.batches) expect(batch.numRows).toBeLessThanOrEqual(10_000);
    const expected = (await viaParquet(`SELECT count(*) AS n FROM (${query})`)).getChild("n")!.get(0);
    expect(BigInt(table.numRows)).toBe(expected);
  });

  it("returns an empty table with the result's schema when no row matches", async () => {
    const table = await direct("SELECT 1::INTEGER AS a, 'x' AS b, TIMESTAMP '2020-01-01' AS c FROM range(10) WHERE false");
    expect(table.numRows).toBe(0);
    expect(String(table.schema)).toBe(String((await viaParquet("SELECT 1::INTEGER AS a, 'x' AS b, TIMESTAMP '2020-01-01' AS c FROM range(10) WHERE false")).schema));
  });

  it("binds parameters", async () => {
    const table = await direct("SELECT i FROM range(100) t(i) WHERE i >= $1 AND i < $2", [10, 13]);
    expect(table.getChild("i")!.toArray()).toEqual(new BigInt64Array([10n, 11n, 12n]));
  });

  it("refuses types it does not convert, and duckdbToArrow then takes the Parquet path", async () => {
    for (const query of ["SELECT 1::HUGEINT AS h", "SELECT [1, 2] AS l", "SELECT {'a': 1} AS s", "SELECT INTERVAL 1 DAY AS i", "SELECT 'a'::ENUM('a', 'b') AS e", "SELECT uuid() AS u"]) {
      expect(await duckdbChunksToArrow(connection, query)).toBeNull();
    }
    const table = await duckdbToArrow(connection, "SELECT [1, 2] AS l, 3::INTEGER AS n", [], {
      tempDir: dir,
      decode: async (path) => {
        const { parquetToIPC } = await import("./parquet-arrow");
        const { readFile } = await import("node:fs/promises");
        return parquetToIPC(await readFile(path));
      },
    });
    expect(table.getChild("l")!.get(0)!.toArray()).toEqual(new Int32Array([1, 2]));
    expect(table.getChild("n")!.get(0)).toBe(3);
  });

  it("streams batches while the query runs and leaves the connection usable", async () => {
    const stream = await openDuckDBBatches(connection, "SELECT i, i::VARCHAR AS s FROM range(300000) t(i)", [], 65_536);
    expect(stream).not.toBeNull();
    expect(stream!.schema.fields.map((f) => f.name)).toEqual(["i", "s"]);
    let rows = 0;
    for await (const batch of stream!.batches) {
      expect((batch.getChild("i")!.get(0) as bigint) === BigInt(rows)).toBe(true);
      rows += batch.numRows;
    }
    expect(rows).toBe(300_000);
    const setting = await connection.runAndReadAll("SELECT current_setting('streaming_buffer_size')");
    expect(String(setting.getRows()[0][0])).toBe("976.5 KiB");
    expect((await direct("SELECT 42 AS x")).getChild("x")!.get(0)).toBe(42);
  });

  it("reads green_tripdata_2020-10.csv.gz exactly as the Parquet path does", async () => {
    const file = join(taxiDataDir(), "green_tripdata_2020-10.csv.gz").replaceAll("'", "''");
    const query = `SELECT * FROM read_csv('${file}', header = true, auto_detect = false, delim = ',', quote = '"', escape = '"', columns = ${columnsSql(GREEN_CSV_COLUMNS)}, timestampformat = '%Y-%m-%d %H:%M:%S')`;
    const want = await viaParquet(query);
    const got = await direct(query);
    expect(String(got.schema)).toBe(String(want.schema));
    expect(got.numRows).toBe(95_120);
    expect(firstDifference(want, got)).toBeNull();
  });
});
