import type { BlockContext } from "@sluice/sdk";

export default async function load(_ctx: BlockContext): Promise<unknown> {
  let spins = 0;
  // eslint-disable-next-line no-constant-condition
  while (true) {
    spins++;
  }
  return spins;
}
