import { describeByteSize, formatByteSize, parseByteSize } from "./byte-size";
import { UserError } from "./errors";
import { parsePipelineYaml, serializePipeline } from "./pipeline-schema";

const MiB = 1024 * 1024;

test("memory sizes read in binary units, with or without a b/ib suffix", () => {
  expect(parseByteSize("512m")).toBe(512 * MiB);
  expect(parseByteSize("2g")).toBe(2048 * MiB);
  expect(parseByteSize("1.5G")).toBe(1536 * MiB);
  expect(parseByteSize("256MiB")).toBe(256 * MiB);
  expect(parseByteSize("256MB")).toBe(256 * MiB);
  expect(parseByteSize("64k")).toBe(64 * 1024);
  expect(parseByteSize(1048576)).toBe(MiB);
});

test("typos and non-positive sizes are errors naming the input", () => {
  for (const bad of ["lots", "512 megs", "-1g", "0m", "", "1.5.2g"]) {
    expect(() => parseByteSize(bad)).toThrow(UserError);
  }
  expect(() => parseByteSize("2x")).toThrow('"2x" is not a size; write e.g. 512m, 2g or 1.5g');
  expect(() => parseByteSize(-5)).toThrow("-5 is not a size");
});

test("formatting picks the largest exact unit; descriptions are for people", () => {
  expect(formatByteSize(512 * MiB)).toBe("512m");
  expect(formatByteSize(2048 * MiB)).toBe("2g");
  expect(formatByteSize(1536 * MiB)).toBe("1536m");
  expect(formatByteSize(1000)).toBe("1000");
  expect(describeByteSize(256 * MiB)).toBe("256 MiB");
  expect(describeByteSize(1536 * MiB)).toBe("1.5 GiB");
});

describe("memory: in pipeline.yaml", () => {
  const yaml = (block: string) => `version: 1\nname: p\nblocks:\n  - { name: a, type: loader, language: ${block} }\n`;

  test("a TypeScript block's memory: is read into bytes and written back the way people write it", () => {
    const pipeline = parsePipelineYaml(yaml("ts, memory: 512m"), "pipeline.yaml");
    expect(pipeline.blocks[0].memoryBytes).toBe(512 * MiB);
    expect(serializePipeline(pipeline)).toContain("memory: 512m");
    expect(parsePipelineYaml(serializePipeline(pipeline), "pipeline.yaml")).toEqual(pipeline);
    expect(parsePipelineYaml(yaml("ts"), "pipeline.yaml").blocks[0].memoryBytes).toBeUndefined();
  });

  test("a size too small to start a block, a typo, or memory: on a SQL block is a located error", () => {
    expect(() => parsePipelineYaml(yaml("ts, memory: 10m"), "pipeline.yaml")).toThrow("pipeline.yaml:4:52: blocks[0].memory: 10 MiB is below the 128m a block process needs to start");
    expect(() => parsePipelineYaml(yaml("ts, memory: lots"), "pipeline.yaml")).toThrow(/blocks\[0\]\.memory: "lots" is not a size/);
    expect(() => parsePipelineYaml(yaml("sql, memory: 1g"), "pipeline.yaml")).toThrow(/blocks\[0\]\.memory: applies to TypeScript blocks only/);
  });
});
