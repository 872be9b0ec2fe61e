/**
 * Templating for SQL blocks: `{{ variables.x }}`, `{{ logical_date }}` … become positional
 * parameters (`$1`, `$2`, …, the syntax DuckDB and Postgres both take) and the values travel separately,
 * so a variable can never change the shape of the query (no SQL injection, no quoting bugs).
 *
 * Rules, deliberately small:
 * - A placeholder is `{{ name }}` or `{{ name.key.key }}`: identifiers and dots, nothing else (no
 *   filters, no expressions). Whitespace inside the braces is optional.
 * - Every `{{` starts a placeholder, including inside SQL string literals and comments: the template
 *   is scanned without parsing SQL. So `'{{ variables.x }}'` becomes `'$1'`, a string containing the
 *   text "$1", which is almost never what is wanted: write `{{ variables.x }}` without quotes.
 *   There is no escape for a literal `{{` (concatenate `'{' || '{'` if one is needed).
 * - The same placeholder written twice reuses its parameter number.
 * - A value is bound as it is: strings, numbers, booleans, null, bigints, Dates; arrays bind as one
 *   list parameter (use `list_contains($1, col)` in DuckDB or `col = ANY($1)` in Postgres, not `IN`).
 *   Maps cannot be bound: name one of their keys.
 * - Do not write your own `$n` placeholders in a templated query; numbering is the template's.
 */
import { UserError, type ErrorLocation } from "./errors";
import { didYouMean } from "./suggest";

/** What placeholders can name. Extra keys are allowed (e.g. `pipeline`, `block`). */
export interface SqlScope {
  /** Merged variables: pipeline → trigger → run. */
  variables: Record<string, unknown>;
  logical_date?: unknown;
  data_interval_start?: unknown;
  data_interval_end?: unknown;
  run_id?: string;
  [name: string]: unknown;
}

/** A query ready for a driver: the SQL with `$n` placeholders and the values, `params[n - 1]` for `$n`. */
export interface RenderedSql {
  sql: string;
  params: unknown[];
}

/** One `{{ … }}` in a template. */
export interface SqlPlaceholder {
  /** Dotted path, normalised (`variables.a.b`). */
  expression: string;
  /** Offsets of `{{` and just after `}}` in the template. */
  start: number;
  end: number;
  line: number;
  column: number;
}

const OPEN = "{{";
const CLOSE = "}}";
const PATH = /^[A-Za-z_][A-Za-z0-9_]*(?:\s*\.\s*[A-Za-z_][A-Za-z0-9_]*)*$/;

/**
 * The placeholders of a template, in order, without resolving them (the editor uses this to show which
 * variables a block reads).
 *
 * @throws UserError code `invalid_template` for an unclosed `{{` or something other than a dotted name.
 */
export function scanSqlTemplate(sql: string, file?: string): SqlPlaceholder[] {
  const found: SqlPlaceholder[] = [];
  let from = 0;
  for (let start = sql.indexOf(OPEN, from); start !== -1; start = sql.indexOf(OPEN, from)) {
    const { line, column } = lineAndColumn(sql, start);
    const close = sql.indexOf(CLOSE, start + OPEN.length);
    if (close === -1) throw templateError("invalid_template", `"{{" is not closed by "}}"`, file, line, column);
    const inner = sql.slice(start + OPEN.length, close).trim();
    if (!PATH.test(inner)) {
      const shown = inner.length > 40 ? `${inner.slice(0, 37)}…` : inner;
      throw templateError(
        "invalid_template",
        `"{{ ${shown} }}" is not a placeholder: write a name such as {{ variables.month }} or {{ logical_date }} (no expressions or filters)`,
        file,
        line,
        column,
      );
    }
    found.push({ expression: inner.split(".").map((s) => s.trim()).join("."), start, end: close + CLOSE.length, line, column });
    from = close + CLOSE.length;
  }
  return found;
}

/**
 * Replace every placeholder with `$1`, `$2`, … and collect the values.
 *
 * @throws UserError code `unknown_variable` (with the placeholder's line and column, and a
 *   suggestion) for a name the scope does not have, `invalid_value` for a value that cannot be bound
 *   (a map, a function, undefined), `invalid_template` for malformed placeholders.
 */
export function renderSql(sql: string, scope: SqlScope, file?: string): RenderedSql {
  const params: unknown[] = [];
  const numbers = new Map<string, number>();
  let out = "";
  let last = 0;
  for (const placeholder of scanSqlTemplate(sql, file)) {
    let number = numbers.get(placeholder.expression);
    if (number === undefined) {
      params.push(resolve(scope, placeholder, file));
      number = params.length;
      numbers.set(placeholder.expression, number);
    }
    out += `${sql.slice(last, placeholder.start)}$${number}`;
    last = placeholder.end;
  }
  return { sql: out + sql.slice(last), params };
}

function resolve(scope: SqlScope, placeholder: SqlPlaceholder, file: string | undefined): unknown {
  const segments = placeholder.expression.split(".");
  let current: unknown = scope;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    const container = isPlainObject(current) ? current : undefined;
    const value = container && Object.prototype.hasOwnProperty.call(container, segment) ? container[segment] : undefined;
    if (value === undefined) {
      const known = container ? Object.keys(container).filter((k) => container[k] !== undefined) : [];
      const parent = segments.slice(0, i).join(".");
      const where =
        i === 0
          ? segment === "item"
            ? " (item is the row of a dynamic instance: only blocks downstream of a dynamic: true block have one)"
            : ""
          : container
            ? ` (${parent} has ${known.length > 0 ? known.join(", ") : "no keys"})`
            : ` (${parent} is not a map)`;
      throw templateError(
        "unknown_variable",
        `{{ ${placeholder.expression} }}: unknown name "${segments.slice(0, i + 1).join(".")}"${didYouMean(segment, known)}${where}`,
        file,
        placeholder.line,
        placeholder.column,
      );
    }
    current = value;
  }
  if (typeof current === "function" || typeof current === "symbol") {
    throw templateError("invalid_value", `{{ ${placeholder.expression} }} is a ${typeof current} and cannot be bound`, file, placeholder.line, placeholder.column);
  }
  if (isPlainObject(current)) {
    const keys = Object.keys(current);
    throw templateError(
      "invalid_value",
      `{{ ${placeholder.expression} }} is a map and cannot be bound; name one of its keys${keys.length > 0 ? ` (${keys.join(", ")})` : ""}`,
      file,
      placeholder.line,
      placeholder.column,
    );
  }
  return current;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) {
    line += 1;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

function templateError(code: string, detail: string, file: string | undefined, line: number, column: number): UserError {
  const location: ErrorLocation = { line, column };
  if (file !== undefined) location.file = file;
  const prefix = file === undefined ? `line ${line}:${column}` : `${file}:${line}:${column}`;
  return new UserError(code, `${prefix}: ${detail}`, location);
}
