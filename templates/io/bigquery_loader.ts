/**
 * Loader: a BigQuery query into Arrow, page by page. Types map faithfully: INT64 → Int64 (no rounding),
 * FLOAT64 → Float64, TIMESTAMP → Timestamp<µs, UTC>, DATETIME → Timestamp<µs>, DATE → Date, BOOL → Bool,
 * BYTES → Binary, NUMERIC and the rest → their exact text. Unqualified tables are in the profile's dataset.
 * Profile (sluice.yaml):
 *   connections:
 *     warehouse: { kind: bigquery, project_id: my-project, dataset: zoomcamp, location: US, credentials_json: "{{ env_var('GCP_KEY_JSON') }}" }
 * Variables: `bq_table`, `since` (an ISO date; pickups on or after it).
 * @sluice expects: nothing — a loader has no upstream.
 */
import type { Table } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";

export default async function load(ctx: BlockContext): Promise<Table> {
  const table = String(ctx.variables.bq_table ?? "green_trips");
  if (!/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)?$/.test(table)) throw new Error(`bq_table "${table}" is not a table or dataset.table name`);
  const since = String(ctx.variables.since ?? "2020-10-01");
  if (!/^\d{4}-\d{2}-\d{2}$/.test(since)) throw new Error(`since "${since}" is not a YYYY-MM-DD date`);
  return ctx.io.bigquery().read(`SELECT * FROM ${table} WHERE lpep_pickup_datetime >= TIMESTAMP '${since}'`);
}
