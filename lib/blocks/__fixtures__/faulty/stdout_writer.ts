import type { BlockContext } from "@sluice/sdk";

export default async function load(ctx: BlockContext): Promise<unknown> {
  console.warn("careful:", { x: 1 });
  console.error("bad thing %d", 42);
  process.stdout.write("raw stdout line\n");
  return [{ ok: true, env: ctx.env("SLUICE_TEST_SECRET") ?? null }];
}
