import { newBlockSpec, newPipeline } from "./builders";
import { UserError } from "./errors";
import { findPipelineIssues, isVariableValue, validatePipeline } from "./pipeline-checks";
import { parsePipelineYaml } from "./pipeline-schema";

const block = newBlockSpec;

describe("findPipelineIssues", () => {
  //        ┌──► b ──┐
  //   a ───┤        ├──► d
  //        └──► c ──┘
  it("finds nothing wrong with a valid diamond", () => {
    const pipeline = newPipeline("diamond", {
      blocks: [block({ name: "a" }), block({ name: "b", upstream: ["a"] }), block({ name: "c", upstream: ["a"] }), block({ name: "d", upstream: ["b", "c"] })],
    });
    expect(findPipelineIssues(pipeline)).toEqual([]);
    expect(() => validatePipeline(pipeline)).not.toThrow();
  });

  it("checks name patterns of the pipeline and its blocks", () => {
    const issues = findPipelineIssues(newPipeline("Bad-Name", { blocks: [block({ name: "Load Data" })] }));
    expect(issues.map((i) => [i.code, i.path])).toEqual([
      ["invalid_value", ["name"]],
      ["invalid_value", ["blocks", 0, "name"]],
    ]);
  });

  it("names both places of a duplicate block", () => {
    const issues = findPipelineIssues(newPipeline("p", { blocks: [block({ name: "a" }), block({ name: "b" }), block({ name: "a" })] }));
    expect(issues).toEqual([
      { code: "duplicate_block", path: ["blocks", 2, "name"], block: "a", message: 'block "a" is defined twice: blocks[0].name and blocks[2].name' },
    ]);
    const byLine = findPipelineIssues(newPipeline("p", { blocks: [block({ name: "a" }), block({ name: "a" })] }), (path) => `line ${Number(path[1]) * 5 + 4}`);
    expect(byLine[0].message).toBe('block "a" is defined twice: line 4 and line 9');
  });

  it("reports a missing upstream at its entry, suggesting a near name", () => {
    const issues = findPipelineIssues(newPipeline("p", { blocks: [block({ name: "load_trips" }), block({ name: "b", upstream: ["load_trip"] })] }));
    expect(issues).toEqual([
      {
        code: "missing_upstream",
        path: ["blocks", 1, "upstream", 0],
        block: "b",
        message: 'block "b" lists upstream "load_trip", which is not a block of this pipeline (did you mean "load_trips"?)',
      },
    ]);
  });

  //  a ──┐
  //  ▲   │      a lists itself
  //  └───┘
  it("reports a block listing itself once, as a cycle", () => {
    const issues = findPipelineIssues(newPipeline("p", { blocks: [block({ name: "a", upstream: ["a"] })] }));
    expect(issues).toEqual([{ code: "cycle", path: ["blocks", 0, "upstream", 0], block: "a", message: 'block "a" lists itself as upstream' }]);
  });

  //  a ──► b ──► c
  //  ▲           │
  //  └───────────┘
  it("names a cycle and points at the edge that closes it", () => {
    const issues = findPipelineIssues(
      newPipeline("p", { blocks: [block({ name: "a", upstream: ["c"] }), block({ name: "b", upstream: ["a"] }), block({ name: "c", upstream: ["b"] })] }),
    );
    expect(issues).toEqual([{ code: "cycle", path: ["blocks", 0, "upstream", 0], block: "a", message: "the blocks form a cycle: a → b → c → a" }]);
  });

  it("reports an upstream listed twice", () => {
    const issues = findPipelineIssues(newPipeline("p", { blocks: [block({ name: "a" }), block({ name: "b", upstream: ["a", "a"] })] }));
    expect(issues.map((i) => [i.code, i.path])).toEqual([["invalid_value", ["blocks", 1, "upstream", 1]]]);
  });

  it("checks settings an edit could break", () => {
    const issues = findPipelineIssues(
      newPipeline("p", {
        blocks: [
          block({ name: "a", connection: "warehouse" }),
          block({ name: "b", language: "sql", connection: "", queue: "", timeoutMs: 0 }),
          block({ name: "c", retries: { count: -1, delayMs: 1.5, backoff: "constant", maxDelayMs: 10 } }),
          block({ name: "d", retries: { count: 1, delayMs: 5000, backoff: "exponential", maxDelayMs: 1000 } }),
        ],
      }),
    );
    expect(issues.map((i) => i.path.join("."))).toEqual([
      "blocks.0.connection",
      "blocks.1.timeout",
      "blocks.1.connection",
      "blocks.1.queue",
      "blocks.2.retries.count",
      "blocks.2.retries.delay",
      "blocks.3.retries.max_delay",
    ]);
    expect(issues[0].message).toBe('connection is for SQL blocks; TypeScript block "a" opens connections itself through ctx.io');
  });

  it("reports sensor-only keys on other blocks instead of ignoring them", () => {
    const issues = findPipelineIssues(
      newPipeline("p", {
        blocks: [
          block({ name: "wait_for_file", type: "sensor", pokeIntervalMs: 5000, softFail: true }),
          block({ name: "load", type: "loader", pokeIntervalMs: 5000 }),
          block({ name: "export", type: "exporter", upstream: ["wait_for_file"], softFail: false }),
          block({ name: "busy", type: "sensor", pokeIntervalMs: 0 }),
        ],
      }),
    );
    expect(issues).toEqual([
      { code: "invalid_value", path: ["blocks", 1, "poke_interval"], block: "load", message: 'block "load": poke_interval applies to sensors only (its type is loader)' },
      { code: "invalid_value", path: ["blocks", 2, "soft_fail"], block: "export", message: 'block "export": soft_fail applies to sensors only (its type is exporter)' },
      { code: "invalid_value", path: ["blocks", 3, "poke_interval"], block: "busy", message: 'block "busy": poke_interval must be a duration longer than 0' },
    ]);
    // From a file, the error names the file and the line of the key.
    const yaml = "version: 1\nname: p\nblocks:\n  - name: load\n    type: loader\n    language: ts\n    upstream: []\n    poke_interval: 5s\n";
    expect(() => parsePipelineYaml(yaml, "p/pipeline.yaml")).toThrow(
      expect.objectContaining({ location: expect.objectContaining({ file: "p/pipeline.yaml", line: 8, block: "load" }), message: expect.stringMatching(/^p\/pipeline\.yaml:8:\d+: .*poke_interval applies to sensors only/) }),
    );
  });

  it("checks variables are JSON values", () => {
    const issues = findPipelineIssues(newPipeline("p", { variables: { ok: [1, "a", { b: null }], bad: [1, { c: Number.NaN }] } }));
    expect(issues).toEqual([{ code: "invalid_value", path: ["variables", "bad", 1, "c"], message: "variable value NaN is not a finite number" }]);
  });
});

describe("validatePipeline", () => {
  it("throws the first issue as a UserError with path and block", () => {
    const pipeline = newPipeline("p", { blocks: [block({ name: "a" }), block({ name: "b", upstream: ["zz"] })] });
    try {
      validatePipeline(pipeline, "pipelines/p/pipeline.yaml");
      throw new Error("no error");
    } catch (error) {
      expect(error).toBeInstanceOf(UserError);
      if (!(error instanceof UserError)) return;
      expect(error.code).toBe("missing_upstream");
      expect(error.message).toBe('blocks[1].upstream[0]: block "b" lists upstream "zz", which is not a block of this pipeline');
      expect(error.location).toEqual({ file: "pipelines/p/pipeline.yaml", path: "blocks[1].upstream[0]", block: "b" });
    }
  });
});

describe("isVariableValue", () => {
  it.each([[null], ["s"], [1], [true], [[1, [2]]], [{ a: { b: [] } }]])("accepts %j", (value) => {
    expect(isVariableValue(value)).toBe(true);
  });
  it.each([[undefined], [Number.POSITIVE_INFINITY], [new Date(0)], [() => 1], [{ a: [undefined] }], [1n]])("rejects %p", (value) => {
    expect(isVariableValue(value)).toBe(false);
  });
});
