#!/usr/bin/env node
// The near-limit path of the Zoomcamp module-2 homework, as a hand-written program with the project's own
// DuckDB (@duckdb/node-api) and psql: read the three monthly CSVs with explicit types, filter, rename and
// add the pickup date in SQL, write the lake with DuckDB's partitioned COPY, write a CSV and `psql \copy` it
// into an empty table of the same column types. `npm run bench homework` runs it beside `sluice run`.
//
// usage: node bench/homework-limit.cjs <data dir> <lake dir> <scratch dir> <postgres url> <schema>
const { spawnSync } = require("node:child_process");
const { performance } = require("node:perf_hooks");
const path = require("node:path");
const { DuckDBInstance } = require("@duckdb/node-api");

const [dataDir, lakeDir, scratchDir, pgUrl, schema] = process.argv.slice(2);
if (!schema) {
  console.error("usage: homework-limit.cjs <data dir> <lake dir> <scratch dir> <postgres url> <schema>");
  process.exit(2);
}

const COLUMNS = {
  VendorID: "INTEGER",
  lpep_pickup_datetime: "TIMESTAMP",
  lpep_dropoff_datetime: "TIMESTAMP",
  store_and_fwd_flag: "VARCHAR",
  RatecodeID: "INTEGER",
  PULocationID: "INTEGER",
  DOLocationID: "INTEGER",
  passenger_count: "INTEGER",
  trip_distance: "DOUBLE",
  fare_amount: "DOUBLE",
  extra: "DOUBLE",
  mta_tax: "DOUBLE",
  tip_amount: "DOUBLE",
  tolls_amount: "DOUBLE",
  ehail_fee: "DOUBLE",
  improvement_surcharge: "DOUBLE",
  total_amount: "DOUBLE",
  payment_type: "INTEGER",
  trip_type: "INTEGER",
  congestion_surcharge: "DOUBLE",
};
const lit = (text) => `'${String(text).replaceAll("'", "''")}'`;

async function main() {
  const files = ["2020-10", "2020-11", "2020-12"].map((m) => lit(path.join(dataDir, `green_tripdata_${m}.csv.gz`)));
  const columns = Object.entries(COLUMNS).map(([name, type]) => `${lit(name)}: ${lit(type)}`).join(", ");
  const db = await DuckDBInstance.create(":memory:");
  const con = await db.connect();
  await con.run(
    `CREATE TABLE clean AS SELECT VendorID AS vendor_id, lpep_pickup_datetime, lpep_dropoff_datetime,
       CAST(lpep_pickup_datetime AS DATE) AS lpep_pickup_date, store_and_fwd_flag, RatecodeID AS ratecode_id,
       PULocationID AS pu_location_id, DOLocationID AS do_location_id, passenger_count, trip_distance, fare_amount,
       extra, mta_tax, tip_amount, tolls_amount, ehail_fee, improvement_surcharge, total_amount, payment_type,
       trip_type, congestion_surcharge, regexp_extract(filename, '(\\d{4}-\\d{2})\\.csv', 1) AS source_month
     FROM read_csv([${files.join(", ")}], header = true, columns = {${columns}},
       timestampformat = '%Y-%m-%d %H:%M:%S', filename = true)
     WHERE passenger_count > 0 AND trip_distance > 0`,
  );
  await con.run(`COPY clean TO ${lit(lakeDir)} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (lpep_pickup_date), OVERWRITE_OR_IGNORE)`);
  const csv = path.join(scratchDir, "clean.csv");
  const postgresStarted = performance.now();
  await con.run(`COPY clean TO ${lit(csv)} (FORMAT csv, HEADER)`);
  con.closeSync();
  db.closeSync();
  const ddl =
    `CREATE SCHEMA IF NOT EXISTS "${schema}"; CREATE TABLE "${schema}".green_trips (vendor_id int4, lpep_pickup_datetime timestamp, ` +
    "lpep_dropoff_datetime timestamp, lpep_pickup_date date, store_and_fwd_flag text, ratecode_id int4, pu_location_id int4, do_location_id int4, " +
    "passenger_count int4, trip_distance float8, fare_amount float8, extra float8, mta_tax float8, tip_amount float8, tolls_amount float8, " +
    "ehail_fee float8, improvement_surcharge float8, total_amount float8, payment_type int4, trip_type int4, congestion_surcharge float8, source_month text)";
  const psql = spawnSync("psql", [pgUrl, "-v", "ON_ERROR_STOP=1", "-q", "-c", ddl, "-c", `\\copy "${schema}".green_trips FROM '${csv}' (FORMAT csv, HEADER)`], { stdio: "inherit" });
  if (psql.status !== 0) throw new Error(`psql exited with ${psql.status}`);
  // The Postgres leg (COPY … csv + psql \copy), for the bench to set beside Sluice's to_postgres block.
  console.log(JSON.stringify({ postgres_ms: Math.round(performance.now() - postgresStarted) }));
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
