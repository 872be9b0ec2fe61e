import { UserError } from "../../lib/core/errors";
import { readParquetFile } from "../../lib/arrow/parquet-arrow";
import { BigQueryConnector } from "../../lib/io/cloud/bigquery";
import { GcsConnector } from "../../lib/io/cloud/gcs";
import { LocalArrowWorkspace } from "../../lib/io/cloud/local-arrow";
import { startBigQueryServer, type BigQueryServer } from "../servers/bigquery-server";
import { startGcsServer, type GcsServer } from "../servers/gcs-server";
import { TAXI_CSV_GZ, TAXI_PARQUET, TAXI_ZONES } from "./object-connector-suite";
import { nativeBigQueryDeps } from "./native-modules";
import { differingRows, nullCounts, schemaOf } from "./table-compare";

// Real files through real clients and local servers: seconds each, minutes on a loaded CI machine.
jest.setTimeout(240_000);

let gcsServer: GcsServer;
let bqServer: BigQueryServer;
let gcs: GcsConnector;
let bq: BigQueryConnector;
let workspace: LocalArrowWorkspace;

beforeAll(async () => {
  gcsServer = await startGcsServer();
  // Small result pages so every read below follows pageToken several times.
  bqServer = await startBigQueryServer({ readGcsObject: gcsServer.readObject, listGcsObjects: gcsServer.listObjects, pageSize: 7_000 });
  gcs = new GcsConnector({ name: "lake", projectId: "local-project", apiEndpoint: gcsServer.url });
  bq = new BigQueryConnector({ name: "test", projectId: "local-project", location: "US", apiEndpoint: bqServer.url }, nativeBigQueryDeps());
  await gcs.storage.createBucket("lake");
  await gcs.uploadFile(TAXI_PARQUET, "gs://lake/raw/green_tripdata_2024-01.parquet");
  workspace = new LocalArrowWorkspace();
});

afterAll(async () => {
  await bq?.close();
  await gcs?.close();
  await workspace?.close();
  await bqServer?.close();
  await gcsServer?.close();
});

const TRIPS_2024_TYPES = {
  VendorID: "Int64",
  lpep_pickup_datetime: "Timestamp<MICROSECOND, UTC>",
  lpep_dropoff_datetime: "Timestamp<MICROSECOND, UTC>",
  store_and_fwd_flag: "Utf8",
  RatecodeID: "Int64",
  PULocationID: "Int64",
  DOLocationID: "Int64",
  passenger_count: "Int64",
  trip_distance: "Float64",
  fare_amount: "Float64",
  extra: "Float64",
  mta_tax: "Float64",
  tip_amount: "Float64",
  tolls_amount: "Float64",
  ehail_fee: "Float64",
  improvement_surcharge: "Float64",
  total_amount: "Float64",
  payment_type: "Int64",
  trip_type: "Int64",
  congestion_surcharge: "Float64",
};

describe("BigQuery connector against the local REST server", () => {
  test("creates a dataset once (get, then insert)", async () => {
    await bq.ensureDataset("trips");
    await bq.ensureDataset("trips");
    const [metadata] = await bq.client.dataset("trips").getMetadata();
    expect(metadata.datasetReference).toEqual({ projectId: "local-project", datasetId: "trips" });
  });

  test("loads the 2024-01 Parquet from GCS and SELECTs it back into Arrow with zero changed values", async () => {
    const local = await readParquetFile(TAXI_PARQUET);
    const load = await bq.loadFromGcs("gs://lake/raw/green_tripdata_2024-01.parquet", "trips.green_2024_01");
    expect(load).toMatchObject({ rows: 56_551, table: "trips.green_2024_01" });
    const [table] = await bq.client.dataset("trips").table("green_2024_01").getMetadata();
    expect(table.numRows).toBe("56551");
    expect(table.schema.fields.slice(0, 3)).toEqual([
      { name: "VendorID", type: "INTEGER", mode: "NULLABLE" },
      { name: "lpep_pickup_datetime", type: "TIMESTAMP", mode: "NULLABLE" },
      { name: "lpep_dropoff_datetime", type: "TIMESTAMP", mode: "NULLABLE" },
    ]);
    const progress: number[] = [];
    const back = await bq.read("SELECT * FROM `local-project.trips.green_2024_01`", { onProgress: (p) => progress.push(p.rows ?? 0) });
    expect(progress.length).toBe(Math.ceil(56_551 / 20_000));
    expect(back.numRows).toBe(56_551);
    expect(schemaOf(back)).toEqual(TRIPS_2024_TYPES);
    expect(nullCounts(back)).toEqual(nullCounts(local));
    expect(await differingRows(local, back)).toMatchObject({ missing: 0, extra: 0 });
    // The instants: naive Parquet timestamps are UTC wall-clock microseconds, and come back as the same numbers.
    const first = await bq.read("SELECT min(lpep_pickup_datetime) AS first_pickup, max(lpep_pickup_datetime) AS last_pickup FROM trips.green_2024_01");
    expect(first.getChild("first_pickup")?.get(0)).toBe(Date.UTC(2023, 11, 31, 14, 38, 47));
    expect(first.getChild("last_pickup")?.get(0)).toBe(Date.UTC(2024, 0, 31, 23, 57, 29));
    expect(bqServer.requests.get("POST jobs:load")).toBe(1);
    expect(bqServer.requests.get("GET queries")).toBeGreaterThanOrEqual(3);
  });

  test("write dispositions: truncate replaces, append adds, empty refuses; a partitioned dataset loads by wildcard", async () => {
    const local = await readParquetFile(TAXI_PARQUET);
    await gcs.write(local, "gs://lake/lake/green_2024_01/", { partitionBy: ["VendorID"] });
    const count = async () => Number((await bq.read("SELECT count(*) AS n FROM trips.dispositions")).getChild("n")?.get(0));
    await bq.loadFromGcs("gs://lake/lake/green_2024_01/*.parquet", "trips.dispositions", { mode: "replace" });
    expect(await count()).toBe(56_551);
    const appended = await bq.loadFromGcs("gs://lake/lake/green_2024_01/*.parquet", "trips.dispositions", { mode: "append" });
    expect(appended.rows).toBe(56_551);
    expect(await count()).toBe(113_102);
    await bq.loadFromGcs("gs://lake/raw/green_tripdata_2024-01.parquet", "trips.dispositions", { mode: "replace" });
    expect(await count()).toBe(56_551);
    await expect(bq.loadFromGcs("gs://lake/raw/green_tripdata_2024-01.parquet", "trips.dispositions", { mode: "fail" })).rejects.toThrow(
      /bigquery "test": .*Already Exists: Table local-project:trips\.dispositions/,
    );
    const back = await bq.read("SELECT * FROM trips.dispositions");
    expect(await differingRows(local, back)).toMatchObject({ missing: 0, extra: 0 });
  });

  test("loads the green 2020-10 CSV.gz from a local file (upload route) with zero changed values", async () => {
    const local = await workspace.readCsv(TAXI_CSV_GZ);
    const load = await bq.loadFromFile(TAXI_CSV_GZ, "trips.green_2020_10");
    expect(load.rows).toBe(95_120);
    expect(bqServer.requests.get("POST upload:multipart")).toBe(1);
    const back = await bq.read({ query: "SELECT * FROM green_2020_10", defaultDataset: "trips" });
    expect(back.numRows).toBe(95_120);
    expect(nullCounts(back)).toEqual(nullCounts(local));
    expect(back.getChild("ehail_fee")?.nullCount).toBe(95_120);
    expect(await differingRows(local, back)).toMatchObject({ missing: 0, extra: 0 });
  });

  test('keeps the zone lookup\'s "NA" and "N/A" as strings', async () => {
    await bq.loadFromFile(TAXI_ZONES, "trips.zones");
    const zones = await bq.read("SELECT * FROM trips.zones WHERE LocationID >= 264 ORDER BY LocationID");
    expect(zones.toArray().map((r) => r.toJSON())).toEqual([
      { LocationID: 264n, Borough: "Unknown", Zone: "NV", service_zone: "N/A" },
      { LocationID: 265n, Borough: "Unknown", Zone: "NA", service_zone: "N/A" },
    ]);
  });

  test("writes an Arrow table (Parquet + load job) and reads it back", async () => {
    const local = await workspace.readCsv(TAXI_ZONES);
    expect(await bq.write(local, "trips.zones_written", { mode: "replace" })).toEqual({ rows: 265, location: "bigquery://local-project/trips.zones_written" });
    const back = await bq.read("SELECT * FROM trips.zones_written");
    expect(await differingRows(local, back)).toMatchObject({ missing: 0, extra: 0 });
  });

  test("maps every scalar BigQuery type to Arrow faithfully", async () => {
    const t = await bq.read(
      `SELECT 9007199254740993::BIGINT AS big, 0.1::DOUBLE AS f, 'NaN'::DOUBLE AS nan, 'inf'::DOUBLE AS inf, 'x' AS s, TRUE AS b, NULL::BOOLEAN AS nb,
              DATE '1969-12-31' AS d, TIMESTAMPTZ '2024-01-01 00:00:00.123456+00' AS ts, TIMESTAMP '2024-01-01 12:34:56.5' AS dt,
              CAST('12345678901234567890123456789.123456789' AS DECIMAL(38,9)) AS n, NULL::BIGINT AS ni, '\\x01\\xff'::BLOB AS bytes`,
    );
    expect(schemaOf(t)).toEqual({
      big: "Int64",
      f: "Float64",
      nan: "Float64",
      inf: "Float64",
      s: "Utf8",
      b: "Bool",
      nb: "Bool",
      d: "Date32<DAY>",
      ts: "Timestamp<MICROSECOND, UTC>",
      dt: "Timestamp<MICROSECOND>",
      n: "Utf8",
      ni: "Int64",
      bytes: "Binary",
    });
    const row = t.get(0)?.toJSON();
    expect(row?.big).toBe(9007199254740993n);
    expect(row?.f).toBe(0.1);
    expect(row?.nan).toBeNaN();
    expect(row?.inf).toBe(Infinity);
    expect(row?.b).toBe(true);
    expect(row?.nb).toBeNull();
    expect(row?.d).toBe(Date.UTC(1969, 11, 31));
    expect(t.getChild("ts")?.data[0].values[0]).toBe(1_704_067_200_123_456n);
    expect(t.getChild("dt")?.data[0].values[0]).toBe(1_704_112_496_500_000n);
    expect(row?.n).toBe("12345678901234567890123456789.123456789");
    expect(row?.ni).toBeNull();
    expect([...(row?.bytes ?? [])]).toEqual([1, 255]);
  });

  test("bad input: a missing dataset, a missing object, bad SQL, a bad table name", async () => {
    const userError = async (promise: Promise<unknown>, message: string | RegExp) => {
      const error: unknown = await promise.then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(UserError);
      expect(error instanceof Error ? error.message : "").toMatch(message);
    };
    await userError(
      bq.loadFromGcs("gs://lake/raw/green_tripdata_2024-01.parquet", "nodataset.t"),
      'bigquery "test": cannot load gs://lake/raw/green_tripdata_2024-01.parquet into nodataset.t: not found (Not found: Dataset local-project:nodataset)',
    );
    await userError(
      bq.loadFromGcs("gs://lake/raw/missing.parquet", "trips.t"),
      'bigquery "test": cannot load gs://lake/raw/missing.parquet into trips.t: not found (Not found: URI gs://lake/raw/missing.parquet)',
    );
    await userError(bq.read("SELECT * FROM trips.no_such_table"), /^bigquery "test": cannot run query "SELECT \* FROM trips\.no_such_table": not found \(.*no_such_table/);
    await userError(bq.read("SELEC oops"), 'bigquery "test": cannot run query "SELEC oops": invalidQuery (Parser Error: syntax error at or near "SELEC"');
    await userError(bq.loadFromFile(TAXI_ZONES, "no-dots"), 'bigquery "test": "no-dots" is not a dataset.table name');
  });
});
