import fs from "node:fs";
import path from "node:path";

/**
 * The real NYC TLC files tests and benchmarks read. They live in the repository (test/data/nyc-taxi, with
 * their provenance in its README) so that a clone in any folder passes its tests; SLUICE_TAXI_DATA points
 * elsewhere, e.g. at a folder holding larger copies for a benchmark.
 */
export function taxiDataDir(): string {
  const dir = process.env.SLUICE_TAXI_DATA ?? path.resolve(__dirname, "data", "nyc-taxi");
  if (!fs.existsSync(path.join(dir, "green_tripdata_2020-10.csv.gz"))) {
    throw new Error(`NYC taxi files not found in ${dir}: set SLUICE_TAXI_DATA to the folder holding green_tripdata_2020-10.csv.gz`);
  }
  return dir;
}

export const REPO_ROOT = path.resolve(__dirname, "..");
