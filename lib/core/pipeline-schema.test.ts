import { newBlockSpec, newPipeline } from "./builders";
import { UserError } from "./errors";
import { DEFAULT_RETRY_POLICY, type Pipeline } from "./model";
import { lintPipelineYaml, parsePipelineYaml, serializePipeline, validatePipeline } from "./pipeline-schema";

const DESIGN_EXAMPLE = `version: 1
name: green_taxi_etl
description: NYC green taxi Q4 2020 → Postgres and a Parquet lake
variables:            # defaults; overridable per trigger/run
  months: [10, 11, 12]
blocks:
  - name: load_green_taxi        # unique; [a-z0-9_]+; also the file stem and the SQL table name
    type: loader                 # loader | transformer | exporter | sensor
    language: ts                 # ts | sql   (file = <name>.<ext>)
    upstream: []
  - name: clean_trips
    type: transformer
    language: sql
    upstream: [load_green_taxi]
  - name: to_postgres
    type: exporter
    language: ts
    upstream: [clean_trips]
    retries: { count: 3, delay: 5s, backoff: exponential, max_delay: 1m }
    timeout: 10m
`;

function parseError(text: string, file = "pipelines/p/pipeline.yaml"): UserError {
  try {
    parsePipelineYaml(text, file);
  } catch (error) {
    if (error instanceof UserError) return error;
    throw error;
  }
  throw new Error("expected a UserError");
}

const yaml = (...lines: string[]) => lines.join("\n") + "\n";

describe("parsePipelineYaml", () => {
  it("reads the documented example pipeline into the model", () => {
    const pipeline = parsePipelineYaml(DESIGN_EXAMPLE, "pipeline.yaml");
    expect(pipeline).toEqual({
      version: 1,
      name: "green_taxi_etl",
      description: "NYC green taxi Q4 2020 → Postgres and a Parquet lake",
      variables: { months: [10, 11, 12] },
      blocks: [
        newBlockSpec({ name: "load_green_taxi", type: "loader", language: "ts" }),
        newBlockSpec({ name: "clean_trips", type: "transformer", language: "sql", upstream: ["load_green_taxi"] }),
        newBlockSpec({
          name: "to_postgres",
          type: "exporter",
          language: "ts",
          upstream: ["clean_trips"],
          retries: { count: 3, delayMs: 5000, backoff: "exponential", maxDelayMs: 60_000 },
          timeoutMs: 600_000,
        }),
      ],
    });
  });

  it("fills defaults for what is left out or left empty", () => {
    const pipeline = parsePipelineYaml(
      yaml("version: 1", "name: p", "blocks:", "  - name: a", "    type: loader", "    language: sql", "    upstream:", "    retries: { count: 2 }", "    connection: warehouse", "    queue: heavy"),
      "p.yaml",
    );
    expect(pipeline.description).toBe("");
    expect(pipeline.variables).toEqual({});
    expect(pipeline.blocks[0]).toEqual(
      newBlockSpec({ name: "a", type: "loader", language: "sql", retries: { ...DEFAULT_RETRY_POLICY, count: 2 }, connection: "warehouse", queue: "heavy" }),
    );
    expect(parsePipelineYaml("version: 1\nname: empty\n", "p.yaml").blocks).toEqual([]);
  });

  it("accepts a timeout in milliseconds as a number", () => {
    const pipeline = parsePipelineYaml(yaml("version: 1", "name: p", "blocks:", "  - { name: a, type: loader, language: ts, timeout: 1500 }"), "p.yaml");
    expect(pipeline.blocks[0].timeoutMs).toBe(1500);
  });

  describe("errors", () => {
    it("invalid YAML: line and column", () => {
      const error = parseError(yaml("version: 1", "name: p", "blocks:", "  - name: a", "    upstream: [x", "  - name: b"));
      expect(error.code).toBe("invalid_yaml");
      expect(error.location.file).toBe("pipelines/p/pipeline.yaml");
      expect(error.location.line).toBeGreaterThanOrEqual(5);
      expect(error.location.column).toEqual(expect.any(Number));
      expect(error.message).toContain("invalid YAML");
    });

    it("unknown key: its path, line and a suggestion", () => {
      const error = parseError(
        yaml("version: 1", "name: p", "blocks:", "  - name: a", "    type: loader", "    language: ts", "  - name: b", "    type: transformer", "    language: ts", "    upstrem: [a]"),
      );
      expect(error.code).toBe("unknown_key");
      expect(error.location).toEqual({ file: "pipelines/p/pipeline.yaml", path: "blocks[1].upstrem", line: 10, column: 5, block: "b" });
      expect(error.message).toBe('pipelines/p/pipeline.yaml:10:5: blocks[1].upstrem: unknown key "upstrem" (did you mean "upstream"?)');
    });

    it("unknown key at the top and inside retries", () => {
      expect(parseError(yaml("version: 1", "name: p", "schedule: daily")).location.path).toBe("schedule");
      const nested = parseError(yaml("version: 1", "name: p", "blocks:", "  - name: a", "    type: loader", "    language: ts", "    retries: { count: 1, dealy: 5s }"));
      expect(nested.location).toMatchObject({ path: "blocks[0].retries.dealy", line: 7, block: "a" });
      expect(nested.message).toContain('(did you mean "delay"?)');
    });

    it("wrong version, type, language and duration: invalid_value at the value", () => {
      expect(parseError(yaml("version: 2", "name: p")).message).toBe("pipelines/p/pipeline.yaml:1:10: version: unsupported version 2; this Sluice reads version: 1");
      expect(parseError(yaml("name: p")).message).toBe("pipelines/p/pipeline.yaml:1:1: version: missing required key (write version: 1)");
      const type = parseError(yaml("version: 1", "name: p", "blocks:", "  - name: a", "    type: loadr", "    language: ts"));
      expect(type.code).toBe("invalid_value");
      expect(type.message).toBe(
        'pipelines/p/pipeline.yaml:5:11: blocks[0].type: expected one of loader, transformer, exporter, sensor, condition, got the text "loadr" (did you mean "loader"?)',
      );
      const duration = parseError(yaml("version: 1", "name: p", "blocks:", "  - name: a", "    type: loader", "    language: ts", "    timeout: 10 minutes"));
      expect(duration.location).toMatchObject({ path: "blocks[0].timeout", line: 7, column: 14, block: "a" });
      expect(duration.message).toContain('"10 minutes" is not a duration');
    });

    it("bad block name", () => {
      const error = parseError(yaml("version: 1", "name: p", "blocks:", "  - name: Load-Data", "    type: loader", "    language: ts"));
      expect(error.code).toBe("invalid_value");
      expect(error.location).toMatchObject({ path: "blocks[0].name", line: 4, block: "Load-Data" });
    });

    it("duplicate block: names both lines", () => {
      const error = parseError(
        yaml("version: 1", "name: p", "blocks:", "  - name: a", "    type: loader", "    language: ts", "  - name: a", "    type: loader", "    language: sql"),
      );
      expect(error.code).toBe("duplicate_block");
      expect(error.location).toMatchObject({ line: 7, path: "blocks[1].name", block: "a" });
      expect(error.message).toBe('pipelines/p/pipeline.yaml:7:11: blocks[1].name: block "a" is defined twice: line 4 and line 7');
    });

    it("missing upstream", () => {
      const error = parseError(yaml("version: 1", "name: p", "blocks:", "  - name: a", "    type: loader", "    language: ts", "    upstream: [ghost]"));
      expect(error.code).toBe("missing_upstream");
      expect(error.location).toMatchObject({ line: 7, column: 16, path: "blocks[0].upstream[0]", block: "a" });
    });

    it("a block listing itself", () => {
      const error = parseError(yaml("version: 1", "name: p", "blocks:", "  - { name: a, type: loader, language: ts, upstream: [a] }"));
      expect(error.code).toBe("cycle");
      expect(error.message).toContain('block "a" lists itself as upstream');
    });

    //  a ──► b ──► c
    //  ▲           │
    //  └───────────┘
    it("cycle: names it", () => {
      const error = parseError(
        yaml(
          "version: 1",
          "name: p",
          "blocks:",
          "  - { name: a, type: loader, language: ts, upstream: [c] }",
          "  - { name: b, type: transformer, language: ts, upstream: [a] }",
          "  - { name: c, type: transformer, language: ts, upstream: [b] }",
        ),
      );
      expect(error.code).toBe("cycle");
      expect(error.message).toBe("pipelines/p/pipeline.yaml:4:55: blocks[0].upstream[0]: the blocks form a cycle: a → b → c → a");
      expect(error.location).toMatchObject({ line: 4, block: "a" });
    });

    it("an empty file", () => {
      const error = parseError("");
      expect(error.code).toBe("invalid_value");
      expect(error.message).toContain("the file is empty");
    });
  });
});

describe("lintPipelineYaml", () => {
  it("lists every schema problem in file order, without a pipeline", () => {
    const result = lintPipelineYaml(
      yaml("version: 1", "name: p", "blocks:", "  - name: a", "    type: nope", "    language: ts", "    colour: red", "  - name: b", "    language: rust"),
      "p.yaml",
    );
    expect(result.pipeline).toBeNull();
    expect(result.errors.map((e) => [e.code, e.location.path, e.location.line])).toEqual([
      ["invalid_value", "blocks[0].type", 5],
      ["unknown_key", "blocks[0].colour", 7],
      ["invalid_value", "blocks[1].type", 8],
      ["invalid_value", "blocks[1].language", 9],
    ]);
  });

  it("keeps the pipeline when only semantic checks fail", () => {
    const result = lintPipelineYaml(yaml("version: 1", "name: p", "blocks:", "  - { name: a, type: loader, language: ts, upstream: [x, y] }"), "p.yaml");
    expect(result.pipeline?.blocks[0].name).toBe("a");
    expect(result.errors.map((e) => e.code)).toEqual(["missing_upstream", "missing_upstream"]);
  });

  it("returns no errors for a valid file", () => {
    expect(lintPipelineYaml(DESIGN_EXAMPLE, "p.yaml").errors).toEqual([]);
  });
});

describe("serializePipeline", () => {
  it("writes the file format people write, defaults left out", () => {
    const text = serializePipeline(parsePipelineYaml(DESIGN_EXAMPLE, "pipeline.yaml"));
    expect(text).toBe(
      yaml(
        "version: 1",
        "name: green_taxi_etl",
        "description: NYC green taxi Q4 2020 → Postgres and a Parquet lake",
        "variables:",
        "  months: [10, 11, 12]",
        "blocks:",
        "  - name: load_green_taxi",
        "    type: loader",
        "    language: ts",
        "    upstream: []",
        "",
        "  - name: clean_trips",
        "    type: transformer",
        "    language: sql",
        "    upstream: [load_green_taxi]",
        "",
        "  - name: to_postgres",
        "    type: exporter",
        "    language: ts",
        "    upstream: [clean_trips]",
        "    retries: {count: 3, delay: 5s, backoff: exponential, max_delay: 1m}",
        "    timeout: 10m",
      ),
    );
  });

  it("writes an empty pipeline", () => {
    expect(serializePipeline(newPipeline("fresh"))).toBe("version: 1\nname: fresh\nblocks: []\n");
  });

  const cases: Array<[string, Pipeline]> = [
    ["empty", newPipeline("empty")],
    [
      "tricky variables and description",
      newPipeline("p", {
        description: "line one\nline two: with colon # and hash",
        variables: { "odd key": "10", yes: "yes", n: null, nested: { list: [1, "2", true, null, { deep: [] }] }, date: "2024-01-01", num: 1.5 },
      }),
    ],
    [
      "every block setting",
      newPipeline("p", {
        blocks: [
          newBlockSpec({ name: "a", type: "sensor", language: "ts", timeoutMs: 1500 }),
          newBlockSpec({ name: "b", type: "exporter", language: "sql", upstream: ["a"], connection: "warehouse", queue: "q1" }),
          newBlockSpec({ name: "c", upstream: ["a", "b"], retries: { count: 0, delayMs: 2000, backoff: "constant", maxDelayMs: 60_000 } }),
          newBlockSpec({ name: "d", upstream: ["c"], retries: { count: 5, delayMs: 0, backoff: "exponential", maxDelayMs: 86_400_000 } }),
        ],
      }),
    ],
  ];

  it.each(cases)("round-trips: %s", (_, pipeline) => {
    validatePipeline(pipeline);
    expect(parsePipelineYaml(serializePipeline(pipeline), "p.yaml")).toEqual(pipeline);
  });

  it("is stable: serialize(parse(serialize(p))) === serialize(p)", () => {
    for (const [, pipeline] of cases) {
      const once = serializePipeline(pipeline);
      expect(serializePipeline(parsePipelineYaml(once, "p.yaml"))).toBe(once);
    }
  });
});
