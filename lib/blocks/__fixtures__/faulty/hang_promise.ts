import type { BlockContext } from "@sluice/sdk";

export default async function load(ctx: BlockContext): Promise<unknown> {
  console.log("waiting forever");
  ctx.signal.addEventListener("abort", () => undefined);
  await new Promise(() => {});
  return [];
}
