import { UserError } from "../errors";
import { ancestors, descendants, subgraph } from "./subgraph";

const node = (name: string, ...upstream: string[]) => ({ name, upstream });

//                 ┌──► b ──┐
//   a ──► (x) ────┤        ├──► d ──► e
//                 └──► c ──┘
//   lone                    f ◄── c
const graph = [
  node("a"),
  node("x", "a"),
  node("b", "x"),
  node("c", "x"),
  node("d", "b", "c"),
  node("e", "d"),
  node("lone"),
  node("f", "c"),
];

describe("subgraph", () => {
  it("only: the block alone", () => {
    expect(subgraph(graph, "d", "only")).toEqual(["d"]);
  });

  it("with_upstream: all ancestors and the block, in file order", () => {
    expect(subgraph(graph, "d", "with_upstream")).toEqual(["a", "x", "b", "c", "d"]);
    expect(subgraph(graph, "f", "with_upstream")).toEqual(["a", "x", "c", "f"]);
    expect(subgraph(graph, "a", "with_upstream")).toEqual(["a"]);
  });

  it("downstream: the block and all descendants, in file order", () => {
    expect(subgraph(graph, "c", "downstream")).toEqual(["c", "d", "e", "f"]);
    expect(subgraph(graph, "x", "downstream")).toEqual(["x", "b", "c", "d", "e", "f"]);
    expect(subgraph(graph, "lone", "downstream")).toEqual(["lone"]);
  });

  it("refuses an unknown block", () => {
    expect(() => subgraph(graph, "nope", "only")).toThrow(UserError);
    expect(() => subgraph(graph, "nope", "only")).toThrow('there is no block named "nope"');
  });
});

describe("ancestors / descendants", () => {
  it("exclude the block itself", () => {
    expect([...ancestors(graph, "d")].sort()).toEqual(["a", "b", "c", "x"]);
    expect([...descendants(graph, "c")].sort()).toEqual(["d", "e", "f"]);
    expect(ancestors(graph, "a").size).toBe(0);
  });

  //  p ──► q
  //  ▲     │
  //  └─────┘
  it("include the block when it sits on a cycle", () => {
    const cyclic = [node("p", "q"), node("q", "p")];
    expect([...ancestors(cyclic, "p")].sort()).toEqual(["p", "q"]);
    expect([...descendants(cyclic, "q")].sort()).toEqual(["p", "q"]);
  });
});
