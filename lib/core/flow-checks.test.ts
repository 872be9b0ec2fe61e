import { parsePipelineYaml, serializePipeline } from "./pipeline-schema";
import { planRun } from "./plan";

const FILE = "pipelines/p/pipeline.yaml";
const yaml = (...blocks: string[]) => `version: 1\nname: p\nblocks:\n${blocks.map((b) => `  - ${b}`).join("\n")}\n`;
const errorOf = (text: string) => {
  try {
    parsePipelineYaml(text, FILE);
  } catch (error) {
    return (error as Error).message;
  }
  return "no error";
};

describe("control-flow keys in pipeline.yaml", () => {
  it("round-trips trigger_rule, conditions, dynamic, dynamic_key and reduce", () => {
    const text = yaml(
      "{ name: is_weekday, type: condition, language: ts }",
      "{ name: months, type: loader, language: sql, dynamic: true, dynamic_key: month }",
      "{ name: fetch, type: transformer, language: ts, upstream: [months], reduce: true, conditions: [is_weekday] }",
      "{ name: cleanup, type: exporter, language: ts, upstream: [fetch], trigger_rule: all_done }",
    );
    const pipeline = parsePipelineYaml(text, FILE);
    expect(pipeline.blocks[1]).toMatchObject({ dynamic: true, dynamicKey: "month" });
    expect(pipeline.blocks[2]).toMatchObject({ reduce: true, conditions: ["is_weekday"] });
    expect(pipeline.blocks[3].triggerRule).toBe("all_done");
    expect(parsePipelineYaml(serializePipeline(pipeline), FILE)).toEqual(pipeline);
    expect(serializePipeline(pipeline)).toContain("conditions: [is_weekday]");
  });

  it("refuses an unknown trigger rule with the list", () => {
    expect(errorOf(yaml("{ name: a, type: loader, language: ts, trigger_rule: all_sucess }"))).toMatch(/^pipelines\/p\/pipeline.yaml:4:.*trigger_rule.*all_success/);
  });

  it.each([
    [yaml("{ name: a, type: loader, language: ts, conditions: [b] }"), 'lists condition "b", which is not a block'],
    [yaml("{ name: a, type: loader, language: ts, conditions: [b] }", "{ name: b, type: loader, language: ts }"), '"b" is a loader, not a condition block'],
    [yaml("{ name: a, type: exporter, language: ts, dynamic: true }"), "a exporter returns no rows, so it cannot be dynamic"],
    [yaml("{ name: a, type: loader, language: ts, dynamic_key: k }"), "dynamic_key applies to a block with dynamic: true"],
    [yaml("{ name: a, type: loader, language: ts, reduce: true }"), "none of its upstreams is dynamic"],
    [
      yaml("{ name: a, type: loader, language: ts, dynamic: true }", "{ name: b, type: loader, language: ts, dynamic: true }", "{ name: c, type: transformer, language: ts, upstream: [a, b] }"),
      "is downstream of two dynamic blocks (a, b)",
    ],
    [yaml("{ name: c, type: condition, language: ts, upstream: [a] }", "{ name: a, type: loader, language: ts, conditions: [c] }"), "the blocks and their conditions form a cycle"],
  ])("refuses %#", (text, message) => {
    expect(errorOf(text)).toContain(message);
  });
});

describe("planRun with conditions", () => {
  //   is_weekday ··► report ◄── load
  const pipeline = parsePipelineYaml(
    yaml("{ name: load, type: loader, language: ts }", "{ name: report, type: transformer, language: ts, upstream: [load], conditions: [is_weekday] }", "{ name: is_weekday, type: condition, language: ts }"),
    FILE,
  );
  it("orders a condition before the blocks it gates", () => {
    expect(planRun(pipeline, { mode: "pipeline" }).blocks).toEqual(["load", "is_weekday", "report"]);
  });
  it("evaluates the conditions of a block run alone again (never cached)", () => {
    expect(planRun(pipeline, { mode: "block", block: "report" })).toEqual({ blocks: ["is_weekday", "report"], cachedInputs: ["load"] });
  });
});
