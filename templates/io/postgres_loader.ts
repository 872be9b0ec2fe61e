/**
 * Loader: a query from Postgres into Arrow (binary COPY, decoded batch by batch; types map faithfully:
 * int2/4/8, float4/8, bool, text, date, timestamp[tz], time, numeric(p,s) → Decimal; others as text).
 * Profile: `connections: { default: { kind: postgres, url: "{{ env_var('DATABASE_URL') }}" } }`.
 * Variables: `table`, `since`.
 * @sluice expects: nothing — a loader has no upstream.
 */
import type { Table } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";

export default async function load(ctx: BlockContext): Promise<Table> {
  const table = String(ctx.variables.table ?? "green_trips").replace(/"/g, '""');
  const since = String(ctx.variables.since ?? "2020-10-01");
  return ctx.io.postgres().read({ sql: `SELECT * FROM "${table}" WHERE lpep_pickup_datetime >= $1::timestamp`, params: [since] });
}
