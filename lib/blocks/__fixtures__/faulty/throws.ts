import type { BlockContext } from "@sluice/sdk";

function parseFare(text: string): number {
  const value = Number(text);
  if (Number.isNaN(value)) {
    throw new Error(`bad fare: ${text}`); // line 6
  }
  return value;
}

export default async function load(ctx: BlockContext): Promise<unknown> {
  ctx.log.info("about to fail");
  return [{ fare: parseFare("abc") }];
}
