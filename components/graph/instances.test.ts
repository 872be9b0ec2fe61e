/**
 * The graph's and run page's view of dynamic instances: grouped under their declared block in instance order,
 * with the skip reason the runner recorded, summarised for the collapsed node, and laid out under their block
 * when expanded (never on top of another node).
 */
import { groupInstances, summarizeStates, withExpandedInstances, type InstanceStatus } from "./instances";
import { layoutGraph, NODE_HEIGHT, NODE_WIDTH } from "./graph-layout";

const ok = (attempt = 1): InstanceStatus => ({ state: "success", attempt, error: null });

describe("groupInstances", () => {
  it("groups instance runs under their block, index keys in numeric order, plain blocks left out", () => {
    const groups = groupInstances([
      ["months", ok()],
      ["download[10]", ok()],
      ["download[2]", { state: "failed", attempt: 3, error: { code: "http_error", message: "404" } }],
      ["download", ok()],
      ["download[0]", ok()],
      ["clean[2020-11]", ok()],
      ["clean[2020-10]", { state: "skipped", attempt: 0, error: { code: "skipped", message: "condition is_weekday was false" } }],
    ]);
    expect([...groups.keys()]).toEqual(["download", "clean"]);
    expect(groups.get("download")?.map((i) => [i.name, i.key, i.state, i.attempt])).toEqual([
      ["download[0]", "0", "success", 1],
      ["download[2]", "2", "failed", 3],
      ["download[10]", "10", "success", 1],
    ]);
    // Key-column names keep the run's order (the parent's row order), not alphabetical.
    expect(groups.get("clean")?.map((i) => i.key)).toEqual(["2020-11", "2020-10"]);
    expect(groups.get("clean")?.map((i) => i.skipReason)).toEqual([null, "condition is_weekday was false"]);
    // A failure's message is not a skip reason.
    expect(groups.get("download")?.[1].skipReason).toBeNull();
  });

  it("summarises a group's states, most frequent first", () => {
    const group = groupInstances([
      ["d[0]", ok()],
      ["d[1]", { state: "failed", attempt: 2 }],
      ["d[2]", ok()],
      ["d[3]", { state: "running", attempt: 1 }],
      ["d[4]", ok()],
    ]).get("d")!;
    expect(summarizeStates(group)).toBe("3 success, 1 failed, 1 running");
    expect(summarizeStates([])).toBe("");
  });
});

describe("withExpandedInstances", () => {
  const blocks = [
    { name: "months", upstream: [] },
    { name: "fetch", upstream: ["months"] },
    { name: "report", upstream: ["fetch"] },
  ];
  const groups = groupInstances([
    ["fetch[1]", ok()],
    ["fetch[0]", ok()],
    ["report[0]", ok()],
    ["gone[0]", ok()],
  ]);

  it("adds nothing while every block is collapsed", () => {
    expect(withExpandedInstances(blocks, groups, new Set())).toEqual(blocks);
  });

  it("adds an expanded block's instances as nodes under it, in instance order, and only for blocks of the pipeline", () => {
    expect(withExpandedInstances(blocks, groups, new Set(["fetch", "gone", "months"]))).toEqual([
      ...blocks,
      { name: "fetch[0]", upstream: ["fetch"] },
      { name: "fetch[1]", upstream: ["fetch"] },
    ]);
  });

  it("gives the instances places of their own in the real layout, none on top of a block or of each other", () => {
    const positions = layoutGraph(withExpandedInstances(blocks, groups, new Set(["fetch", "report"])));
    const all = [...positions.values()];
    expect(all).toHaveLength(6);
    for (let i = 0; i < all.length; i++) {
      for (let j = i + 1; j < all.length; j++) {
        expect(Math.abs(all[i].x - all[j].x) >= NODE_WIDTH || Math.abs(all[i].y - all[j].y) >= NODE_HEIGHT).toBe(true);
      }
    }
    // Under their block.
    expect(positions.get("fetch[0]")!.y).toBeGreaterThan(positions.get("fetch")!.y);
  });
});
