/**
 * Strict inputs for SQL: the files a DuckDB query reads itself — `read_csv(…)`, `read_csv_auto(…)`,
 * `read_parquet(…)`/`parquet_scan(…)`, or a quoted path in FROM (`FROM 'data/trips.csv.gz'`) — are checked
 * before the query runs, because DuckDB loads a `.csv.gz` cut right after a complete line as success, and
 * its dialect sniffer can turn a CSV with ragged rows into one VARCHAR column or drop rows it took for a
 * preamble. The check is the one every connector uses (csv-verify.ts): gzip/zstd trailer, field count per
 * record with the line, Parquet footer.
 *
 * The query is parsed by DuckDB itself (`json_serialize_sql`), so CTEs, joins, subqueries, lists of files,
 * globs (expanded with DuckDB's `glob()`) and `$n` parameters are all found the way DuckDB will read them.
 *
 * Opting in to tolerance is DuckDB's own options, written in the call: `ignore_errors = true` skips bad rows,
 * `null_padding = true` pads short ones, `strict_mode = false` relaxes the parser. Such a call is not failed
 * on its ragged rows; they are counted and reported as a warning instead. A damaged compressed file fails
 * either way: there is nothing tolerable about a missing half.
 */
import { stat } from "node:fs/promises";
import type { DuckDBConnection } from "@duckdb/node-api";
import { UserError } from "../core/errors";
import { csvError } from "./csv-read";
import { checkCsvFile, checkParquetFile, emptyFileWarning, enforceShape, rejectedRowsWarning } from "./csv-verify";
import { describeBadRow } from "./csv-shape";

/** One file-reading call in a query. */
export interface FileRead {
  kind: "csv" | "parquet";
  /** Paths or glob patterns, as written (or as bound to a parameter). */
  paths: string[];
  /** Named options of the call, lower-cased names; values as DuckDB's parser gave them. */
  options: Record<string, string>;
}

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const CSV_FUNCTIONS = new Set(["read_csv", "read_csv_auto"]);
const PARQUET_FUNCTIONS = new Set(["read_parquet", "parquet_scan"]);
const CSV_PATH = /\.(csv|tsv|txt)(\.gz|\.zst)?$/i;
const PARQUET_PATH = /\.parquet$/i;

/** The string values an argument expression stands for: a constant, a `[list]` of them, a `$n` parameter. */
function valuesOf(node: unknown, params: readonly unknown[]): string[] {
  if (!isRecord(node)) return [];
  switch (node.class) {
    case "CONSTANT": {
      const value = isRecord(node.value) ? node.value : {};
      return value.is_null === true || value.value === undefined ? [] : [String(value.value)];
    }
    case "PARAMETER": {
      const bound = params[Number(node.identifier) - 1];
      if (typeof bound === "string") return [bound];
      return Array.isArray(bound) ? bound.filter((v): v is string => typeof v === "string") : [];
    }
    case "CAST":
      return valuesOf(node.child, params);
    case "FUNCTION":
      return node.function_name === "list_value" && Array.isArray(node.children) ? node.children.flatMap((child) => valuesOf(child, params)) : [];
    default:
      return [];
  }
}

/** Every file-reading call in a parsed statement tree. */
function collect(tree: unknown, params: readonly unknown[], out: FileRead[]): void {
  if (Array.isArray(tree)) {
    for (const item of tree) collect(item, params, out);
    return;
  }
  if (!isRecord(tree)) return;
  if (tree.type === "TABLE_FUNCTION" && isRecord(tree.function)) {
    const name = String(tree.function.function_name).toLowerCase();
    const kind = CSV_FUNCTIONS.has(name) ? "csv" : PARQUET_FUNCTIONS.has(name) ? "parquet" : null;
    const children = Array.isArray(tree.function.children) ? tree.function.children : [];
    if (kind !== null && children.length > 0) {
      const options: Record<string, string> = {};
      for (const child of children.slice(1)) {
        if (!isRecord(child) || child.class !== "COMPARISON" || !isRecord(child.left) || !Array.isArray(child.left.column_names)) continue;
        const [value] = valuesOf(child.right, params);
        if (value !== undefined) options[String(child.left.column_names[0]).toLowerCase()] = value;
      }
      out.push({ kind, paths: valuesOf(children[0], params), options });
    }
  }
  if (tree.type === "BASE_TABLE" && tree.schema_name === "" && typeof tree.table_name === "string") {
    // DuckDB's replacement scan: a quoted file path where a table name goes.
    if (CSV_PATH.test(tree.table_name)) out.push({ kind: "csv", paths: [tree.table_name], options: {} });
    else if (PARQUET_PATH.test(tree.table_name)) out.push({ kind: "parquet", paths: [tree.table_name], options: {} });
  }
  for (const value of Object.values(tree)) collect(value, params, out);
}

/** The file reads of `sql` as DuckDB parses it; none when it does not parse (DuckDB then reports the syntax error itself). */
export async function findFileReads(connection: DuckDBConnection, sql: string, params: readonly unknown[] = []): Promise<FileRead[]> {
  const result = await connection.runAndReadAll("SELECT json_serialize_sql($1::VARCHAR)", [sql]);
  const text = result.getRows()[0]?.[0];
  if (typeof text !== "string") return [];
  const parsed: unknown = JSON.parse(text);
  if (!isRecord(parsed) || parsed.error === true) return [];
  const out: FileRead[] = [];
  collect(parsed.statements, params, out);
  return out;
}

const isTrue = (value: string | undefined): boolean => value !== undefined && /^(t|true|1|on|yes)$/i.test(value);
const isFalse = (value: string | undefined): boolean => value !== undefined && /^(f|false|0|off|no)$/i.test(value);

/** Local files a path or pattern names (through DuckDB's own glob), skipping remote URLs and missing files. */
async function expand(connection: DuckDBConnection, path: string): Promise<string[]> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) return [];
  if (!/[*?[]/.test(path)) {
    const found = await stat(path).catch(() => null);
    return found?.isFile() ? [path] : [];
  }
  const listed = await connection.runAndReadAll("SELECT file FROM glob($1::VARCHAR) ORDER BY file", [path]);
  return listed.getRows().map(([file]) => String(file));
}

/**
 * Checks every local file `sql` reads (see the file comment) and throws the first failure; tolerant calls
 * and files with a header but no rows produce `onWarning` lines.
 * @throws UserError `corrupt_file` (damaged or truncated compressed file, Parquet cut short) or `csv_error`
 * (a ragged row, with file, line, expected and found column counts).
 */
export async function verifyFileReads(connection: DuckDBConnection, sql: string, params: readonly unknown[], onWarning: (message: string) => void): Promise<void> {
  const files: { read: FileRead; file: string }[] = [];
  for (const read of await findFileReads(connection, sql, params)) {
    for (const pattern of read.paths) for (const file of await expand(connection, pattern)) files.push({ read, file });
  }
  // Every file is checked at once (decompression runs on libuv's threads), then judged in query order, so the
  // failure reported is the first file's, as if they had been checked one by one.
  const checks = await Promise.all(
    files.map(({ read, file }) => {
      const delimiter = read.options.delim ?? read.options.sep ?? read.options.delimiter;
      const header = isFalse(read.options.header) ? false : undefined;
      const check = read.kind === "parquet" ? checkParquetFile(file, file).then(() => null) : checkCsvFile(file, file, { delimiter: delimiter?.length === 1 ? delimiter : undefined, header });
      return check.then(
        (value) => ({ value, error: null }),
        (error: unknown) => ({ value: null, error }),
      );
    }),
  );
  for (const [i, { read, file }] of files.entries()) {
    const { value: check, error } = checks[i];
    if (error !== null) throw error;
    if (read.kind === "parquet") continue;
    const header = isFalse(read.options.header) ? false : undefined;
    if (check === null) continue;
    const { shape } = check;
    const skip = isTrue(read.options.ignore_errors);
    const pad = isTrue(read.options.null_padding);
    const tolerant = skip || pad || isFalse(read.options.strict_mode);
    if (!tolerant) enforceShape(file, shape, "fail");
    const bad = shape.shortRows + shape.longRows;
    if (tolerant && bad > 0) {
      const examples = shape.examples.map((row) => ({ line: row.line, reason: describeBadRow(row).replace(/^line \d+: /, "") }));
      const optedInBy = skip ? "ignore_errors = true" : pad ? "null_padding = true" : "strict_mode = false";
      onWarning(rejectedRowsWarning(file, { mode: skip ? "skip" : "null_pad", count: bad, examples }, `${optedInBy}; rows with the wrong number of columns`));
    }
    if (shape.records === 0 && header !== false) onWarning(emptyFileWarning(file, shape.columns));
  }
}

/**
 * DuckDB's CSV error from inside a query (a value that does not parse, found while the query ran) as the
 * same located message the connectors give — `file: CSV line N: column "c": cannot convert "v" to T` —
 * instead of DuckDB's page of hints; null for any other error.
 */
export function csvQueryError(error: unknown): UserError | null {
  const message = typeof error === "object" && error !== null && "message" in error && typeof error.message === "string" ? error.message : "";
  if (!/CSV Error on Line: \d+/.test(message)) return null;
  const file = /^\s*file = (.+)$/m.exec(message)?.[1]?.trim() ?? "CSV file";
  const located = csvError(error, file);
  return located instanceof UserError ? located : null;
}
