/**
 * The same data stored either way a block's output can be (Arrow IPC for a TypeScript block, Parquet for a
 * SQL block) must preview identically: same column types, same values, character for character. Checked on
 * the real cleaned green-taxi output (`clean_trips` of the `green_taxi_etl` example over the October 2020
 * file), whose naive pickup/dropoff timestamps, all-null `ehail_fee` and doubles are what users look at.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { tableFromIPC, tableToIPC, type Table } from "apache-arrow";
import { REPO_ROOT, taxiDataDir } from "../../test/taxi-data";
import { OutputStore } from "./output-store";
import type { OutputPage } from "../core/output-types";

jest.setTimeout(120_000);

/** The loader's explicit CSV types (pipelines/green_taxi_etl/load_green_taxi.sql). */
const CSV_COLUMNS =
  "{'VendorID': 'INTEGER', 'lpep_pickup_datetime': 'TIMESTAMP', 'lpep_dropoff_datetime': 'TIMESTAMP', 'store_and_fwd_flag': 'VARCHAR', " +
  "'RatecodeID': 'INTEGER', 'PULocationID': 'INTEGER', 'DOLocationID': 'INTEGER', 'passenger_count': 'INTEGER', 'trip_distance': 'DOUBLE', " +
  "'fare_amount': 'DOUBLE', 'extra': 'DOUBLE', 'mta_tax': 'DOUBLE', 'tip_amount': 'DOUBLE', 'tolls_amount': 'DOUBLE', 'ehail_fee': 'DOUBLE', " +
  "'improvement_surcharge': 'DOUBLE', 'total_amount': 'DOUBLE', 'payment_type': 'INTEGER', 'trip_type': 'INTEGER', 'congestion_surcharge': 'DOUBLE'}";

/** Arrow as the SQL → TypeScript hand-off produces it: DuckDB's Parquet decoded by parquet-wasm. */
async function readArrowOf(parquetFile: string): Promise<Table> {
  const wasm = await import("parquet-wasm");
  return tableFromIPC(wasm.readParquet(readFileSync(parquetFile), { batchSize: 131_072 }).intoIPCStream());
}

describe("preview pages of the cleaned green-taxi output, Arrow vs Parquet", () => {
  let dir: string;
  let instance: DuckDBInstance;
  let connection: DuckDBConnection;
  let rows: number;
  const stores: OutputStore[] = [];
  const pages = new Map<string, (offset: number, limit: number) => Promise<OutputPage>>();

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "sluice-preview-parity-"));
    instance = await DuckDBInstance.create(":memory:");
    connection = await instance.connect();
    const csv = path.join(taxiDataDir(), "green_tripdata_2020-10.csv.gz");
    await connection.run(
      `CREATE TABLE load_green_taxi AS SELECT *, '2020-10' AS source_month FROM read_csv('${csv.replaceAll("'", "''")}', header = true, columns = ${CSV_COLUMNS}, timestampformat = '%Y-%m-%d %H:%M:%S')`,
    );
    const cleanSql = readFileSync(path.join(REPO_ROOT, "pipelines", "green_taxi_etl", "clean_trips.sql"), "utf8");
    await connection.run(`CREATE TABLE clean_trips AS ${cleanSql}`);
    rows = Number((await connection.runAndReadAll("SELECT count(*) FROM clean_trips")).getRows()[0][0]);

    // Both stores read pages as `sluice start` does; the second one never caches whole tables, so its Arrow
    // pages come from byte ranges of the file (page-reader.ts) instead of a decoded table.
    for (const [name, options] of [
      ["cached", {}],
      ["ranged", { wholeFileBytes: 0, cacheOnWrite: false, cacheBytes: 0 }],
    ] as const) {
      const store = new OutputStore(path.join(dir, name), options);
      stores.push(store);
      const temp = store.tempParquetPath("run1", "clean_trips");
      await connection.run(`COPY clean_trips TO '${temp.replaceAll("'", "''")}' (FORMAT parquet)`);
      const parquet = await store.commitParquet("run1", "clean_trips", temp, { rows, columns: [] });
      const table = await readArrowOf(parquet.ref.path);
      const arrow = await store.writeArrow("run1", "clean_trips_ts", tableToIPC(table, "stream"));
      pages.set(`${name}-parquet`, (offset, limit) => store.readPage(parquet.ref, offset, limit));
      pages.set(`${name}-arrow`, (offset, limit) => store.readPage(arrow.ref, offset, limit));
    }
  });

  afterAll(async () => {
    for (const store of stores) await store.close();
    connection?.closeSync();
    instance?.closeSync();
    await rm(dir, { recursive: true, force: true });
  });

  it("is the real cleaned output", () => {
    expect(rows).toBeGreaterThan(10_000);
  });

  it.each([0, 1234, -100])("serialises the page at offset %i identically from Arrow and from Parquet", async (at) => {
    const offset = at < 0 ? rows + at : at;
    const parquet = await pages.get("cached-parquet")!(offset, 100);
    expect(parquet.columns.length).toBeGreaterThanOrEqual(21);
    expect(parquet.rows).toHaveLength(100);
    for (const other of ["cached-arrow", "ranged-arrow", "ranged-parquet"]) {
      const page = await pages.get(other)!(offset, 100);
      expect(page.columns).toEqual(parquet.columns);
      expect(JSON.stringify(page.rows)).toBe(JSON.stringify(parquet.rows));
    }
  });

  it("shows the TLC's naive timestamps as they are written, with no zone", async () => {
    const { columns, rows: first } = await pages.get("cached-arrow")!(0, 100);
    expect(columns.find((c) => c.name === "lpep_pickup_datetime")?.type).toBe("Timestamp<MICROSECOND>");
    expect(columns.find((c) => c.name === "lpep_pickup_date")?.type).toBe("Date32<DAY>");
    for (const row of first) {
      expect(row.lpep_pickup_datetime).toMatch(/^2020-\d\d-\d\d \d\d:\d\d:\d\d$/);
      // The partition date is the reading's own date, not a UTC shift of it.
      expect(row.lpep_pickup_date).toBe(String(row.lpep_pickup_datetime).slice(0, 10));
      // ehail_fee is empty in every TLC row: null, not an empty string or 0.
      expect(row.ehail_fee).toBeNull();
    }
    // The file's first line: 2,2020-10-01 00:31:19,2020-10-01 00:34:55,N,1,7,7,1,.79,5,0.5,0.5,1.58,0,,0.3,7.88,1,1,0
    expect(first[0]).toMatchObject({
      vendor_id: 2,
      lpep_pickup_datetime: "2020-10-01 00:31:19",
      lpep_dropoff_datetime: "2020-10-01 00:34:55",
      lpep_pickup_date: "2020-10-01",
      store_and_fwd_flag: "N",
      trip_distance: 0.79,
      total_amount: 7.88,
      ehail_fee: null,
    });
  });
});
