/**
 * CSV → Arrow through DuckDB's reader (fast, parallel, offline), shared by the files and HTTP connectors.
 *
 * Strict by default: before DuckDB runs, the file is read once by Node (csv-verify.ts) — a truncated or
 * damaged `.gz` fails (DuckDB itself loads a gzip cut after a complete line as success), and so does a
 * record whose field count differs from the header's, with its line. DuckDB then gets a fixed dialect (the
 * delimiter that was counted, `"` quotes, the header) and `strict_mode`, no null padding, no ignored errors,
 * so a value that does not parse as its declared or detected type fails with its line, column and value.
 *
 * `on_bad_rows: "skip" | "null_pad"` opts one read into tolerance; the rows it drops or pads are counted and
 * reported through `onWarning` (a warn line in the block log) with the first few as examples.
 */
import { randomUUID } from "node:crypto";
import type { DuckDBConnection } from "@duckdb/node-api";
import type { RecordBatch, Table } from "apache-arrow";
import { UserError, isSluiceError } from "../core/errors";
import { quoteIdentifier, quoteLiteral } from "../arrow/sql-text";
import { checkCsvFile, emptyFileWarning, enforceShape, rejectedRowsWarning, type CsvCheck, type OnBadRows, type RejectedRows } from "./csv-verify";
import { queryToArrow, queryToArrowStream } from "./duckdb-session";
import { errorMessage } from "./redact";

/** How to parse a CSV file. */
export interface CsvOptions {
  /** Column name → DuckDB type (`INTEGER`, `DOUBLE`, `TIMESTAMP`, `VARCHAR`, …), in file order; detected when absent. */
  columns?: Readonly<Record<string, string>>;
  /** strftime format of TIMESTAMP columns (default ISO 8601, also `2020-10-01 00:09:08`). */
  timestampFormat?: string;
  delimiter?: string;
  header?: boolean;
  /** Rows with the wrong number of fields or an unparsable value: fail the read (default), skip them, or pad short rows with NULLs. */
  on_bad_rows?: OnBadRows;
}

/** Where a CSV read reports and what may stop it. */
export interface CsvReadContext {
  /** Scratch space for DuckDB hand-off files. */
  tempDir?: string;
  signal?: AbortSignal;
  /** Receives warnings (rejected rows, an empty result); a block's `ctx.io` writes them to its log. */
  onWarning?: (message: string) => void;
}

/** The names of the tables DuckDB records rejected rows in (`store_rejects`), unique per read. */
interface RejectsTables {
  table: string;
  scan: string;
}

/** The `read_csv(…)` call for a local file (plain or compressed) with a fixed dialect and the bad-row mode. */
export function readCsvSql(file: string, options: CsvOptions = {}, rejects?: RejectsTables): string {
  const args = [quoteLiteral(file), `header = ${options.header ?? true}`, `quote = '"'`, `escape = '"'`];
  if (options.delimiter !== undefined) args.push(`delim = ${quoteLiteral(options.delimiter)}`);
  if (options.columns !== undefined) {
    args.push("auto_detect = false");
    if (options.delimiter === undefined) args.push("delim = ','");
    const columns = Object.entries(options.columns).map(([name, type]) => `${quoteLiteral(name)}: ${quoteLiteral(type)}`);
    args.push(`columns = {${columns.join(", ")}}`);
  }
  if (options.timestampFormat !== undefined) args.push(`timestampformat = ${quoteLiteral(options.timestampFormat)}`);
  const mode = options.on_bad_rows ?? "fail";
  switch (mode) {
    case "fail":
      args.push("strict_mode = true", "null_padding = false", "ignore_errors = false");
      break;
    case "skip":
      args.push("ignore_errors = true");
      if (rejects !== undefined) args.push("store_rejects = true", `rejects_table = ${quoteLiteral(rejects.table)}`, `rejects_scan = ${quoteLiteral(rejects.scan)}`);
      break;
    case "null_pad":
      args.push("null_padding = true", "ignore_errors = false");
      break;
  }
  return `SELECT * FROM read_csv(${args.join(", ")})`;
}

/** The file checked, the DuckDB dialect settled, and what `null_pad` will pad. */
async function prepare(file: string, source: string, options: CsvOptions, context: CsvReadContext): Promise<{ check: CsvCheck | null; parse: CsvOptions; padded: RejectedRows | null; rejects?: RejectsTables }> {
  const check = await checkCsvFile(file, source, { delimiter: options.delimiter, header: options.header, signal: context.signal });
  const mode = options.on_bad_rows ?? "fail";
  const padded = check === null ? null : enforceShape(source, check.shape, mode);
  const id = randomUUID().replace(/-/g, "");
  const rejects = mode === "skip" ? { table: `sluice_rejects_${id}`, scan: `sluice_reject_scans_${id}` } : undefined;
  return { check, parse: { ...options, delimiter: check?.delimiter ?? options.delimiter }, padded, rejects };
}

/** Reads what DuckDB rejected in `skip` mode (one entry per line), then drops its tables. */
async function collectRejects(connection: DuckDBConnection, rejects: RejectsTables): Promise<RejectedRows> {
  try {
    const count = await connection.runAndReadAll(`SELECT count(DISTINCT line)::BIGINT FROM ${quoteIdentifier(rejects.table)}`);
    const total = Number(count.getRows()[0]?.[0] ?? 0);
    const first = await connection.runAndReadAll(
      `SELECT line, min(error_message) FROM ${quoteIdentifier(rejects.table)} GROUP BY line ORDER BY line LIMIT 3`,
    );
    const examples = first.getRows().map(([line, reason]) => ({ line: Number(line), reason: String(reason) }));
    return { mode: "skip", count: total, examples };
  } finally {
    await connection.run(`DROP TABLE IF EXISTS ${quoteIdentifier(rejects.table)}`).catch(() => undefined);
    await connection.run(`DROP TABLE IF EXISTS ${quoteIdentifier(rejects.scan)}`).catch(() => undefined);
  }
}

/** Reports rejected rows and an empty result through `onWarning`. */
async function report(connection: DuckDBConnection, source: string, options: CsvOptions, prepared: Awaited<ReturnType<typeof prepare>>, rows: number, context: CsvReadContext): Promise<void> {
  const warn = context.onWarning;
  const rejected = prepared.rejects !== undefined ? await collectRejects(connection, prepared.rejects) : prepared.padded;
  if (rejected !== null && rejected.count > 0) warn?.(rejectedRowsWarning(source, rejected));
  if (rows === 0 && (options.header ?? true)) warn?.(emptyFileWarning(source, prepared.check?.shape.columns ?? 0));
}

/**
 * Reads a local CSV (plain, .gz or .zst) file into Arrow. `source` names it in errors (a URL or a path, already redacted).
 * @throws UserError `corrupt_file` for a damaged or truncated compressed file; `csv_error` naming the source and
 * line for a row with the wrong number of fields or a value of the wrong type (unless `on_bad_rows` allows it).
 */
export async function readCsvFile(connection: DuckDBConnection, file: string, source: string, options: CsvOptions = {}, context: CsvReadContext = {}): Promise<Table> {
  const prepared = await prepare(file, source, options, context);
  let table: Table;
  try {
    table = await queryToArrow(connection, readCsvSql(file, prepared.parse, prepared.rejects), [], context.tempDir);
  } catch (error) {
    throw csvError(error, source);
  }
  await report(connection, source, options, prepared, table.numRows, context);
  return table;
}

/**
 * Streams a local CSV (plain, .gz or .zst) file as Arrow record batches while DuckDB parses it; checks and errors
 * as in `readCsvFile` (the file is checked whole before the first batch; a value of the wrong type may surface
 * after earlier batches were yielded). Run nothing else on `connection` until the stream ends.
 */
export async function* streamCsvFile(connection: DuckDBConnection, file: string, source: string, options: CsvOptions = {}, context: CsvReadContext = {}): AsyncGenerator<RecordBatch> {
  const prepared = await prepare(file, source, options, context);
  let rows = 0;
  try {
    for await (const batch of queryToArrowStream(connection, readCsvSql(file, prepared.parse, prepared.rejects), [], context.tempDir)) {
      rows += batch.numRows;
      yield batch;
    }
  } catch (error) {
    throw csvError(error, source);
  }
  await report(connection, source, options, prepared, rows, context);
}

/** `column "val": cannot convert "abc" to BIGINT` from DuckDB's conversion error, when it says so. */
function conversionDetail(message: string): string | null {
  const match = /Error when converting column "((?:[^"]|"")*)"\. Could not convert string "((?:[^"]|"")*)" to '([^']+)'/.exec(message);
  if (match === null) return null;
  return `column "${match[1]}": cannot convert "${match[2]}" to ${match[3]}`;
}

/** Turns a DuckDB CSV failure into a located UserError (never quoting DuckDB's own file path). */
export function csvError(error: unknown, source: string): Error {
  if (isSluiceError(error)) return error;
  const message = errorMessage(error);
  const line = /CSV Error on Line: (\d+)/.exec(message)?.[1];
  const columns = /Expected Number of Columns: (\d+) Found: (\d+)/.exec(message);
  if (line !== undefined && columns !== null) {
    return new UserError("csv_error", `${source}: CSV line ${line}: expected ${columns[1]} columns, found ${columns[2]}`, { file: source, line: Number(line) }, { cause: error });
  }
  if (line !== undefined) {
    const detail =
      conversionDetail(message) ??
      message
        .split("\n")
        .find((l) => /Could not convert|Error when converting/i.test(l))
        ?.trim() ??
      "cannot parse the row";
    return new UserError("csv_error", `${source}: CSV line ${line}: ${detail}`, { file: source, line: Number(line) }, { cause: error });
  }
  if (/gzip|inflate|compressed|zstd/i.test(message)) {
    return new UserError("corrupt_file", `${source}: the compressed file is damaged or truncated (${message.split("\n")[0]})`, { file: source }, { cause: error });
  }
  return new UserError("csv_error", `${source}: cannot read the CSV: ${message.split("\n")[0]}`, { file: source }, { cause: error });
}
