import { newBlockSpec, newPipeline } from "./builders";
import { UserError } from "./errors";
import { planRetry, planRun } from "./plan";
import type { BlockRunState } from "./run-model";

const block = (name: string, ...upstream: string[]) => newBlockSpec({ name, upstream });

//                 ┌──► b ──┐
//   a ────────────┤        ├──► d ──► e
//                 └──► c ──┘
//                      └──────► f          g (alone)
//
// written in the file as: a, c, b, d, f, e, g
const pipeline = newPipeline("diamond", {
  blocks: [block("a"), block("c", "a"), block("b", "a"), block("d", "b", "c"), block("f", "c"), block("e", "d"), block("g")],
});

describe("planRun", () => {
  it("pipeline: every block, topological with file order breaking ties, nothing cached", () => {
    expect(planRun(pipeline, { mode: "pipeline" })).toEqual({ blocks: ["a", "c", "b", "d", "f", "e", "g"], cachedInputs: [] });
  });

  it("block: only the block, its direct upstreams cached", () => {
    expect(planRun(pipeline, { mode: "block", block: "d" })).toEqual({ blocks: ["d"], cachedInputs: ["c", "b"] });
    expect(planRun(pipeline, { mode: "block", block: "a" })).toEqual({ blocks: ["a"], cachedInputs: [] });
  });

  it("with_upstream: the block and all its ancestors, nothing cached", () => {
    expect(planRun(pipeline, { mode: "with_upstream", block: "e" })).toEqual({ blocks: ["a", "c", "b", "d", "e"], cachedInputs: [] });
    expect(planRun(pipeline, { mode: "with_upstream", block: "f" })).toEqual({ blocks: ["a", "c", "f"], cachedInputs: [] });
  });

  it("from: the block and its descendants, other upstreams of those cached", () => {
    // from b: b, d, e; d also reads c (not planned) → cached; b reads a → cached.
    expect(planRun(pipeline, { mode: "from", block: "b" })).toEqual({ blocks: ["b", "d", "e"], cachedInputs: ["a", "c"] });
    expect(planRun(pipeline, { mode: "from", block: "a" })).toEqual({ blocks: ["a", "c", "b", "d", "f", "e"], cachedInputs: [] });
    expect(planRun(pipeline, { mode: "from", block: "g" })).toEqual({ blocks: ["g"], cachedInputs: [] });
  });

  it("plans an empty pipeline", () => {
    expect(planRun(newPipeline("empty"), { mode: "pipeline" })).toEqual({ blocks: [], cachedInputs: [] });
  });

  it("refuses an unknown block, naming the ones there are", () => {
    const call = () => planRun(pipeline, { mode: "block", block: "zz" });
    expect(call).toThrow(UserError);
    expect(call).toThrow('pipeline "diamond" has no block named "zz" (blocks: a, c, b, d, f, e, g)');
    try {
      call();
    } catch (error) {
      expect(error instanceof UserError && error.code).toBe("unknown_block");
    }
  });

  it("refuses a missing block for partial modes and a block for mode pipeline", () => {
    expect(() => planRun(pipeline, { mode: "from" })).toThrow('mode "from" needs a block to run');
    expect(() => planRun(pipeline, { mode: "pipeline", block: "a" })).toThrow(UserError);
  });

  //  a ──► b
  //  ▲     │
  //  └─────┘
  it("refuses an invalid pipeline with its validation error", () => {
    const cyclic = newPipeline("p", { blocks: [block("a", "b"), block("b", "a")] });
    expect(() => planRun(cyclic, { mode: "pipeline" })).toThrow("the blocks form a cycle: a → b → a");
  });
});

describe("planRetry (the diamond above)", () => {
  const run = (states: Record<string, BlockRunState>, cached: string[] = []) => ({
    blocks: Object.entries(states).map(([name, state]) => ({ name, state })),
    cachedInputs: new Set(cached),
  });
  const all = (state: BlockRunState) => Object.fromEntries(["a", "c", "b", "d", "f", "e", "g"].map((n) => [n, state]));

  it("clears every failed, upstream_failed and cancelled block run at once", () => {
    const states = { ...all("success"), b: "failed", c: "failed", d: "upstream_failed", e: "upstream_failed", f: "upstream_failed", g: "cancelled" } as const;
    expect(planRetry(pipeline, run(states))).toEqual(["c", "b", "d", "f", "e", "g"]);
  });

  it("from a block: it and its downstream within the run, whatever their states", () => {
    expect(planRetry(pipeline, run(all("success")), "b")).toEqual(["b", "d", "e"]);
  });

  it("refuses a retry from a block whose other upstream did not succeed in this run", () => {
    const states = { ...all("success"), c: "failed", d: "upstream_failed", e: "upstream_failed", f: "upstream_failed" } as const;
    expect(() => planRetry(pipeline, run(states), "b")).toThrow(/upstream "c" of "d" is failed in this run/);
  });

  it("accepts upstreams the run read from an earlier run, and refuses a run with nothing to retry", () => {
    expect(planRetry(pipeline, run({ d: "failed", e: "upstream_failed" }, ["b", "c"]), "d")).toEqual(["d", "e"]);
    expect(() => planRetry(pipeline, run(all("success")))).toThrow(expect.objectContaining({ code: "nothing_to_retry" }));
    expect(() => planRetry(pipeline, run({ d: "failed" }, ["b", "c"]), "a")).toThrow(expect.objectContaining({ code: "unknown_block" }));
  });
});
