import { tableFromArrays, type Table } from "apache-arrow";
import { check, type BlockContext } from "@sluice/sdk";

export default async function load(_ctx: BlockContext): Promise<Table> {
  return tableFromArrays({ fare: Float64Array.from([5, -3, 12]) });
}

export async function test(output: Table): Promise<void> {
  const fares = output.getChild("fare")?.toArray() ?? [];
  check(Array.from(fares).every((fare) => fare >= 0), "fares must not be negative");
}
