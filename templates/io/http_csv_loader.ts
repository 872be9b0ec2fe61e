/**
 * Loader: a CSV or CSV.gz file from the web (here: NYC green taxi, the Zoomcamp's source), streamed to disk
 * with progress and retries, parsed by DuckDB with explicit column types — no guessing, a bad value fails
 * loudly with its line. Profile (optional, for headers/base URL): `connections: { web: { kind: http } }`.
 * Variables: `url` (or `base_url` + `year` + `month`).
 * @sluice expects: nothing — a loader has no upstream.
 */
import type { Table } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";

/** Column name → DuckDB type, in file order. Delete the map to let DuckDB detect types. */
const COLUMNS: Record<string, string> = {
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

export default async function load(ctx: BlockContext): Promise<Table> {
  const base = String(ctx.variables.base_url ?? "https://github.com/DataTalksClub/nyc-tlc-data/releases/download/green");
  const year = Number(ctx.variables.year ?? 2020);
  const month = String(ctx.variables.month ?? 10).padStart(2, "0");
  const url = String(ctx.variables.url ?? `${base}/green_tripdata_${year}-${month}.csv.gz`);
  const table = await ctx.io.http.read({ url, columns: COLUMNS, timestampFormat: "%Y-%m-%d %H:%M:%S" });
  ctx.log.info(`loaded ${table.numRows} rows`);
  return table;
}

export async function test(output: Table): Promise<void> {
  if (output.numRows === 0) throw new Error("the file had no rows");
}
