/**
 * Measures the Arrow ↔ DuckDB hand-offs a SQL block over a TypeScript upstream pays (target:
 * ≤ 2× DuckDB reading the same data from Parquet natively), on 1M rows × 20 NYC-taxi-like columns.
 * Prints numbers; asserts nothing about time. Checks every variant loads exactly the same values.
 *
 *   node bin/run-ts.cjs lib/arrow/bench-arrow-duckdb.ts [rows] [rounds]
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { tableFromIPC, tableToIPC, type Table } from "apache-arrow";
import { arrowToDuckDB } from "./arrow-to-duckdb";
import { copyQueryToParquet } from "./duckdb-to-arrow";
import { ipcToParquet, parquetToIPC } from "./parquet-arrow";
import { quoteLiteral } from "./sql-text";

const ROWS = Number(process.argv[2] ?? 1_000_000);
const ROUNDS = Number(process.argv[3] ?? 5);

const SOURCE_SQL = `
SELECT
  CASE WHEN i % 50 = 0 THEN NULL ELSE (i % 2 + 1)::INTEGER END AS vendor_id,
  TIMESTAMP '2020-10-01 00:00:00' + to_seconds(i) AS lpep_pickup_datetime,
  TIMESTAMP '2020-10-01 00:10:00' + to_seconds(i) + to_microseconds(i % 1000) AS lpep_dropoff_datetime,
  CASE WHEN i % 50 = 0 THEN NULL WHEN i % 7 = 0 THEN 'Y' ELSE 'N' END AS store_and_fwd_flag,
  CASE WHEN i % 50 = 0 THEN NULL ELSE (i % 6)::BIGINT END AS ratecode_id,
  (i % 265 + 1)::INTEGER AS pu_location_id,
  ((i * 7) % 265 + 1)::INTEGER AS do_location_id,
  CASE WHEN i % 50 = 0 THEN NULL ELSE (i % 5)::DOUBLE END AS passenger_count,
  (i % 1000) / 100.0 AS trip_distance,
  (i % 5000) / 100.0 AS fare_amount,
  (i % 3) * 0.5 AS extra,
  0.5::DOUBLE AS mta_tax,
  (i % 700) / 100.0 AS tip_amount,
  CASE WHEN i % 9 = 0 THEN 6.12 ELSE 0 END::DOUBLE AS tolls_amount,
  NULL::DOUBLE AS ehail_fee,
  0.3::DOUBLE AS improvement_surcharge,
  (i % 9000) / 100.0 AS total_amount,
  CASE WHEN i % 50 = 0 THEN NULL ELSE (i % 5 + 1)::BIGINT END AS payment_type,
  DATE '2020-10-01' + (i % 92)::INTEGER AS pickup_date,
  CASE WHEN i % 50 = 0 THEN NULL ELSE 'Zone ' || (i % 265) || CASE WHEN i % 4 = 0 THEN ' / East Harlem North' ELSE '' END END AS pu_zone
FROM range(${ROWS}) t(i)`;

interface Variant {
  label: string;
  run: (round: number) => Promise<void>;
  /** Untimed, after each run: value checks on the first round, DROP TABLE so tables do not pile up. */
  after?: (round: number) => Promise<void>;
}

/**
 * Runs every variant once per round, interleaved, for ROUNDS rounds, and prints each variant's median and
 * its median ratio to the first variant (the baseline) within the same round: on a shared machine the
 * load changes from second to second, and interleaving keeps the comparison fair.
 */
async function compare(title: string, variants: Variant[]): Promise<Map<string, { median: number; ratio: number }>> {
  const times = variants.map(() => [] as number[]);
  for (let round = 0; round < ROUNDS; round++) {
    for (let v = 0; v < variants.length; v++) {
      const start = performance.now();
      await variants[v].run(round);
      times[v].push(performance.now() - start);
      await variants[v].after?.(round);
    }
  }
  const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  console.log(title);
  const result = new Map<string, { median: number; ratio: number }>();
  variants.forEach((variant, v) => {
    const ratio = median(times[v].map((t, round) => t / times[0][round]));
    result.set(variant.label, { median: median(times[v]), ratio });
    console.log(
      `  ${variant.label.padEnd(72)} ${median(times[v]).toFixed(0).padStart(6)} ms  ${v === 0 ? "  (baseline)" : `${ratio.toFixed(2)}× baseline`}   runs: ${times[v].map((t) => t.toFixed(0)).join(", ")}`,
    );
  });
  return result;
}

async function assertSame(connection: DuckDBConnection, a: string, b: string): Promise<void> {
  const reader = await connection.runAndReadAll(
    `SELECT (SELECT count(*) FROM (SELECT * FROM ${a} EXCEPT ALL SELECT * FROM ${b})) + (SELECT count(*) FROM (SELECT * FROM ${b} EXCEPT ALL SELECT * FROM ${a})) AS diff, (SELECT count(*) FROM ${b}) AS n`,
  );
  const [diff, n] = reader.getRows()[0];
  if (Number(diff) !== 0 || Number(n) !== ROWS) throw new Error(`${b} differs from ${a}: ${String(diff)} rows differ, ${String(n)} rows`);
}

function toShared(bytes: Uint8Array): Uint8Array {
  const shared = new Uint8Array(new SharedArrayBuffer(bytes.byteLength));
  shared.set(bytes);
  return shared;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "sluice-bench-"));
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    await connection.run(`CREATE TABLE src AS ${SOURCE_SQL}`);
    const snappyPath = join(dir, "src-snappy.parquet");
    const plainPath = join(dir, "src-uncompressed.parquet");
    await connection.run(`COPY src TO ${quoteLiteral(snappyPath)} (FORMAT parquet)`);
    await connection.run(`COPY src TO ${quoteLiteral(plainPath)} (FORMAT parquet, COMPRESSION uncompressed)`);
    const ipc = await parquetToIPC(readFileSync(plainPath));
    const sharedIpc = toShared(tableToIPC(tableFromIPC(ipc), "stream"));
    const table: Table = tableFromIPC(sharedIpc);
    console.log(`${ROWS} rows × ${table.schema.fields.length} columns; Arrow IPC ${(sharedIpc.byteLength / 1e6).toFixed(0)} MB; Parquet snappy ${(statSync(snappyPath).size / 1e6).toFixed(0)} MB, uncompressed ${(statSync(plainPath).size / 1e6).toFixed(0)} MB`);
    console.log(`schema: ${table.schema.fields.map((f) => `${f.name}:${String(f.type)}`).join(", ")}`);
    console.log("");
    const drop = (name: string) => async () => {
      await connection.run(`DROP TABLE ${name}`);
    };
    const checkAndDrop = (name: string) => async (round: number) => {
      if (round === 0) await assertSame(connection, "src", name);
      await drop(name)();
    };

    await compare("Arrow → DuckDB table (a SQL block over a TypeScript upstream)", [
      {
        label: "baseline: CREATE TABLE AS SELECT * FROM read_parquet (DuckDB's snappy file)",
        run: () => connection.run(`CREATE TABLE base AS SELECT * FROM read_parquet(${quoteLiteral(snappyPath)})`).then(() => undefined),
        after: drop("base"),
      },
      {
        label: "baseline: same, uncompressed file",
        run: () => connection.run(`CREATE TABLE baseu AS SELECT * FROM read_parquet(${quoteLiteral(plainPath)})`).then(() => undefined),
        after: drop("baseu"),
      },
      {
        label: "arrowToDuckDB: Arrow buffers → DataChunks → table-function scan (used)",
        run: async () => {
          await arrowToDuckDB(connection, "chunks", tableFromIPC(sharedIpc));
        },
        after: checkAndDrop("chunks"),
      },
      {
        label: "arrowToDuckDB: Arrow buffers → DataChunks → Appender",
        run: async () => {
          await arrowToDuckDB(connection, "appended", tableFromIPC(sharedIpc), { method: "appender" });
        },
        after: checkAndDrop("appended"),
      },
      {
        label: "parquet-wasm writeParquet (uncompressed) + write file + read_parquet",
        run: async (round) => {
          const path = join(dir, `wasm-${round}.parquet`);
          writeFileSync(path, await ipcToParquet(ipc));
          await connection.run(`CREATE TABLE wasm AS SELECT * FROM read_parquet(${quoteLiteral(path)})`);
        },
        after: checkAndDrop("wasm"),
      },
    ]);

    console.log("");
    let back: Table | null = null;
    await compare("DuckDB table → apache-arrow Table (a TypeScript block over a SQL upstream, ctx.sql)", [
      {
        label: "baseline: CREATE TABLE AS SELECT * FROM read_parquet (DuckDB's snappy file)",
        run: () => connection.run(`CREATE TABLE base AS SELECT * FROM read_parquet(${quoteLiteral(snappyPath)})`).then(() => undefined),
        after: drop("base"),
      },
      {
        label: "COPY TO parquet (uncompressed) + readParquet(batchSize 131072) + tableFromIPC",
        run: async (round) => {
          const path = join(dir, `out-${round}.parquet`);
          await copyQueryToParquet(connection, "SELECT * FROM src", [], path);
          back = tableFromIPC(await parquetToIPC(readFileSync(path)));
        },
      },
      {
        label: "COPY TO parquet (snappy) + readParquet(batchSize 131072) + tableFromIPC",
        run: async (round) => {
          const path = join(dir, `outs-${round}.parquet`);
          await copyQueryToParquet(connection, "SELECT * FROM src", [], path, "snappy");
          tableFromIPC(await parquetToIPC(readFileSync(path)));
        },
      },
      {
        label: "  of which COPY TO parquet (uncompressed) alone",
        run: (round) => copyQueryToParquet(connection, "SELECT * FROM src", [], join(dir, `only-${round}.parquet`)),
      },
    ]);
    if (back === null) throw new Error("no table");
    const roundTrip: Table = back;
    await arrowToDuckDB(connection, "round_trip", roundTrip, { replace: true });
    await assertSame(connection, "src", "round_trip");
    console.log(`  round trip types: ${roundTrip.schema.fields.map((f) => String(f.type)).join(", ")}`);
    console.log(`  peak RSS of this process: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
    console.log("");
    console.log("all variants load identical values (EXCEPT ALL both ways = 0 rows)");
  } finally {
    connection.closeSync();
    instance.closeSync();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
