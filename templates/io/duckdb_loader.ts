/**
 * Loader: a query against the DuckDB warehouse file (default `<data dir>/warehouse.duckdb`; profile
 * `connections: { warehouse: { kind: duckdb, path: … } }`). Parameters bind to `$1…$n`.
 * Variables: `table`, `since` (optional).
 * @sluice expects: nothing — a loader has no upstream.
 */
import type { Table } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";

export default async function load(ctx: BlockContext): Promise<Table> {
  const table = String(ctx.variables.table ?? "green_trips").replace(/"/g, '""');
  return ctx.io.duckdb().read({ sql: `SELECT * FROM "${table}"` });
}
