import { findCycle } from "./find-cycle";

const node = (name: string, ...upstream: string[]) => ({ name, upstream });

describe("findCycle", () => {
  //        ┌──► b ──┐
  //   a ───┤        ├──► d
  //        └──► c ──┘
  it("returns null for a DAG", () => {
    expect(findCycle([node("a"), node("b", "a"), node("c", "a"), node("d", "b", "c")])).toBeNull();
  });

  it("returns null for the empty graph", () => {
    expect(findCycle([])).toBeNull();
  });

  //  a ──► b ──► c
  //  ▲           │
  //  └───────────┘
  it("returns the cycle in data-flow direction, closed", () => {
    expect(findCycle([node("a", "c"), node("b", "a"), node("c", "b")])).toEqual(["a", "b", "c", "a"]);
  });

  //  start ──► x ──► y ──► z
  //            ▲           │
  //            └───────────┘        file order: start, z, y, x
  it("starts the cycle at its node written first in the file", () => {
    expect(findCycle([node("start"), node("z", "y"), node("y", "x"), node("x", "start", "z")])).toEqual(["z", "x", "y", "z"]);
  });

  //  a ──┐
  //  ▲   │
  //  └───┘
  it("reports a block listing itself", () => {
    expect(findCycle([node("ok"), node("a", "a")])).toEqual(["a", "a"]);
  });

  //  ok1 ──► ok2        m ──► n
  //                     ▲     │
  //                     └─────┘
  it("finds a cycle away from the first nodes", () => {
    expect(findCycle([node("ok1"), node("ok2", "ok1"), node("m", "n"), node("n", "m")])).toEqual(["m", "n", "m"]);
  });

  it("finds a cycle closing a long chain without deep recursion", () => {
    const nodes = Array.from({ length: 20_000 }, (_, i) => node(`n${i}`, i > 0 ? `n${i - 1}` : "n19999"));
    const cycle = findCycle(nodes);
    expect(cycle?.length).toBe(20_001);
    expect(cycle?.[0]).toBe("n0");
    expect(cycle?.[20_000]).toBe("n0");
  });
});
