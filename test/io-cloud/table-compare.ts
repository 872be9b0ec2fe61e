import { DuckDBInstance } from "@duckdb/node-api";
import type { Table } from "apache-arrow";
import { arrowToDuckDB } from "../../lib/arrow/arrow-to-duckdb";

/** Column name → Arrow type string, for schema assertions. */
export function schemaOf(table: Table): Record<string, string> {
  return Object.fromEntries(table.schema.fields.map((f) => [f.name, String(f.type)]));
}

/**
 * `schemaOf` with LargeUtf8 shown as Utf8: DuckDB has one VARCHAR type, so a column pyarrow wrote as
 * `large_string` comes back as `string` after a trip through DuckDB. Same values, narrower offsets.
 */
export function logicalSchemaOf(table: Table): Record<string, string> {
  return Object.fromEntries(Object.entries(schemaOf(table)).map(([name, type]) => [name, type === "LargeUtf8" ? "Utf8" : type]));
}

/**
 * Counts the rows that differ between two tables regardless of row order (partitioned datasets come back
 * grouped): both are loaded into DuckDB and compared with `EXCEPT ALL` both ways, which treats nulls as
 * equal and compares floats and timestamps exactly. Columns must line up by position.
 */
export async function differingRows(expected: Table, actual: Table): Promise<{ missing: number; extra: number; expectedRows: number; actualRows: number }> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    await connection.run("SET TimeZone = 'UTC'");
    await arrowToDuckDB(connection, "expected_rows", expected);
    await arrowToDuckDB(connection, "actual_rows", actual);
    const count = async (sql: string): Promise<number> => {
      const reader = await connection.runAndReadAll(sql);
      return Number(reader.getRows()[0][0]);
    };
    return {
      missing: await count("SELECT count(*) FROM (SELECT * FROM expected_rows EXCEPT ALL SELECT * FROM actual_rows)"),
      extra: await count("SELECT count(*) FROM (SELECT * FROM actual_rows EXCEPT ALL SELECT * FROM expected_rows)"),
      expectedRows: expected.numRows,
      actualRows: actual.numRows,
    };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Null count of each column, so a test can assert nulls survived as nulls. */
export function nullCounts(table: Table): Record<string, number> {
  return Object.fromEntries(table.schema.fields.map((f) => [f.name, table.getChild(f.name)?.nullCount ?? -1]));
}
