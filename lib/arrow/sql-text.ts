/**
 * Small text helpers for the DuckDB SQL Sluice writes around user queries. Values are always bound as
 * parameters; only identifiers and file paths (where DuckDB takes no parameter) are quoted here.
 */

/** A double-quoted identifier: block names are `[a-z0-9_]+` but user column names can be anything. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A single-quoted string literal, for the places DuckDB takes no parameter (file paths in COPY / read_parquet). */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * The query without trailing semicolons, whitespace and comments, so that it can be wrapped as
 * `COPY (<query>) TO …` or `CREATE TABLE t AS <query>`. Quotes and comments are skipped while scanning so a
 * `;` or `--` inside a string stays. Also reports whether a second statement follows the first.
 */
export function trimStatement(sql: string): { body: string; statements: number } {
  let lastSignificant = -1;
  let statements = 0;
  let inStatement = false;
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i];
    const next = sql[i + 1];
    if (ch === "-" && next === "-") {
      const end = sql.indexOf("\n", i);
      i = end === -1 ? sql.length : end + 1;
      continue;
    }
    if (ch === "/" && next === "*") {
      const end = sql.indexOf("*/", i + 2);
      i = end === -1 ? sql.length : end + 2;
      continue;
    }
    if (ch === ";") {
      inStatement = false;
      i++;
      continue;
    }
    if (/\s/u.test(ch)) {
      i++;
      continue;
    }
    if (!inStatement) {
      inStatement = true;
      statements++;
    }
    if (ch === "'" || ch === '"') {
      let j = i + 1;
      while (j < sql.length) {
        if (sql[j] === ch) {
          if (sql[j + 1] === ch) {
            j += 2;
            continue;
          }
          break;
        }
        j++;
      }
      lastSignificant = statements === 1 ? Math.min(j, sql.length - 1) : lastSignificant;
      i = j + 1;
      continue;
    }
    if (statements === 1) lastSignificant = i;
    i++;
  }
  return { body: sql.slice(0, lastSignificant + 1), statements };
}
