import type { Table } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";

/**
 * The cleaned trips into Postgres (binary COPY from the Arrow buffers), replaced on every run: the table is
 * loaded into a staging table and swapped in one transaction, so a failed load leaves the old one intact.
 * Needs a `postgres` connection in sluice.yaml; off unless `export_postgres` is true.
 */
export default async function save(input: Table, ctx: BlockContext): Promise<void> {
  if (ctx.variables.export_postgres !== true) {
    ctx.log.info("skipped: set export_postgres=true (and a postgres connection in sluice.yaml) to load Postgres");
    return;
  }
  const target = { schema: String(ctx.variables.pg_schema), table: String(ctx.variables.pg_table) };
  const result = await ctx.io.postgres(String(ctx.variables.pg_connection)).write(input, target, { mode: "replace" });
  ctx.log.info(`wrote ${result.rows.toLocaleString("en-US")} rows to ${result.location}`);
}
