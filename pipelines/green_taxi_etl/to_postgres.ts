import type { Table } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";
import { tripSlice } from "./trip_slice";

/**
 * The cleaned trips into Postgres, replacing only the run's slice (trip_slice.ts; the first input,
 * green_files, lists it): the rows of its source months — and, for a scheduled or backfilled run, of its
 * pickup days — are deleted and the new ones inserted in one transaction. Other dates stay, so backfills may
 * run in parallel and a re-run of one date changes only that date. `clean_trips` is written by reference
 * (`ctx.upstream`): parallel binary COPY streams encoded from DuckDB's chunks of its persisted output. Needs a
 * `postgres` connection in sluice.yaml; off unless `export_postgres` is true.
 */
export default async function save(_files: Table, ctx: BlockContext): Promise<void> {
  if (ctx.variables.export_postgres !== true) {
    ctx.log.info("skipped: set export_postgres=true (and a postgres connection in sluice.yaml) to load Postgres");
    return;
  }
  const slice = tripSlice(ctx);
  const months = "source_month = ANY(string_to_array($1, ','))";
  const replaceWhere = slice.days
    ? { sql: `${months} AND lpep_pickup_date >= $2::date AND lpep_pickup_date < $3::date`, params: [slice.months.join(","), slice.days.from, slice.days.to] }
    : { sql: months, params: [slice.months.join(",")] };
  const target = { schema: String(ctx.variables.pg_schema), table: String(ctx.variables.pg_table) };
  const result = await ctx.io.postgres(String(ctx.variables.pg_connection)).write(ctx.upstream("clean_trips"), target, { mode: "replace", replaceWhere });
  const days = slice.days ? `, pickups in [${slice.days.from}, ${slice.days.to})` : "";
  ctx.log.info(`replaced source months ${slice.months.join(", ")}${days} of ${result.location} with ${result.rows.toLocaleString("en-US")} rows`);
}
