import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Table } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";

/** Writes the cleaned trips as a hive-style Parquet lake: <lake_dir>/lpep_pickup_date=YYYY-MM-DD/*.parquet */
export default async function save(input: Table, ctx: BlockContext): Promise<void> {
  const dir = path.resolve(String(ctx.variables.lake_dir));
  const quoted = dir.replaceAll("'", "''");
  await mkdir(dir, { recursive: true });
  await ctx.sql(
    `COPY (SELECT * FROM clean_trips) TO '${quoted}' (FORMAT parquet, PARTITION_BY (lpep_pickup_date), OVERWRITE_OR_IGNORE)`,
  );
  ctx.log.info(`wrote ${input.numRows} rows to ${dir}, partitioned by lpep_pickup_date`);
}
