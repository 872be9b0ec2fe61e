import type { Table } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";

/** Uses ctx.sql over its upstream (a table named load_trips in the run database). */
export default async function countVendor(_input: Table, ctx: BlockContext): Promise<Table> {
  return ctx.sql("SELECT vendor_id, count(*)::INTEGER AS trips, max(pickup) AS last_pickup FROM load_trips WHERE vendor_id = $1 GROUP BY vendor_id", [2]);
}
