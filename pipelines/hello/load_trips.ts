import { tableFromArrays, type Table } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";

const BOROUGHS = ["Bronx", "Brooklyn", "Manhattan", "Queens", "Staten Island"];

/**
 * Makes `rows` synthetic taxi trips of the run's logical date, deterministically (the same date always gives
 * the same trips, another date other fares), so the example runs anywhere without a network.
 */
export default async function load(ctx: BlockContext): Promise<Table> {
  const rows = Number(ctx.variables.rows ?? 1000);
  const day = Math.floor(ctx.logicalDate.getTime() / 86_400_000);
  const borough: string[] = [];
  const fare = new Float64Array(rows);
  const passengers = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    borough.push(BOROUGHS[i % BOROUGHS.length]);
    fare[i] = 2.5 + ((i * 37 + day) % 400) / 10;
    passengers[i] = 1 + (i % 4);
  }
  ctx.log.info(`generated ${rows} trips for ${ctx.logicalDate.toISOString().slice(0, 10)}`);
  return tableFromArrays({ trip_id: Int32Array.from({ length: rows }, (_, i) => i + 1), borough, fare, passengers });
}

export async function test(output: Table) {
  if (output.numRows === 0) throw new Error("expected at least one trip");
}
