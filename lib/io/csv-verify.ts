/**
 * Checks an input file before DuckDB reads it, so bad files fail instead of loading as success:
 *
 * - gzip: the whole stream is decompressed by Node's zlib, which checks the trailer (CRC-32 and length).
 *   DuckDB does not: a `.csv.gz` whose deflate stream was cut right after a complete line (an interrupted
 *   download) loads its first half as success. zstd is verified the same way where Node has a zstd decoder
 *   (22.15 and later); elsewhere DuckDB's own parse is the only check.
 * - CSV shape: every record's field count against the header's (csv-shape.ts), with the line numbers.
 * - Parquet: the `PAR1` magic at both ends and a footer length that fits the file, so a file cut short is
 *   named as such before a decoder reports something cryptic.
 *
 * Messages name the source as the caller shows it (a path relative to the profile, a redacted URL).
 */
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { Transform, type Readable } from "node:stream";
import * as zlib from "node:zlib";
import { UserError } from "../core/errors";
import { errorMessage } from "./redact";
import { CsvShapeCounter, describeBadRow, detectDelimiter, type BadRow, type CsvShape } from "./csv-shape";

/**
 * What a reader does with rows that do not fit: `fail` (the default) fails the read on the first one;
 * `skip` drops them (wrong field count or a value that does not parse); `null_pad` fills missing trailing
 * fields with NULL (a row with too many fields still fails).
 */
export type OnBadRows = "fail" | "skip" | "null_pad";

/** Rows a tolerant read left out or padded, for the block log. */
export interface RejectedRows {
  mode: "skip" | "null_pad";
  count: number;
  /** The first few, with their line numbers. */
  examples: { line: number; reason: string }[];
}

export type Compression = "gzip" | "zstd" | "none";

/** What a verified CSV file looks like. */
export interface CsvCheck {
  shape: CsvShape;
  /** The delimiter counted with (given, `\t` for `.tsv`, else detected from the header): hand it to DuckDB. */
  delimiter: string;
  compression: Compression;
}

export interface CsvCheckOptions {
  delimiter?: string;
  header?: boolean;
  signal?: AbortSignal;
}

const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

async function firstBytes(file: string, count: number): Promise<Buffer> {
  const handle = await open(file, "r");
  try {
    const buffer = Buffer.alloc(count);
    const { bytesRead } = await handle.read(buffer, 0, count, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

const startsWith = (bytes: Buffer, magic: readonly number[]): boolean => magic.every((b, i) => bytes[i] === b);

/** How a file is compressed, by its content (a `.csv` that is really gzip is still checked). */
export async function compressionOf(file: string): Promise<Compression> {
  const head = await firstBytes(file, 4);
  if (startsWith(head, GZIP_MAGIC)) return "gzip";
  if (startsWith(head, ZSTD_MAGIC)) return "zstd";
  return "none";
}

/** Node's zstd decoder where this Node has one (22.15+), looked up at run time so Node 20 still loads this file. */
function zstdDecoder(): Transform | null {
  const make: unknown = Reflect.get(zlib, "createZstdDecompress");
  if (typeof make !== "function") return null;
  const decoder: unknown = make();
  return decoder instanceof Transform ? decoder : null;
}

/** The decompressed content of a file as a stream, or null when its compression cannot be verified here. */
function decompressed(file: string, compression: Compression): Readable | null {
  const raw = createReadStream(file);
  if (compression === "none") return raw;
  const decoder = compression === "gzip" ? zlib.createGunzip() : zstdDecoder();
  if (decoder === null) {
    raw.destroy();
    return null;
  }
  raw.on("error", (error) => decoder.destroy(error));
  return raw.pipe(decoder);
}

function corrupt(source: string, compression: Compression, error: unknown): UserError {
  const detail = errorMessage(error);
  const kind = compression === "gzip" ? ".gz" : compression === "zstd" ? ".zst" : "";
  return new UserError("corrupt_file", `${source}: the ${kind} file is truncated or damaged (${detail})`, { file: source }, { cause: error });
}

/**
 * Reads the whole file once (decompressing and verifying gzip/zstd on the way) and counts its records'
 * fields. Returns null only for a zstd file this Node cannot decode.
 * @throws UserError `corrupt_file` naming `source` when the compressed stream is truncated or damaged.
 */
export async function checkCsvFile(file: string, source: string, options: CsvCheckOptions = {}): Promise<CsvCheck | null> {
  const compression = await compressionOf(file);
  const stream = decompressed(file, compression);
  if (stream === null) return null;
  const tsv = /\.tsv(\.gz|\.zst)?$/i.test(file);
  let delimiter = options.delimiter ?? (tsv ? "\t" : undefined);
  let counter: CsvShapeCounter | null = null;
  const pending: Buffer[] = [];
  try {
    for await (const chunk of stream) {
      if (!(chunk instanceof Buffer)) continue;
      options.signal?.throwIfAborted();
      if (counter !== null) {
        counter.push(chunk);
        continue;
      }
      // The delimiter comes from the first line: hold chunks until it is complete.
      pending.push(chunk);
      const soFar = Buffer.concat(pending);
      const newline = soFar.indexOf(0x0a);
      if (newline < 0 && soFar.length < 1 << 20) continue;
      delimiter ??= detectDelimiter(soFar.subarray(0, newline < 0 ? soFar.length : newline).toString("utf8"));
      counter = new CsvShapeCounter(delimiter, options.header ?? true);
      counter.push(soFar);
      pending.length = 0;
    }
  } catch (error) {
    stream.destroy();
    if (options.signal?.aborted) throw error;
    throw corrupt(source, compression, error);
  }
  if (counter === null) {
    const all = Buffer.concat(pending);
    delimiter ??= detectDelimiter(all.toString("utf8").split("\n")[0]);
    counter = new CsvShapeCounter(delimiter, options.header ?? true);
    counter.push(all);
  }
  return { shape: counter.finish(), delimiter: delimiter ?? ",", compression };
}

/** The UserError for the first bad row of a strict read, with how many there are and how to opt in. */
export function badRowError(source: string, first: BadRow, total: number, allowed: readonly OnBadRows[] = ["skip", "null_pad"]): UserError {
  const more = total > 1 ? `; ${total} rows in the file have the wrong number of columns` : "";
  const hint = allowed.length > 0 ? ` (on_bad_rows: ${allowed.map((m) => `"${m}"`).join(" or ")} loads the rest)` : "";
  return new UserError("csv_error", `${source}: CSV line ${first.line}: expected ${first.expected} columns, found ${first.found}${more}${hint}`, {
    file: source,
    line: first.line,
  });
}

/**
 * Applies the read's `on_bad_rows` to a checked shape before DuckDB runs: throws in `fail` mode on any bad
 * row, and in `null_pad` mode on a row with too many fields (there is nothing to pad); otherwise returns the
 * rows `null_pad` will pad (skipped rows are counted by DuckDB, which also rejects unparsable values).
 */
export function enforceShape(source: string, shape: CsvShape, mode: OnBadRows): RejectedRows | null {
  const bad = shape.shortRows + shape.longRows;
  if (bad === 0) return null;
  switch (mode) {
    case "fail":
      throw badRowError(source, shape.examples[0], bad);
    case "null_pad": {
      const long = shape.examples.find((row) => row.found > row.expected);
      if (long !== undefined) throw badRowError(source, long, bad, ["skip"]);
      if (shape.longRows > 0) {
        throw new UserError("csv_error", `${source}: ${shape.longRows} rows have more columns than the header; on_bad_rows: "null_pad" only fills missing ones (use "skip")`, { file: source });
      }
      return {
        mode,
        count: shape.shortRows,
        examples: shape.examples.map((row) => ({ line: row.line, reason: describeBadRow(row).replace(/^line \d+: /, "") })),
      };
    }
    case "skip":
      return null;
  }
}

/** Where warnings go when the caller names no sink: inside a block's worker thread, console.warn is a warn line of the block's log. */
export function defaultWarning(message: string): void {
  console.warn(message);
}

/** The block-log line for rows a tolerant read rejected or padded. */
export function rejectedRowsWarning(source: string, rejected: RejectedRows, optedInBy = `on_bad_rows: "${rejected.mode}"`): string {
  const verb = rejected.mode === "skip" ? "skipped" : "padded with NULLs";
  const examples = rejected.examples
    .slice(0, 3)
    .map((e) => `line ${e.line}: ${e.reason}`)
    .join("; ");
  return `${source}: ${rejected.count} bad row${rejected.count === 1 ? "" : "s"} ${verb} (${optedInBy})${examples ? `, e.g. ${examples}` : ""}`;
}

/** The block-log line for a file with a header and no rows. */
export function emptyFileWarning(source: string, columns: number): string {
  return `${source}: the file has a header (${columns} columns) but no rows: the result is empty`;
}

/**
 * Checks that a Parquet file is whole: `PAR1` at the start and the end, and a footer that fits the file.
 * @throws UserError `corrupt_file` naming `source` otherwise.
 */
export async function checkParquetFile(file: string, source: string): Promise<void> {
  const handle = await open(file, "r");
  try {
    const { size } = await handle.stat();
    const fail = (why: string): never => {
      throw new UserError("corrupt_file", `${source}: not a complete Parquet file (${why}; ${size} bytes): it is truncated or damaged`, { file: source });
    };
    if (size < 12) fail("too short");
    const head = Buffer.alloc(4);
    const tail = Buffer.alloc(8);
    await handle.read(head, 0, 4, 0);
    await handle.read(tail, 0, 8, size - 8);
    if (head.toString("latin1") !== "PAR1") fail("no PAR1 header");
    if (tail.subarray(4).toString("latin1") !== "PAR1") fail("no PAR1 footer at the end");
    if (tail.readUInt32LE(0) > size - 12) fail("the footer is longer than the file");
  } finally {
    await handle.close();
  }
}
