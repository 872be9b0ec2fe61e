import { UserError } from "./errors";
import { conditionValueFromRows, expandDynamic, instanceNames, instanceSpec, MAX_DYNAMIC_INSTANCES, parseInstanceName, reduceSql, type RunNode } from "./dynamic";
import { DEFAULT_RETRY_POLICY, type BlockSpec } from "./model";
import { planRetry } from "./plan";

const block = (name: string, upstream: string[], extra: Partial<BlockSpec> = {}): BlockSpec => ({
  name,
  type: "transformer",
  language: "ts",
  upstream,
  retries: DEFAULT_RETRY_POLICY,
  timeoutMs: null,
  connection: null,
  queue: null,
  ...extra,
});

/** One line per run node, `name ◄ upstreams`, so a graph reads as it is drawn in the comment above each test. */
const draw = (nodes: RunNode[]) => nodes.map((n) => `${n.name}${n.upstream.length ? ` ◄ ${n.upstream.join(", ")}` : ""}`);

//   months(dynamic) ──► download(reduce) ──► clean
//                  └──► audit
const pipeline = [
  block("months", [], { type: "loader", dynamic: true }),
  block("download", ["months"], { reduce: true }),
  block("audit", ["months"]),
  block("clean", ["download"]),
];

describe("expandDynamic", () => {
  //                  ┌──► download[0] ──┐
  //   months(2 rows) ┤                  ├──► download ──► clean
  //                  ├──► download[1] ──┘
  //                  ├──► audit[0] ──┐
  //                  └──► audit[1] ──┴──► audit
  it("makes one instance per row of each direct downstream block, then the group fed by its instances", () => {
    const items = new Map([["months", [{ month: "2020-10" }, { month: "2020-11" }]]]);
    const nodes = expandDynamic(pipeline, items);
    expect(draw(nodes)).toEqual([
      "months",
      "download[0] ◄ months",
      "download[1] ◄ months",
      "download ◄ download[0], download[1]",
      "audit[0] ◄ months",
      "audit[1] ◄ months",
      "audit ◄ audit[0], audit[1]",
      "clean ◄ download",
    ]);
    expect(nodes.find((n) => n.name === "download[1]")).toMatchObject({ instanceOf: "download", item: { month: "2020-11" } });
    expect(nodes.find((n) => n.name === "download")?.instances).toEqual(["download[0]", "download[1]"]);
  });

  //   months(0 rows) ──► download (no instances: skipped) ──► clean
  it("zero rows: groups without instances (the runner skips them)", () => {
    const nodes = expandDynamic(pipeline, new Map([["months", []]]));
    expect(draw(nodes)).toEqual(["months", "download", "audit", "clean ◄ download"]);
    expect(nodes.find((n) => n.name === "download")?.instances).toEqual([]);
  });

  it("before the dynamic block has run, the graph is as declared", () => {
    expect(draw(expandDynamic(pipeline, new Map()))).toEqual(["months", "download ◄ months", "audit ◄ months", "clean ◄ download"]);
  });

  //   months(dynamic, dynamic_key: month) ──► download[2020-10], download[2020-11]
  it("names instances by the dynamic_key column", () => {
    const keyed = [block("months", [], { type: "loader", dynamic: true, dynamicKey: "month" }), block("download", ["months"])];
    const nodes = expandDynamic(keyed, new Map([["months", [{ month: "2020-10" }, { month: "2020-11" }]]]));
    expect(draw(nodes)).toEqual(["months", "download[2020-10] ◄ months", "download[2020-11] ◄ months", "download ◄ download[2020-10], download[2020-11]"]);
  });
});

describe("instanceNames", () => {
  const parent = { name: "months", dynamicKey: "month" };
  it("refuses keys that cannot name an instance, and repeated keys", () => {
    expect(() => instanceNames("d", parent, [{ month: "a b" }])).toThrow('dynamic block "months": row 0 has month = "a b"');
    expect(() => instanceNames("d", parent, [{}])).toThrow("row 0 has month = undefined");
    expect(() => instanceNames("d", parent, [{ month: 1 }, { month: "1" }])).toThrow('rows 0 and 1 both have month = "1"');
  });
  it("refuses more rows than instances allowed", () => {
    const rows = Array.from({ length: MAX_DYNAMIC_INSTANCES + 1 }, () => ({}));
    expect(() => instanceNames("d", { name: "months" }, rows)).toThrow(UserError);
  });
  it("parses back", () => {
    expect(parseInstanceName("download[2020-10]")).toEqual({ block: "download", key: "2020-10" });
    expect(parseInstanceName("download")).toBeNull();
  });
});

describe("instanceSpec", () => {
  it("runs the declared block's code under the instance's name, without the dynamic keys", () => {
    const spec = instanceSpec(block("download", ["months"], { reduce: true, retries: { ...DEFAULT_RETRY_POLICY, count: 2 } }), "download[1]");
    expect(spec).toMatchObject({ name: "download[1]", instanceOf: "download", upstream: ["months"], retries: { count: 2 } });
    expect(spec.reduce).toBeUndefined();
  });
});

describe("reduceSql", () => {
  it("gathers instance tables by column name, in instance order then row order", () => {
    expect(reduceSql(["d[0]", "d[1]"])).toBe(
      [
        "SELECT * EXCLUDE (__sluice_instance, __sluice_row) FROM (",
        'SELECT *, 0 AS __sluice_instance, row_number() OVER () AS __sluice_row FROM "d[0]"',
        "UNION ALL BY NAME",
        'SELECT *, 1 AS __sluice_instance, row_number() OVER () AS __sluice_row FROM "d[1]"',
        ") ORDER BY __sluice_instance, __sluice_row",
      ].join("\n"),
    );
  });
});

describe("conditionValueFromRows", () => {
  it("one row with one boolean cell", () => {
    expect(conditionValueFromRows("c", [{ ok: false }])).toBe(false);
    expect(conditionValueFromRows("c", [{ ok: true }])).toBe(true);
  });
  it("anything else is a precise error", () => {
    expect(() => conditionValueFromRows("c", [])).toThrow("condition c returned 0 row(s)");
    expect(() => conditionValueFromRows("c", [{ a: true }, { a: false }])).toThrow("returned 2 row(s) with column(s) a");
    expect(() => conditionValueFromRows("c", [{ a: 1 }])).toThrow("one row with one boolean column");
  });
});

describe("planRetry with instances", () => {
  const pipelineSpec = { version: 1 as const, name: "p", description: "", variables: {}, blocks: pipeline };
  const run = (states: Record<string, string>) => ({
    blocks: Object.entries(states).map(([name, state]) => ({ name, state: state as never })),
    cachedInputs: new Set<string>(),
  });

  //   months ──► download[0] ✓ , download[1] ✗ ──► download ──► clean
  it("retries one instance alone: it, its group and what follows the group; not its siblings", () => {
    const states = { months: "success", "download[0]": "success", "download[1]": "failed", download: "upstream_failed", clean: "upstream_failed", audit: "success" };
    expect(planRetry(pipelineSpec, run(states), "download[1]")).toEqual(["download[1]", "download", "clean"]);
    expect(planRetry(pipelineSpec, run(states))).toEqual(["download[1]", "download", "clean"]);
  });

  it("refuses to retry one instance while a sibling is failed", () => {
    const states = { months: "success", "download[0]": "failed", "download[1]": "failed", download: "upstream_failed", clean: "upstream_failed", audit: "success" };
    expect(() => planRetry(pipelineSpec, run(states), "download[1]")).toThrow('instance "download[0]" of the same block is failed');
  });

  it("retrying the dynamic block re-runs every instance of its groups", () => {
    const states = { months: "success", "download[0]": "success", "download[1]": "success", download: "success", clean: "success", "audit[0]": "success", audit: "success" };
    expect(planRetry(pipelineSpec, run(states), "months")).toEqual(["months", "download[0]", "download[1]", "download", "clean", "audit[0]", "audit"]);
  });
});
