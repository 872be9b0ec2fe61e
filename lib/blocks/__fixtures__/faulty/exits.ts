import type { BlockContext } from "@sluice/sdk";

export default async function load(_ctx: BlockContext): Promise<unknown> {
  process.exit(3);
}
