import type { Table } from "apache-arrow";
import type { BlockContext, Row } from "@sluice/sdk";

/** Returns plain objects: the schema is inferred (numbers → Float64, strings → Utf8, Dates → Timestamp). */
export default async function toKm(input: Table, ctx: BlockContext): Promise<Row[]> {
  ctx.log.debug("upstreams:", Object.keys(ctx.inputs).join(","));
  return input.toArray().map((row) => ({
    vendor: row.vendor_id,
    km: row.trip_distance === null ? null : Math.round(row.trip_distance * 1609.344) / 1000,
    zone: row.zone,
    seen_at: new Date("2021-01-01T00:00:00.000Z"),
  }));
}
