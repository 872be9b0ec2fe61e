/**
 * Exporter: the input as a table of the DuckDB warehouse. `replace` publishes the new table in one
 * transaction (a failed load leaves the old one), `append` adds rows by column name, `fail` refuses an
 * existing table. Variables: `table` (`schema.table` allowed), `mode`.
 * @sluice expects: table — its upstream's output arrives as `input`.
 */
import type { Table } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";

export default async function save(input: Table, ctx: BlockContext): Promise<void> {
  const target = String(ctx.variables.table ?? "green_trips");
  const mode = ctx.variables.mode === "append" || ctx.variables.mode === "fail" ? ctx.variables.mode : "replace";
  const result = await ctx.io.duckdb().write(input, target, { mode });
  ctx.log.info(`wrote ${result.rows} rows to ${result.location}`);
}
