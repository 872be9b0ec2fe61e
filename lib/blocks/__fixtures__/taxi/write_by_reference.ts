import type { Table } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";

/** Writes both upstreams by reference (never decoding them here): the TS one as a Parquet file, the SQL one as a lake. */
export default async function save(_first: Table, ctx: BlockContext): Promise<void> {
  const out = String(ctx.variables.out_dir);
  const loaded = ctx.upstream("load_trips");
  const clean = ctx.upstream("clean_trips");
  const file = await ctx.io.files.write(loaded, `${out}/load_trips.parquet`);
  const lake = await ctx.io.files.write(clean, `${out}/lake`, { partitionBy: ["vendor_id"] });
  ctx.log.info(`${loaded.format} ${file.rows}, ${clean.format} ${lake.rows}`);
  try {
    ctx.upstream("missing");
  } catch (error) {
    ctx.log.warn(error instanceof Error ? error.message : String(error));
  }
}
