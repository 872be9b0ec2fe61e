import { UserError } from "../errors";
import { topologicalOrder } from "./topological-order";

const node = (name: string, ...upstream: string[]) => ({ name, upstream });

describe("topologicalOrder", () => {
  //  a ──► b ──► c
  it("keeps a chain written in order", () => {
    expect(topologicalOrder([node("a"), node("b", "a"), node("c", "b")])).toEqual(["a", "b", "c"]);
  });

  //  a ──► b ──► c      written in the file as: c, b, a
  it("reorders a chain written backwards", () => {
    expect(topologicalOrder([node("c", "b"), node("b", "a"), node("a")])).toEqual(["a", "b", "c"]);
  });

  //        ┌──► b ──┐
  //   a ───┤        ├──► d
  //        └──► c ──┘
  it("orders a diamond with file order deciding between b and c", () => {
    expect(topologicalOrder([node("a"), node("b", "a"), node("c", "a"), node("d", "b", "c")])).toEqual(["a", "b", "c", "d"]);
    expect(topologicalOrder([node("a"), node("c", "a"), node("b", "a"), node("d", "b", "c")])).toEqual(["a", "c", "b", "d"]);
  });

  //  x ──► y          p (alone)        q ──► r
  //  file order: q, x, p, r, y
  it("breaks every tie by file order, also between independent chains", () => {
    expect(topologicalOrder([node("q"), node("x"), node("p"), node("r", "q"), node("y", "x")])).toEqual(["q", "x", "p", "r", "y"]);
  });

  //  late ──► early          early is written first but must wait for late;
  //  free                    free is ready at once and written before late
  it("runs a ready block before a waiting one written earlier", () => {
    expect(topologicalOrder([node("early", "late"), node("free"), node("late")])).toEqual(["free", "late", "early"]);
  });

  //  a ──► b     ("outside" is not a node: ignored, as when ordering a subgraph)
  it("ignores upstreams that are not nodes", () => {
    expect(topologicalOrder([node("b", "a", "outside"), node("a")])).toEqual(["a", "b"]);
  });

  it("orders the empty graph", () => {
    expect(topologicalOrder([])).toEqual([]);
  });

  //  a ──► b ──► c
  //  ▲           │
  //  └───────────┘
  it("refuses a cycle and names it", () => {
    const call = () => topologicalOrder([node("a", "c"), node("b", "a"), node("c", "b")]);
    expect(call).toThrow(UserError);
    expect(call).toThrow("the blocks form a cycle: a → b → c → a");
  });

  it("orders a long chain without deep recursion", () => {
    const nodes = Array.from({ length: 20_000 }, (_, i) => node(`n${i}`, ...(i > 0 ? [`n${i - 1}`] : [])));
    const order = topologicalOrder([...nodes].reverse());
    expect(order[0]).toBe("n0");
    expect(order[19_999]).toBe("n19999");
  });
});
