import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { createServices } from "../lib/server/services";
import { REPO_ROOT, taxiDataDir } from "../test/taxi-data";
import { ms, type BenchRow } from "./report";

/** green_taxi_etl end to end on the local files, split per block; baseline: DuckDB alone reading the same CSVs. */
export async function benchGreenTaxi(): Promise<BenchRow[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-bench-taxi-"));
  fs.cpSync(path.join(REPO_ROOT, "pipelines", "green_taxi_etl"), path.join(dir, "pipelines", "green_taxi_etl"), { recursive: true });
  const services = await createServices({ projectDir: dir });
  try {
    const variables = { base_url: pathToFileURL(taxiDataDir()).href, lake_dir: path.join(dir, "lake") };
    await services.runner.run({ pipeline: "green_taxi_etl", variables }); // warm: compile cache, DuckDB load
    const started = performance.now();
    const outcome = await services.runner.run({ pipeline: "green_taxi_etl", variables });
    const wall = performance.now() - started;
    if (outcome.state !== "success") throw new Error(`green_taxi_etl ${outcome.state}: ${JSON.stringify(outcome.blocks)}`);

    const { DuckDBInstance } = await import("@duckdb/node-api");
    const db = await DuckDBInstance.create(":memory:");
    const connection = await db.connect();
    const files = [10, 11, 12].map((m) => `'${path.join(taxiDataDir(), `green_tripdata_2020-${m}.csv.gz`)}'`).join(",");
    const baselineStart = performance.now();
    await connection.run(`CREATE TABLE t AS SELECT * FROM read_csv([${files}], header = true)`);
    const baseline = performance.now() - baselineStart;
    connection.closeSync();

    return [
      ...outcome.blocks.map((b) => ({
        bench: "green_taxi_etl (3 files, 266,855 rows)",
        metric: `block ${b.name} (${(b.rows ?? 0).toLocaleString("en-US")} rows)`,
        value: ms(b.durationMs ?? 0),
        baseline: b.name === "load_green_taxi" ? `${ms(baseline)} (DuckDB read_csv alone)` : "",
        target: "",
      })),
      { bench: "green_taxi_etl (3 files, 266,855 rows)", metric: "whole run, wall", value: ms(wall), baseline: "", target: "" },
    ];
  } finally {
    await services.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
