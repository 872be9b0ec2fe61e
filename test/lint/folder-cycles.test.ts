import { findCycle, libFolderEdges, type FolderEdge } from "./folder-graph";
import { REPO_ROOT } from "./eslint-cli";

const describeCycle = (cycle: FolderEdge[]) => cycle.map((edge) => `${edge.from} → ${edge.to} (${edge.example})`).join("\n");

describe("folder import graph of lib/", () => {
  test("has no cycle", () => {
    const edges = libFolderEdges(REPO_ROOT);
    expect(edges.length).toBeGreaterThan(10);
    const cycle = findCycle(edges);
    expect(cycle === null ? "no cycle" : describeCycle(cycle)).toBe("no cycle");
  });

  test("the codecs depend on core alone", () => {
    const fromArrow = libFolderEdges(REPO_ROOT).filter((edge) => edge.from === "lib/arrow");
    expect(fromArrow.map((edge) => edge.to)).toEqual(["lib/core"]);
  });

  test("the cycle finder reports a cycle with the imports that make it", () => {
    const edges: FolderEdge[] = [
      { from: "lib/blocks", to: "lib/io", example: "lib/blocks/a.ts imports \"../io/b\"" },
      { from: "lib/io", to: "lib/core", example: "lib/io/b.ts imports \"../core/c\"" },
      { from: "lib/io", to: "lib/blocks", example: "lib/io/b.ts imports \"../blocks/a\"" },
    ];
    const cycle = findCycle(edges);
    expect(cycle && describeCycle(cycle)).toBe(
      'lib/blocks → lib/io (lib/blocks/a.ts imports "../io/b")\nlib/io → lib/blocks (lib/io/b.ts imports "../blocks/a")',
    );
    expect(findCycle(edges.filter((edge) => edge.to !== "lib/blocks"))).toBeNull();
  });
});
