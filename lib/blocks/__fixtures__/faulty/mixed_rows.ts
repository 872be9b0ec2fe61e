import type { BlockContext, Row } from "@sluice/sdk";

export default async function load(_ctx: BlockContext): Promise<Row[]> {
  return [{ id: 1 }, { id: "two" }];
}
