/**
 * Exporter: the input into a Postgres table by binary COPY straight from the Arrow buffers. The schema and
 * table are created from the Arrow schema; `replace` loads a staging table and swaps it in one transaction
 * (a failed load leaves the old table intact), `append` adds rows, `fail` refuses an existing table.
 * Profile: `connections: { default: { kind: postgres, url: "{{ env_var('DATABASE_URL') }}" } }`.
 * Variables: `schema`, `table`, `mode`.
 */
import type { Table } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";

export default async function save(input: Table, ctx: BlockContext): Promise<void> {
  const schema = String(ctx.variables.schema ?? "public");
  const table = String(ctx.variables.table ?? "green_trips");
  const mode = ctx.variables.mode === "append" || ctx.variables.mode === "fail" ? ctx.variables.mode : "replace";
  const result = await ctx.io.postgres().write(input, { schema, table }, { mode });
  ctx.log.info(`wrote ${result.rows} rows to ${result.location}`);
}
