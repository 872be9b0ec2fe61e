import { newBlockSpec, newPipeline } from "./builders";
import { applyPipelineChanges, blocksInDependencyOrder } from "./pipeline-changes";

//   load ──▶ clean ──▶ save
const base = newPipeline("p", {
  blocks: [
    newBlockSpec({ name: "save", type: "exporter", upstream: ["clean"] }),
    newBlockSpec({ name: "load", type: "loader" }),
    newBlockSpec({ name: "clean", language: "sql", upstream: ["load"] }),
  ],
});

describe("applyPipelineChanges", () => {
  it("adds a block with defaults and an upstream, without touching the input", () => {
    const result = applyPipelineChanges(base, [
      { type: "add_block", block: { name: "extra", language: "sql" } },
      { type: "add_upstream", block: "extra", upstream: "load" },
    ]);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const extra = result.pipeline.blocks.find((b) => b.name === "extra");
    expect(extra).toMatchObject({ type: "transformer", language: "sql", upstream: ["load"] });
    expect(base.blocks).toHaveLength(3);
  });

  it("refuses an edge that closes a cycle and names the cycle", () => {
    //   load ──▶ clean ──▶ save
    //     ▲                  │
    //     └──────────────────┘   (the dragged edge)
    const result = applyPipelineChanges(base, [{ type: "add_upstream", block: "load", upstream: "save" }]);
    expect(result).toEqual({
      ok: false,
      error: expect.objectContaining({ code: "cycle", cycle: ["save", "load", "clean", "save"], message: expect.stringContaining("save → load → clean → save") }),
    });
  });

  it("refuses a block listing itself, an unknown upstream and a duplicate name", () => {
    expect(applyPipelineChanges(base, [{ type: "add_upstream", block: "load", upstream: "load" }])).toMatchObject({ ok: false, error: { code: "cycle" } });
    expect(applyPipelineChanges(base, [{ type: "add_upstream", block: "load", upstream: "nope" }])).toMatchObject({ ok: false, error: { code: "missing_upstream" } });
    expect(applyPipelineChanges(base, [{ type: "add_block", block: { name: "load" } }])).toMatchObject({ ok: false, error: { code: "duplicate_block" } });
    expect(applyPipelineChanges(base, [{ type: "set_block_type", block: "ghost", blockType: "sensor" }])).toMatchObject({ ok: false, error: { code: "not_found" } });
  });

  it("renames a block and the upstream entries naming it; removing detaches downstreams", () => {
    const renamed = applyPipelineChanges(base, [{ type: "rename_block", from: "load", to: "load_trips" }]);
    expect(renamed.ok && renamed.pipeline.blocks.find((b) => b.name === "clean")?.upstream).toEqual(["load_trips"]);
    const removed = applyPipelineChanges(base, [{ type: "remove_block", name: "clean" }]);
    expect(removed.ok && removed.pipeline.blocks.map((b) => [b.name, b.upstream])).toEqual([
      ["save", []],
      ["load", []],
    ]);
  });

  it("sets and removes upstreams, type and description", () => {
    const result = applyPipelineChanges(base, [
      { type: "remove_upstream", block: "clean", upstream: "load" },
      { type: "set_upstream", block: "save", upstream: ["load", "clean"] },
      { type: "set_block_type", block: "save", blockType: "sensor" },
      { type: "set_description", description: "d" },
    ]);
    expect(result.ok && result.pipeline).toMatchObject({ description: "d", blocks: [{ name: "save", type: "sensor", upstream: ["load", "clean"] }, {}, { upstream: [] }] });
  });
});

describe("blocksInDependencyOrder", () => {
  it("puts upstreams first and keeps file order otherwise", () => {
    expect(blocksInDependencyOrder(base).map((b) => b.name)).toEqual(["load", "clean", "save"]);
  });
});
