import { execFile } from "node:child_process";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { createGunzip } from "node:zlib";
import pg from "pg";
import type { RecordBatch, Table } from "apache-arrow";
import { taxiDataDir } from "../test/taxi-data";
import { columnsSql, GREEN_CSV_COLUMNS } from "../lib/io/connector-contract";
import { openDuckDB, queryToArrow, queryToArrowStream } from "../lib/io/duckdb-session";
import { FilesConnector } from "../lib/io/files";
import { PostgresConnector, quotePgIdentifier } from "../lib/io/postgres";
import { planPgColumn } from "../lib/arrow/pg-binary-encode";
import { mb, ms, rssSampler, type BenchRow } from "./report";

const PG_URL = "postgres://postgres@127.0.0.1:5432/test";
const run = promisify(execFile);
const rate = (rows: number, millis: number) => `${Math.round(rows / (millis / 1000)).toLocaleString("en-US")} rows/s`;
const sqlString = (text: string) => `'${text.replaceAll("'", "''")}'`;

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; millis: number }> {
  const started = performance.now();
  const value = await work();
  return { value, millis: performance.now() - started };
}

async function gunzipTo(files: string[], out: string): Promise<void> {
  // Header of the first file only, like `\copy … CSV HEADER` of one file.
  const { execSync } = await import("node:child_process");
  execSync(`(zcat ${sqlString(files[0])} | head -1; ${files.map((f) => `zcat ${sqlString(f)} | tail -n +2`).join("; ")}) > ${sqlString(out)}`, { shell: "/bin/bash" });
}

/** `psql \copy` of a CSV into a fresh table with the same column types as the Arrow table; returns ms. */
async function psqlCopy(client: pg.Client, schema: string, table: Table, csv: string): Promise<number> {
  const columns = table.schema.fields.map((f) => `${quotePgIdentifier(f.name)} ${planPgColumn(f).pgType}`).join(", ");
  await client.query(`DROP TABLE IF EXISTS ${schema}.psql_copy; CREATE TABLE ${schema}.psql_copy (${columns})`);
  const started = performance.now();
  await run("/usr/bin/psql", [PG_URL, "-v", "ON_ERROR_STOP=1", "-c", `\\copy ${schema}.psql_copy FROM ${sqlString(csv)} WITH (FORMAT csv, HEADER)`]);
  return performance.now() - started;
}

/**
 * Connector throughput (target: ≥ 1.5× `psql \copy` of the same CSV): CSV.gz → Postgres through DuckDB's CSV reader and
 * binary COPY from Arrow, beside `psql \copy` of the same decompressed CSV; the Parquet lake beside DuckDB's
 * own COPY … PARTITION_BY and read_parquet.
 */
export async function benchConnectors(): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), "sluice-bench-io-"));
  const schema = `sluice_bench_${process.pid}`;
  const client = new pg.Client(PG_URL);
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
  const postgres = new PostgresConnector({ url: PG_URL, schema });
  const session = await openDuckDB();
  const rows: BenchRow[] = [];
  try {
    // --- 1. the three green 2020 files --------------------------------------------------------------
    const greenFiles = [10, 11, 12].map((m) => join(taxiDataDir(), `green_tripdata_2020-${m}.csv.gz`));
    const readGreen = `SELECT * FROM read_csv([${greenFiles.map(sqlString).join(", ")}], header = true, auto_detect = false, delim = ',', quote = '"', escape = '"', columns = ${columnsSql(GREEN_CSV_COLUMNS)}, timestampformat = '%Y-%m-%d %H:%M:%S')`;
    await queryToArrow(session.connection, readGreen); // warm DuckDB and parquet-wasm
    const green = await timed(async () => {
      const table = await queryToArrow(session.connection, readGreen);
      const parsedAt = performance.now();
      await postgres.write(table, "green", { mode: "replace" });
      return { table, copyMillis: performance.now() - parsedAt };
    });
    // The same load as a stream: DuckDB parses file k+1 (on its own threads) while file k is encoded and copied.
    const perFile = (file: string) => readGreen.replace(/read_csv\(\[[^\]]*\]/, `read_csv([${sqlString(file)}]`);
    const pipelined = await timed(async () => {
      async function* batches(): AsyncGenerator<RecordBatch> {
        let next = queryToArrow(session.connection, perFile(greenFiles[0]));
        for (let i = 0; i < greenFiles.length; i++) {
          const table = await next;
          if (i + 1 < greenFiles.length) next = queryToArrow(session.connection, perFile(greenFiles[i + 1]));
          yield* table.batches;
        }
      }
      return postgres.write(batches(), "green_stream", { mode: "replace" });
    });
    // One streaming query: batches go to COPY while DuckDB is still parsing (queryToArrowStream).
    const streamed = await timed(() => postgres.write(queryToArrowStream(session.connection, readGreen), "green_streamed", { mode: "replace" }));
    if (pipelined.value.rows !== green.value.table.numRows) throw new Error(`pipelined load wrote ${pipelined.value.rows} rows`);
    if (streamed.value.rows !== green.value.table.numRows) throw new Error(`streamed load wrote ${streamed.value.rows} rows`);
    const greenCsv = join(dir, "green.csv");
    await gunzipTo(greenFiles, greenCsv);
    const greenPsql = await psqlCopy(client, schema, green.value.table, greenCsv);
    const n = green.value.table.numRows;
    rows.push(
      { bench: `CSV.gz → Postgres (3 green files, ${n.toLocaleString("en-US")} rows)`, metric: "end to end: parse CSV.gz + binary COPY", value: `${rate(n, green.millis)} (${ms(green.millis)})`, baseline: `${rate(n, greenPsql)} psql \\copy of the decompressed CSV (${(greenPsql / green.millis).toFixed(2)}× psql)`, target: "≥ 1.5× psql" },
      { bench: `CSV.gz → Postgres (3 green files, ${n.toLocaleString("en-US")} rows)`, metric: "end to end, pipelined per file (stream of batches)", value: `${rate(n, pipelined.millis)} (${ms(pipelined.millis)})`, baseline: `${(greenPsql / pipelined.millis).toFixed(2)}× psql`, target: "≥ 1.5× psql" },
      { bench: `CSV.gz → Postgres (3 green files, ${n.toLocaleString("en-US")} rows)`, metric: "end to end, streamed (COPY while DuckDB parses)", value: `${rate(n, streamed.millis)} (${ms(streamed.millis)})`, baseline: `${(greenPsql / streamed.millis).toFixed(2)}× psql`, target: "≥ 1.5× psql" },
      { bench: `CSV.gz → Postgres (3 green files, ${n.toLocaleString("en-US")} rows)`, metric: "binary COPY from Arrow only", value: `${rate(n, green.value.copyMillis)} (${ms(green.value.copyMillis)})`, baseline: `${(greenPsql / green.value.copyMillis).toFixed(2)}× psql`, target: "" },
    );

    // --- 2. a generated 1M-row CSV.gz ---------------------------------------------------------------
    const million = 1_000_000;
    const genGz = join(dir, "generated.csv.gz");
    await session.connection.run(
      `COPY (SELECT (i % 3)::INTEGER AS vendor_id, TIMESTAMP '2020-10-01' + INTERVAL (i * 7) SECOND AS pickup, TIMESTAMP '2020-10-01' + INTERVAL (i * 7 + 600) SECOND AS dropoff, ` +
        `CASE WHEN i % 10 = 0 THEN NULL ELSE (i % 6)::INTEGER END AS passenger_count, (i % 997) / 37.0 AS trip_distance, (i % 5000) / 100.0 AS fare_amount, ` +
        `CASE WHEN i % 7 = 0 THEN NULL ELSE 'zone-' || (i % 265)::VARCHAR END AS zone, (i % 265)::INTEGER AS pu_location, i::BIGINT AS trip_id, (i % 2 = 0) AS flag ` +
        `FROM range(${million}) t(i)) TO ${sqlString(genGz)} (FORMAT csv, HEADER)`,
    );
    const genColumns = {
      vendor_id: "INTEGER",
      pickup: "TIMESTAMP",
      dropoff: "TIMESTAMP",
      passenger_count: "INTEGER",
      trip_distance: "DOUBLE",
      fare_amount: "DOUBLE",
      zone: "VARCHAR",
      pu_location: "INTEGER",
      trip_id: "BIGINT",
      flag: "BOOLEAN",
    };
    const readGen = `SELECT * FROM read_csv(${sqlString(genGz)}, header = true, auto_detect = false, delim = ',', quote = '"', escape = '"', columns = ${columnsSql(genColumns)})`;
    const rss = rssSampler();
    const gen = await timed(async () => {
      const table = await queryToArrow(session.connection, readGen);
      const parsedAt = performance.now();
      await postgres.write(table, "generated", { mode: "replace" });
      return { table, copyMillis: performance.now() - parsedAt };
    });
    const peak = rss.stop();
    const genStreamed = await timed(() => postgres.write(queryToArrowStream(session.connection, readGen), "generated_stream", { mode: "replace" }));
    if (genStreamed.value.rows !== million) throw new Error(`streamed load wrote ${genStreamed.value.rows} rows`);
    const genCsv = join(dir, "generated.csv");
    await pipeline(createReadStream(genGz), createGunzip(), createWriteStream(genCsv));
    const genPsql = await psqlCopy(client, schema, gen.value.table, genCsv);
    rows.push(
      { bench: "CSV.gz → Postgres (generated, 1,000,000 rows × 10 cols)", metric: "end to end: parse CSV.gz + binary COPY", value: `${rate(million, gen.millis)} (${ms(gen.millis)})`, baseline: `${rate(million, genPsql)} psql \\copy of the decompressed CSV (${(genPsql / gen.millis).toFixed(2)}× psql)`, target: "≥ 1.5× psql" },
      { bench: "CSV.gz → Postgres (generated, 1,000,000 rows × 10 cols)", metric: "end to end, streamed (COPY while DuckDB parses)", value: `${rate(million, genStreamed.millis)} (${ms(genStreamed.millis)})`, baseline: `${(genPsql / genStreamed.millis).toFixed(2)}× psql`, target: "≥ 1.5× psql" },
      { bench: "CSV.gz → Postgres (generated, 1,000,000 rows × 10 cols)", metric: "binary COPY from Arrow only", value: `${rate(million, gen.value.copyMillis)} (${ms(gen.value.copyMillis)})`, baseline: `${(genPsql / gen.value.copyMillis).toFixed(2)}× psql`, target: "" },
      { bench: "CSV.gz → Postgres (generated, 1,000,000 rows × 10 cols)", metric: "peak RSS of the process", value: mb(peak), baseline: "", target: "" },
    );

    // --- 3. the Parquet lake ------------------------------------------------------------------------
    const files = new FilesConnector({ root: dir });
    const table = gen.value.table;
    await session.connection.run(`CREATE TABLE lake_src AS ${readGen}`);
    await session.connection.run(`CREATE TABLE lake_src_p AS SELECT *, (i % 30)::INTEGER AS part FROM (SELECT *, row_number() OVER () AS i FROM lake_src)`);
    const withPart = await queryToArrow(session.connection, "SELECT * EXCLUDE (i) FROM lake_src_p");
    const write = await timed(() => files.write(withPart, "lake", { partitionBy: ["part"], mode: "replace" }));
    const duckWrite = await timed(() => session.connection.run(`COPY (SELECT * EXCLUDE (i) FROM lake_src_p) TO ${sqlString(join(dir, "lake_duck"))} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (part), OVERWRITE_OR_IGNORE)`));
    const lakeBytes = await dirBytes(join(dir, "lake"));
    const read = await timed(() => files.read({ path: "lake", columns: { part: "INTEGER" } }));
    const duckRead = await timed(() => session.connection.run(`CREATE TABLE lake_back AS SELECT * FROM read_parquet(${sqlString(join(dir, "lake", "**", "*.parquet"))}, hive_partitioning = true)`));
    if (read.value.numRows !== table.numRows) throw new Error(`lake read ${read.value.numRows} rows, wrote ${table.numRows}`);
    rows.push(
      { bench: `Parquet lake (1,000,000 rows, 30 hive partitions, ${mb(lakeBytes)} zstd)`, metric: "write Arrow → partitioned Parquet (atomic)", value: `${rate(million, write.millis)} (${ms(write.millis)})`, baseline: `${ms(duckWrite.millis)} DuckDB COPY … PARTITION_BY of a DuckDB table`, target: "" },
      { bench: `Parquet lake (1,000,000 rows, 30 hive partitions, ${mb(lakeBytes)} zstd)`, metric: "read partitioned Parquet → Arrow", value: `${rate(million, read.millis)} (${ms(read.millis)})`, baseline: `${ms(duckRead.millis)} DuckDB read_parquet into a DuckDB table`, target: "" },
    );
    return rows;
  } finally {
    session.close();
    await postgres.close();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
    await rm(dir, { recursive: true, force: true });
  }
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}
