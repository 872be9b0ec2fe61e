import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Table } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";

/** Writes the summary to a local Parquet file with DuckDB (the upstream is a table of its name in ctx.sql). */
export default async function save(input: Table, ctx: BlockContext): Promise<void> {
  const dir = path.resolve(String(ctx.variables.output_dir));
  const file = path.join(dir, "fares_by_borough.parquet");
  await mkdir(dir, { recursive: true });
  await ctx.sql(`COPY (SELECT * FROM fares_by_borough) TO '${file.replaceAll("'", "''")}' (FORMAT parquet)`);
  ctx.log.info(`wrote ${input.numRows} rows to ${file}`);
}
