import { createBlockAutosave } from "./block-autosave";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An autosave whose writes only record which block they saved. */
function recordingAutosave(delayMs: number) {
  const writes: string[] = [];
  const autosave = createBlockAutosave(async (block) => {
    writes.push(block);
    return true;
  }, delayMs);
  return { writes, autosave };
}

describe("block autosave", () => {
  it("saves once after typing pauses, not on every keystroke", async () => {
    const { writes, autosave } = recordingAutosave(30);
    autosave.edited("clean_trips");
    await sleep(10);
    autosave.edited("clean_trips");
    await sleep(10);
    autosave.edited("clean_trips");
    expect(writes).toEqual([]);
    await sleep(60);
    expect(writes).toEqual(["clean_trips"]);
    autosave.dispose();
  });

  it("never overlaps two saves of one block: the second starts when the first has answered", async () => {
    const events: string[] = [];
    let version = 1;
    const autosave = createBlockAutosave(async (block, force) => {
      const sentWith = version;
      events.push(`send ${block} v${sentWith}${force ? " force" : ""}`);
      await sleep(20);
      version = sentWith + 1;
      events.push(`saved ${block} v${version}`);
      return true;
    }, 1000);
    const first = autosave.save("load_green_taxi", false);
    const second = autosave.save("load_green_taxi", true);
    const other = autosave.save("to_postgres", false);
    expect(await Promise.all([first, second, other])).toEqual([true, true, true]);
    expect(events.filter((e) => e.includes("load_green_taxi"))).toEqual([
      "send load_green_taxi v1",
      "saved load_green_taxi v2",
      "send load_green_taxi v2 force",
      "saved load_green_taxi v3",
    ]);
    autosave.dispose();
  });

  it("an explicit save cancels the pending pause, and dispose cancels the rest", async () => {
    const { writes, autosave } = recordingAutosave(20);
    autosave.edited("a");
    autosave.edited("b");
    await autosave.save("a", false);
    autosave.dispose();
    await sleep(50);
    expect(writes).toEqual(["a"]);
  });
});
