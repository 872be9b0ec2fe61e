import type { BlockContext } from "@sluice/sdk";

export default async function load(_ctx: BlockContext): Promise<unknown> {
  return "not a table";
}
