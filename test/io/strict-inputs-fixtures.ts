/**
 * Bad copies of the real NYC taxi files, made in a temp folder for the strict-inputs tests. Every damage is
 * one a user meets: an interrupted download, a hand-edited row, a stray text value, a Parquet file cut short.
 */
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { taxiDataDir } from "../taxi-data";

export const GREEN_GZ = path.join(taxiDataDir(), "green_tripdata_2020-10.csv.gz");
export const GREEN_PARQUET = path.join(taxiDataDir(), "green_tripdata_2024-01.parquet");

/** The physical lines of the green 2020-10 file (header first), without the final empty string. */
export function greenLines(): string[] {
  const lines = zlib.gunzipSync(fs.readFileSync(GREEN_GZ)).toString("utf8").split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines.map((line) => line.replace(/\r$/, ""));
}

/**
 * The green file gzipped by Node's zlib with a full flush every `every` lines, cut right after the flush in
 * the middle: every byte before the cut decompresses to whole lines, but the deflate stream has no end and
 * no trailer (CRC-32, length) — what an interrupted download of a line-flushed writer leaves behind.
 * @returns the cut bytes and how many lines they hold.
 */
export async function gzipCutAtLineBoundary(lines: readonly string[], every = 1000): Promise<{ bytes: Buffer; lines: number }> {
  const gzip = zlib.createGzip();
  const chunks: Buffer[] = [];
  gzip.on("data", (chunk: Buffer) => chunks.push(chunk));
  const points: { bytes: number; lines: number }[] = [];
  for (let i = 0; i < lines.length; i += every) {
    const part = lines.slice(i, i + every);
    await new Promise<void>((resolve, reject) => gzip.write(part.join("\n") + "\n", (error) => (error ? reject(error) : resolve())));
    await new Promise<void>((resolve) => gzip.flush(zlib.constants.Z_FULL_FLUSH, () => resolve()));
    points.push({ bytes: chunks.reduce((sum, c) => sum + c.length, 0), lines: i + part.length });
  }
  gzip.end();
  await new Promise<void>((resolve) => gzip.on("end", resolve));
  const middle = points[Math.floor(points.length / 2)];
  return { bytes: Buffer.concat(chunks).subarray(0, middle.bytes), lines: middle.lines };
}

/** What `writeBadCopies` wrote, with the lines the damage sits on (1-based, the header is line 1). */
export interface BadCopies {
  /** Data rows of the intact green file. */
  rows: number;
  /** Lines (header included) in the line-boundary cut. */
  cutLines: number;
  shortLine: number;
  longLine: number;
  typedLine: number;
}

/**
 * Writes into `dir`: `green-cut-mid.csv.gz` (the real file's bytes cut in the middle of the deflate stream),
 * `green-cut-line.csv.gz` (see `gzipCutAtLineBoundary`), `green-ragged.csv` (one row 3 fields short, one row a
 * field long), `green-short.csv` (only the short row), `green-typed.csv` ("abc" in PULocationID, an integer
 * column, far past DuckDB's type-detection sample), `green-header-only.csv`, and `green-cut.parquet` (the 2024
 * Parquet file cut to 70 %).
 */
export async function writeBadCopies(dir: string): Promise<BadCopies> {
  fs.mkdirSync(dir, { recursive: true });
  const gz = fs.readFileSync(GREEN_GZ);
  fs.writeFileSync(path.join(dir, "green-cut-mid.csv.gz"), gz.subarray(0, Math.floor(gz.length * 0.6)));
  const lines = greenLines();
  const cut = await gzipCutAtLineBoundary(lines);
  fs.writeFileSync(path.join(dir, "green-cut-line.csv.gz"), cut.bytes);
  const shortIndex = 1000;
  const longIndex = 2000;
  const typedIndex = 30000;
  const short = lines[shortIndex].split(",").slice(0, 17).join(",");
  const long = `${lines[longIndex]},extra`;
  const ragged = [...lines];
  ragged[shortIndex] = short;
  ragged[longIndex] = long;
  fs.writeFileSync(path.join(dir, "green-ragged.csv"), ragged.join("\n") + "\n");
  const shortOnly = [...lines];
  shortOnly[shortIndex] = short;
  fs.writeFileSync(path.join(dir, "green-short.csv"), shortOnly.join("\n") + "\n");
  const typed = [...lines];
  const fields = typed[typedIndex].split(",");
  fields[5] = "abc";
  typed[typedIndex] = fields.join(",");
  fs.writeFileSync(path.join(dir, "green-typed.csv"), typed.join("\n") + "\n");
  fs.writeFileSync(path.join(dir, "green-header-only.csv"), lines[0] + "\n");
  const parquet = fs.readFileSync(GREEN_PARQUET);
  fs.writeFileSync(path.join(dir, "green-cut.parquet"), parquet.subarray(0, Math.floor(parquet.length * 0.7)));
  return { rows: lines.length - 1, cutLines: cut.lines, shortLine: shortIndex + 1, longLine: longIndex + 1, typedLine: typedIndex + 1 };
}
