import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { Int32, Table, TimestampMicrosecond, Utf8, makeData, makeVector, tableFromIPC, vectorFromArray } from "apache-arrow";
import { REPO_ROOT, taxiDataDir } from "../../test/taxi-data";
import { EXACT_DISTINCT_MAX_VALUES, ParquetTopValues, UnknownColumnError, topValuesOfArrow } from "./column-top-values";

jest.setTimeout(120_000);

describe("top values of a column", () => {
  it("counts an Arrow column exactly: most frequent first, ties by value, nulls apart, empty text as a value", () => {
    const table = new Table({
      flag: vectorFromArray(["N", "Y", null, "N", "", "Y", "N", null, ""], new Utf8()),
      n: vectorFromArray([3, 1, 2, 3, 1, 2, 3, 9, 9], new Int32()),
    });
    expect(topValuesOfArrow(table, "flag", 10)).toEqual({
      column: "flag",
      type: "Utf8",
      rows: 9,
      nulls: 2,
      distinct: 3,
      values: [
        { value: "N", count: 3 },
        { value: "", count: 2 },
        { value: "Y", count: 2 },
      ],
      exact: true,
    });
    expect(topValuesOfArrow(table, "n", 2).values).toEqual([
      { value: 3, count: 3 },
      { value: 1, count: 2 },
    ]);
    expect(() => topValuesOfArrow(table, "nope", 10)).toThrow(UnknownColumnError);
  });

  it("renders values as the preview cells do (a naive timestamp stays naive)", () => {
    const pickup = 1_601_510_940_000_000n;
    const table = new Table({ at: makeVector(makeData({ type: new TimestampMicrosecond(), length: 3, data: new BigInt64Array([pickup, pickup, pickup + 1_000_000n]) })) });
    expect(topValuesOfArrow(table, "at", 10).values).toEqual([
      { value: "2020-10-01 00:09:00", count: 2 },
      { value: "2020-10-01 00:09:01", count: 1 },
    ]);
  });

  it("stays bounded beyond the exact limit: no distinct count, but the frequent values keep their counts", () => {
    const rows = EXACT_DISTINCT_MAX_VALUES + 200_000;
    // Every 4th value is 7; the others are all different.
    const values = Int32Array.from({ length: rows }, (_, i) => (i % 4 === 0 ? 7 : i + 100));
    const top = topValuesOfArrow(new Table({ v: makeVector(values) }), "v", 3);
    expect(top.exact).toBe(false);
    expect(top.distinct).toBeNull();
    expect(top.values[0]).toEqual({ value: 7, count: rows / 4 });
  });

  describe("on the cleaned green-taxi output, Parquet (DuckDB) and Arrow alike", () => {
    let dir: string;
    let instance: DuckDBInstance;
    let connection: DuckDBConnection;
    let parquetFile: string;
    let arrow: Table;
    const parquet = new ParquetTopValues();

    beforeAll(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), "sluice-top-values-"));
      instance = await DuckDBInstance.create(":memory:");
      connection = await instance.connect();
      const csv = path.join(taxiDataDir(), "green_tripdata_2020-10.csv.gz").replaceAll("'", "''");
      await connection.run(
        `CREATE TABLE load_green_taxi AS SELECT *, '2020-10' AS source_month FROM read_csv('${csv}', header = true, timestampformat = '%Y-%m-%d %H:%M:%S', ` +
          `types = {'lpep_pickup_datetime': 'TIMESTAMP', 'lpep_dropoff_datetime': 'TIMESTAMP', 'ehail_fee': 'DOUBLE', 'store_and_fwd_flag': 'VARCHAR'})`,
      );
      const cleanSql = readFileSync(path.join(REPO_ROOT, "pipelines", "green_taxi_etl", "clean_trips.sql"), "utf8");
      await connection.run(`CREATE TABLE clean_trips AS ${cleanSql}`);
      parquetFile = path.join(dir, "clean_trips.parquet");
      await connection.run(`COPY clean_trips TO '${parquetFile.replaceAll("'", "''")}' (FORMAT parquet)`);
      const wasm = await import("parquet-wasm");
      arrow = tableFromIPC(wasm.readParquet(readFileSync(parquetFile)).intoIPCStream());
    });

    afterAll(async () => {
      parquet.close();
      connection?.closeSync();
      instance?.closeSync();
      await rm(dir, { recursive: true, force: true });
    });

    it.each(["pu_location_id", "payment_type", "store_and_fwd_flag", "lpep_pickup_datetime", "lpep_pickup_date", "trip_distance", "ehail_fee"])(
      "gives the same top 10 and exact distinct count for %s",
      async (column) => {
        const fromParquet = await parquet.topValues(parquetFile, column, 10);
        const quoted = `"${column}"`;
        const truth = (await connection.runAndReadAll(`SELECT count(DISTINCT ${quoted}), count(*) - count(${quoted}) FROM clean_trips`)).getRows()[0];
        expect(fromParquet.distinct).toBe(Number(truth[0]));
        expect(fromParquet.nulls).toBe(Number(truth[1]));
        expect(fromParquet.values.length).toBe(Math.min(10, Number(truth[0])));
        expect(topValuesOfArrow(arrow, column, 10)).toEqual(fromParquet);
      },
    );
  });
});
