/**
 * Exporter: the input into a Postgres table by binary COPY straight from the Arrow buffers; the schema and
 * table are created from the Arrow schema. With `date_column` (a timestamp or date column, e.g.
 * `lpep_pickup_datetime`), `replace` rewrites only the run's slice: the rows whose `date_column` falls in the
 * run's data interval (a run without one: the UTC day of its logical date) are deleted and the input inserted
 * in one transaction, and every input row must fall in it — so backfilled dates never touch each other and a
 * re-run of one date changes only that date. Without `date_column`, `replace` loads a staging table and swaps
 * it for the whole table in one transaction. `append` adds rows, `fail` refuses an existing table.
 * Profile: `connections: { default: { kind: postgres, url: "{{ env_var('DATABASE_URL') }}" } }`.
 * Variables: `schema`, `table`, `date_column`, `mode`.
 * @sluice expects: table — its upstream's output arrives as `input`.
 */
import type { Table } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";

const DAY_MS = 86_400_000;

export default async function save(input: Table, ctx: BlockContext): Promise<void> {
  const schema = String(ctx.variables.schema ?? "public");
  const table = String(ctx.variables.table ?? "green_trips");
  const column = String(ctx.variables.date_column ?? "");
  const mode = ctx.variables.mode === "append" || ctx.variables.mode === "fail" ? ctx.variables.mode : "replace";
  const postgres = ctx.io.postgres();
  if (mode !== "replace" || column === "") {
    const result = await postgres.write(input, { schema, table }, { mode });
    ctx.log.info(`wrote ${result.rows} rows to ${result.location}`);
    return;
  }
  const { start, end } = sliceOf(ctx);
  const quoted = `"${column.replaceAll('"', '""')}"`;
  // Timestamps without a zone compare as UTC wall time, like the interval's ISO text below.
  const replaceWhere = { sql: `${quoted} >= $1::timestamp AND ${quoted} < $2::timestamp`, params: [start, end] };
  const result = await postgres.write(input, { schema, table }, { mode, replaceWhere });
  ctx.log.info(`replaced ${column} in [${start}, ${end}) of ${result.location} with ${result.rows} rows`);
}

/** The run's data interval, or for a run without one the UTC day of its logical date; ISO text without a zone. */
function sliceOf(ctx: BlockContext): { start: string; end: string } {
  const text = (date: Date) => date.toISOString().slice(0, 19);
  const { start, end } = ctx.dataInterval;
  if (end.getTime() > start.getTime()) return { start: text(start), end: text(end) };
  const day = Math.floor(ctx.logicalDate.getTime() / DAY_MS) * DAY_MS;
  return { start: text(new Date(day)), end: text(new Date(day + DAY_MS)) };
}
