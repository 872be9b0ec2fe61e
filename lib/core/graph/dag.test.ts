import { indexDag } from "./dag";

describe("indexDag", () => {
  //  a ──► c
  //  b ──►─┘        c also lists "ghost" (not a node) and "a" twice
  it("keeps file order, drops unknown and repeated upstreams", () => {
    const index = indexDag([
      { name: "a", upstream: [] },
      { name: "b", upstream: [] },
      { name: "c", upstream: ["b", "ghost", "a", "b"] },
    ]);
    expect([...index.position]).toEqual([["a", 0], ["b", 1], ["c", 2]]);
    expect(index.upstream.get("c")).toEqual(["b", "a"]);
    expect(index.downstream.get("a")).toEqual(["c"]);
    expect(index.downstream.get("b")).toEqual(["c"]);
    expect(index.downstream.get("c")).toEqual([]);
  });

  it("lets the first of two same-named nodes win", () => {
    const index = indexDag([
      { name: "a", upstream: [] },
      { name: "a", upstream: ["b"] },
      { name: "b", upstream: [] },
    ]);
    expect(index.position.get("a")).toBe(0);
    expect(index.upstream.get("a")).toEqual([]);
    expect(index.downstream.get("b")).toEqual([]);
  });
});
