import { newBlockSpec, newPipeline } from "./builders";
import { UserError } from "./errors";
import { planRun } from "./plan";

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
