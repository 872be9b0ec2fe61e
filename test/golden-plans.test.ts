/**
 * Golden pipelines: each folder of test/fixtures/pipelines holds a `pipeline.yaml` and an
 * `expected.json` with either the run plans it must produce or the error it must raise:
 *
 *   { "plans": [{ "mode", "block"?, "blocks", "cachedInputs" }], "serializesAsWritten"?: true }
 *   { "error": { "code", "message", "line" } }
 *
 * Run with UPDATE_GOLDEN=1 to rewrite the expected outcomes from the current code (then review the diff).
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { UserError } from "../lib/core/errors";
import type { RunMode } from "../lib/core/model";
import { parsePipelineYaml, serializePipeline } from "../lib/core/pipeline-schema";
import { planRun } from "../lib/core/plan";

const FIXTURES = path.join(__dirname, "fixtures", "pipelines");
const UPDATE = process.env.UPDATE_GOLDEN === "1";

interface ExpectedPlan {
  mode: RunMode;
  block?: string;
  blocks: string[];
  cachedInputs: string[];
}

interface Expected {
  plans?: ExpectedPlan[];
  serializesAsWritten?: boolean;
  error?: { code: string; message: string; line: number | undefined };
}

/** One plan per line, so that a changed plan is a one-line diff. */
function formatExpected(expected: Expected): string {
  if (!expected.plans) return `${JSON.stringify(expected, null, 2)}\n`;
  const inline = (value: unknown): string => (Array.isArray(value) ? `[${value.map((v) => JSON.stringify(v)).join(", ")}]` : JSON.stringify(value));
  const plans = expected.plans.map((plan) => `    { ${Object.entries(plan).map(([key, value]) => `"${key}": ${inline(value)}`).join(", ")} }`);
  const flag = expected.serializesAsWritten ? `  "serializesAsWritten": true,\n` : "";
  return `{\n${flag}  "plans": [\n${plans.join(",\n")}\n  ]\n}\n`;
}

const cases = readdirSync(FIXTURES, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

function outcome(text: string, file: string): { pipeline?: ReturnType<typeof parsePipelineYaml>; error?: UserError } {
  try {
    return { pipeline: parsePipelineYaml(text, file) };
  } catch (error) {
    if (error instanceof UserError) return { error };
    throw error;
  }
}

it("has golden cases", () => {
  expect(cases.length).toBeGreaterThanOrEqual(8);
});

describe.each(cases)("golden pipeline %s", (name) => {
  const dir = path.join(FIXTURES, name);
  const text = readFileSync(path.join(dir, "pipeline.yaml"), "utf8");
  const expectedFile = path.join(dir, "expected.json");
  const expected: Expected = JSON.parse(readFileSync(expectedFile, "utf8"));
  const result = outcome(text, `${name}/pipeline.yaml`);

  if (UPDATE) {
    const updated: Expected = result.error
      ? { error: { code: result.error.code, message: result.error.message, line: result.error.location.line } }
      : {
          ...(expected.serializesAsWritten ? { serializesAsWritten: true } : {}),
          plans: (expected.plans ?? [{ mode: "pipeline", blocks: [], cachedInputs: [] }]).map((plan) => {
            const request = plan.block === undefined ? { mode: plan.mode } : { mode: plan.mode, block: plan.block };
            return { ...request, ...(result.pipeline ? planRun(result.pipeline, request) : { blocks: [], cachedInputs: [] }) };
          }),
        };
    writeFileSync(expectedFile, formatExpected(updated));
  }

  if (expected.error) {
    const want = expected.error;
    it(`fails with ${want.code} at line ${want.line}`, () => {
      expect(result.error).toBeDefined();
      expect({ code: result.error?.code, message: result.error?.message, line: result.error?.location.line }).toEqual(want);
      expect(result.error?.location.file).toBe(`${name}/pipeline.yaml`);
    });
    return;
  }

  it("parses", () => {
    expect(result.error).toBeUndefined();
  });

  it.each((expected.plans ?? []).map((plan) => [plan.block === undefined ? plan.mode : `${plan.mode} ${plan.block}`, plan] as const))("plans %s", (_, plan) => {
    const { pipeline } = result;
    if (!pipeline) throw new Error("no pipeline");
    const request = plan.block === undefined ? { mode: plan.mode } : { mode: plan.mode, block: plan.block };
    expect(planRun(pipeline, request)).toEqual({ blocks: plan.blocks, cachedInputs: plan.cachedInputs });
  });

  it("round-trips through serializePipeline", () => {
    const { pipeline } = result;
    if (!pipeline) throw new Error("no pipeline");
    const written = serializePipeline(pipeline);
    expect(parsePipelineYaml(written, `${name}/pipeline.yaml`)).toEqual(pipeline);
    if (expected.serializesAsWritten) {
      const withoutLeadingComments = text.replace(/^(#.*\n)+/, "");
      expect(written).toBe(withoutLeadingComments);
    }
  });
});
