/**
 * CSV → Arrow through DuckDB's reader (fast, parallel, offline; DESIGN §12), shared by the files and HTTP
 * connectors. With an explicit column-type map the sniffer is off (`auto_detect = false`): no guessing, and
 * a bad row fails at parse time with its line number. Errors are rewritten to say which source and which
 * line, and a wrong column count is always located, even when DuckDB's sniffer found it first.
 */
import { createReadStream } from "node:fs";
import { createGunzip } from "node:zlib";
import { createInterface } from "node:readline";
import type { DuckDBConnection } from "@duckdb/node-api";
import type { RecordBatch, Table } from "apache-arrow";
import { UserError } from "../core/errors";
import { quoteLiteral } from "../blocks/sql-text";
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
}

/** The `read_csv(…)` call for a local file (plain or .gz). */
export function readCsvSql(file: string, options: CsvOptions = {}): string {
  const args = [quoteLiteral(file), `header = ${options.header ?? true}`];
  if (options.delimiter !== undefined) args.push(`delim = ${quoteLiteral(options.delimiter)}`);
  if (options.columns !== undefined) {
    args.push("auto_detect = false", `quote = '"'`, `escape = '"'`);
    if (options.delimiter === undefined) args.push("delim = ','");
    const columns = Object.entries(options.columns).map(([name, type]) => `${quoteLiteral(name)}: ${quoteLiteral(type)}`);
    args.push(`columns = {${columns.join(", ")}}`);
  }
  if (options.timestampFormat !== undefined) args.push(`timestampformat = ${quoteLiteral(options.timestampFormat)}`);
  return `SELECT * FROM read_csv(${args.join(", ")})`;
}

/**
 * Reads a local CSV (or .csv.gz) file into Arrow. `source` names it in errors (a URL or a path, already redacted).
 * @throws UserError `csv_error` naming the source and line for malformed rows and values of the wrong type.
 */
export async function readCsvFile(connection: DuckDBConnection, file: string, source: string, options: CsvOptions = {}, tempDir?: string): Promise<Table> {
  try {
    return await queryToArrow(connection, readCsvSql(file, options), [], tempDir);
  } catch (error) {
    throw await csvError(error, file, source, options);
  }
}

/**
 * Streams a local CSV (or .csv.gz) file as Arrow record batches while DuckDB parses it; errors as in
 * `readCsvFile` (a bad row may surface after earlier batches were yielded). Run nothing else on
 * `connection` until the stream ends.
 */
export async function* streamCsvFile(connection: DuckDBConnection, file: string, source: string, options: CsvOptions = {}, tempDir?: string): AsyncGenerator<RecordBatch> {
  try {
    yield* queryToArrowStream(connection, readCsvSql(file, options), [], tempDir);
  } catch (error) {
    throw await csvError(error, file, source, options);
  }
}

/** Turns a DuckDB CSV failure into a located UserError. */
async function csvError(error: unknown, file: string, source: string, options: CsvOptions): Promise<UserError> {
  const message = errorMessage(error);
  const line = /CSV Error on Line: (\d+)/.exec(message)?.[1];
  const columns = /Expected Number of Columns: (\d+) Found: (\d+)/.exec(message);
  if (line !== undefined && columns !== null) {
    return new UserError("csv_error", `${source}: CSV line ${line}: expected ${columns[1]} columns, found ${columns[2]}`, { file: source, line: Number(line) }, { cause: error });
  }
  if (/number of columns|columns parameter|sniffing file/i.test(message)) {
    const bad = await findColumnCountMismatch(file, options.delimiter ?? ",");
    if (bad !== null) {
      return new UserError("csv_error", `${source}: CSV line ${bad.line}: expected ${bad.expected} columns, found ${bad.found}`, { file: source, line: bad.line }, { cause: error });
    }
  }
  if (line !== undefined) {
    const detail = message.split("\n").find((l) => /Could not convert|Error when converting|Conversion Error/i.test(l)) ?? message.split("\n")[0];
    return new UserError("csv_error", `${source}: CSV line ${line}: ${detail.replace(/^.*Error:\s*/, "")}`, { file: source, line: Number(line) }, { cause: error });
  }
  if (/gzip|inflate|compressed/i.test(message)) {
    return new UserError("corrupt_file", `${source}: the compressed file is damaged or truncated (${message.split("\n")[0]})`, { file: source }, { cause: error });
  }
  return new UserError("csv_error", `${source}: cannot read the CSV: ${message.split("\n")[0]}`, { file: source }, { cause: error });
}

/** Counts fields per physical line (quotes respected) and returns the first line whose count differs from the header's. */
export async function findColumnCountMismatch(file: string, delimiter = ","): Promise<{ line: number; expected: number; found: number } | null> {
  const input = file.endsWith(".gz") ? createReadStream(file).pipe(createGunzip()) : createReadStream(file);
  const lines = createInterface({ input, crlfDelay: Infinity });
  let expected = -1;
  let lineNo = 0;
  let inQuotes = false;
  let fields = 1;
  let startLine = 1;
  try {
    for await (const text of lines) {
      lineNo++;
      if (!inQuotes) {
        fields = 1;
        startLine = lineNo;
      }
      for (let i = 0; i < text.length; i++) {
        const ch = text[i];
        if (ch === '"') inQuotes = !inQuotes;
        else if (!inQuotes && ch === delimiter) fields++;
      }
      if (inQuotes) continue;
      if (text === "" && fields === 1) continue;
      if (expected === -1) expected = fields;
      else if (fields !== expected) return { line: startLine, expected, found: fields };
    }
  } catch {
    return null;
  } finally {
    lines.close();
  }
  return null;
}
