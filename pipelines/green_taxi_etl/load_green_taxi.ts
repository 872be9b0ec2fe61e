import { createWriteStream } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import type { Table } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";
import { tripSlice } from "./trip_slice";

/** Explicit column types (as in the Zoomcamp's pandas dtype map): no guessing, and a bad value fails loudly. */
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

const sqlString = (text: string) => `'${text.replaceAll("'", "''")}'`;

/**
 * Loads the monthly green taxi CSV.gz files of the run's slice (trip_slice.ts: the data interval's days, or
 * `year`/`months` for a run without one): downloaded (streamed to disk with progress) or read from a local
 * copy. Each row keeps the month of the file it came from (`source_month`), which the exporters replace by.
 */
export default async function load(ctx: BlockContext): Promise<Table> {
  const base = String(ctx.variables.base_url).replace(/\/+$/, "");
  const slice = tripSlice(ctx);
  const files: string[] = [];
  for (const month of slice.months) files.push(await localFile(`${base}/green_tripdata_${month}.csv.gz`, ctx));
  const columns = Object.entries(COLUMNS)
    .map(([name, type]) => `${sqlString(name)}: ${sqlString(type)}`)
    .join(", ");
  const table = await ctx.sql(
    `SELECT *, regexp_extract(filename, '(\\d{4}-\\d{2})\\.csv', 1) AS source_month ` +
      `FROM read_csv([${files.map(sqlString).join(", ")}], header = true, columns = {${columns}}, ` +
      `timestampformat = '%Y-%m-%d %H:%M:%S', filename = true)` +
      (slice.days ? " WHERE lpep_pickup_datetime >= CAST($1 AS TIMESTAMP) AND lpep_pickup_datetime < CAST($2 AS TIMESTAMP)" : ""),
    slice.days ? [slice.days.from, slice.days.to] : [],
  );
  const perFile = new Map<string, number>();
  const names = table.getChild("filename");
  for (let i = 0; i < table.numRows; i++) {
    const file = path.basename(String(names?.get(i)));
    perFile.set(file, (perFile.get(file) ?? 0) + 1);
  }
  for (const [file, rows] of perFile) ctx.log.info(`${file}: ${rows.toLocaleString("en-US")} rows`);
  const kept = slice.days ? ` picked up in [${slice.days.from}, ${slice.days.to})` : "";
  ctx.log.info(`loaded ${table.numRows.toLocaleString("en-US")} rows${kept} from ${files.length} files`);
  return table.select([...Object.keys(COLUMNS), "source_month"]);
}

/** A path DuckDB can read: local paths and file:// URLs as they are, http(s) streamed to a temp file. */
async function localFile(url: string, ctx: BlockContext): Promise<string> {
  if (url.startsWith("file://")) return fileURLToPath(url);
  if (!/^https?:\/\//.test(url)) return path.resolve(url);
  const response = await fetch(url, { signal: ctx.signal });
  if (!response.ok || !response.body) throw new Error(`GET ${url}: HTTP ${response.status} ${response.statusText}`);
  const total = Number(response.headers.get("content-length") ?? 0) || undefined;
  const dir = await mkdtemp(path.join(os.tmpdir(), "sluice-green-"));
  const target = path.join(dir, path.basename(new URL(url).pathname));
  let bytes = 0;
  let reported = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      if (bytes - reported > 1 << 20) {
        reported = bytes;
        ctx.progress({ bytes, totalBytes: total, message: path.basename(target) });
      }
      callback(null, chunk);
    },
  });
  await pipeline(Readable.fromWeb(response.body as import("node:stream/web").ReadableStream), counter, createWriteStream(target));
  ctx.progress({ bytes, totalBytes: total, message: path.basename(target) });
  ctx.log.info(`downloaded ${url} (${bytes.toLocaleString("en-US")} bytes)`);
  return target;
}

export async function test(output: Table) {
  if (output.numRows === 0) throw new Error("no trips loaded");
  if (output.schema.fields.length !== Object.keys(COLUMNS).length + 1) throw new Error("unexpected column count");
}
