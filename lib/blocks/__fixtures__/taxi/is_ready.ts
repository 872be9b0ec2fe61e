import type { BlockContext } from "@sluice/sdk";

export default async function ready(ctx: BlockContext): Promise<boolean> {
  return ctx.variables.ready === true;
}
