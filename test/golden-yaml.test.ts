/**
 * Golden tests: a hand-written `pipeline.yaml` (comments, blank lines, quoting, flow and block lists) edited
 * through every setting the editor's panels offer. Each result is compared with a checked-in file under
 * test/golden-yaml/expected/, so a reviewer sees exactly what an edit does to someone's file.
 * `UPDATE_GOLDEN=1 npx jest test/golden-yaml` rewrites the expected files (review the diff!).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parsePipelineYaml, serializePipeline } from "../lib/core/pipeline-schema";
import type { PipelineChange } from "../lib/core/pipeline-changes";
import { editPipelineYaml, updatePipelineYaml } from "../lib/core/yaml-edit";

const dir = path.join(__dirname, "golden-yaml");
const original = readFileSync(path.join(dir, "pipeline.yaml"), "utf8");
const COMMENTS = original.split("\n").flatMap((line) => (line.includes("# ") ? [line.slice(line.indexOf("# "))] : []));

const cases: Record<string, PipelineChange[]> = {
  description_add: [{ type: "set_description", description: "Green taxi trips into Postgres" }],
  variable_string: [{ type: "set_variable", name: "base_url", value: "https://d37ci6vzurychx.cloudfront.net/trip-data" }],
  variable_number: [{ type: "set_variable", name: "year", value: 2021 }],
  variable_boolean: [{ type: "set_variable", name: "dry_run", value: true }],
  variable_date: [{ type: "set_variable", name: "start_date", value: "2020-10-01" }],
  variable_list: [{ type: "set_variable", name: "months", value: [1, 2, 3] }],
  variable_secret: [{ type: "set_variable", name: "api_key", value: "s3cr3t", secret: true }],
  variable_rename: [{ type: "rename_variable", from: "year", to: "taxi_year" }],
  variable_remove: [{ type: "remove_variable", name: "dry_run" }],
  block_type: [{ type: "set_block_settings", block: "save_trips", settings: { type: "transformer" } }],
  block_retries: [{ type: "set_block_settings", block: "load_trips", settings: { retries: { count: 5 } } }],
  block_retries_new: [{ type: "set_block_settings", block: "clean_trips", settings: { retries: { count: 2, delayMs: 5000 } } }],
  block_retries_default: [{ type: "set_block_settings", block: "load_trips", settings: { retries: null } }],
  block_timeout: [{ type: "set_block_settings", block: "load_trips", settings: { timeoutMs: 1_800_000 } }],
  block_timeout_clear: [{ type: "set_block_settings", block: "load_trips", settings: { timeoutMs: null } }],
  block_connection: [{ type: "set_block_settings", block: "clean_trips", settings: { connection: "warehouse" } }],
  block_queue: [{ type: "set_block_settings", block: "save_trips", settings: { queue: "heavy" } }],
  block_memory: [{ type: "set_block_settings", block: "save_trips", settings: { memoryBytes: 2 * 1024 ** 3 } }],
  block_memory_clear: [{ type: "set_block_settings", block: "save_trips", settings: { memoryBytes: null } }],
  block_trigger_rule: [{ type: "set_block_settings", block: "save_trips", settings: { triggerRule: "all_done" } }],
  block_trigger_rule_clear: [
    { type: "set_block_settings", block: "save_trips", settings: { triggerRule: "none_failed_min_one_success" } },
    { type: "set_block_settings", block: "save_trips", settings: { triggerRule: null } },
  ],
  block_type_condition: [{ type: "set_block_type", block: "save_trips", blockType: "condition" }],
  block_conditions: [
    { type: "add_block", block: { name: "is_weekday", type: "condition", language: "ts", upstream: [] } },
    { type: "set_block_settings", block: "save_trips", settings: { conditions: ["is_weekday"] } },
  ],
  block_conditions_clear: [
    { type: "add_block", block: { name: "is_weekday", type: "condition", language: "ts", upstream: [] } },
    { type: "set_block_settings", block: "save_trips", settings: { conditions: ["is_weekday"] } },
    { type: "set_block_settings", block: "save_trips", settings: { conditions: null } },
  ],
  block_dynamic: [{ type: "set_block_settings", block: "load_trips", settings: { dynamic: true, dynamicKey: "month" } }],
  block_reduce: [
    { type: "set_block_settings", block: "load_trips", settings: { dynamic: true } },
    { type: "set_block_settings", block: "clean_trips", settings: { reduce: true } },
  ],
  block_sensor_mode: [
    { type: "add_block", block: { name: "wait_for_file", type: "sensor", language: "ts", upstream: [] } },
    { type: "set_block_settings", block: "wait_for_file", settings: { mode: "reschedule", pokeIntervalMs: 60_000, softFail: true } },
  ],
  block_add: [{ type: "add_block", block: { name: "report", type: "exporter", language: "sql", upstream: ["clean_trips"] } }],
  block_remove: [{ type: "remove_block", name: "clean_trips" }],
  block_rename: [{ type: "rename_block", from: "clean_trips", to: "tidy_trips" }],
  upstream_add: [{ type: "add_upstream", block: "save_trips", upstream: "load_trips" }],
  upstream_remove: [{ type: "remove_upstream", block: "clean_trips", upstream: "load_trips" }],
};

describe("editPipelineYaml golden files", () => {
  it.each(Object.keys(cases))("%s", (name) => {
    const result = editPipelineYaml(original, "pipeline.yaml", cases[name]);
    if (!result.ok) throw new Error(result.error.message);
    const expectedFile = path.join(dir, "expected", `${name}.yaml`);
    if (process.env.UPDATE_GOLDEN === "1" || !existsSync(expectedFile)) {
      mkdirSync(path.dirname(expectedFile), { recursive: true });
      writeFileSync(expectedFile, result.text);
    }
    expect(result.text).toBe(readFileSync(expectedFile, "utf8"));
  });

  it("keeps every comment of the file through every edit, except those on what an edit removed", () => {
    for (const [name, changes] of Object.entries(cases)) {
      const result = editPipelineYaml(original, "pipeline.yaml", changes);
      if (!result.ok) throw new Error(result.error.message);
      const removed = { block_remove: ["# drops zero-passenger rows"], block_retries_default: ["# the TLC server is flaky"] }[name] ?? [];
      for (const comment of COMMENTS.filter((c) => !removed.includes(c))) expect({ name, has: result.text.includes(comment) }).toEqual({ name, has: true });
    }
  });

  it("writes what the model says: the edited file parses to the edited pipeline", () => {
    const result = editPipelineYaml(original, "pipeline.yaml", [...cases.variable_secret, ...cases.block_add, ...cases.block_retries]);
    if (!result.ok) throw new Error(result.error.message);
    const pipeline = parsePipelineYaml(result.text, "pipeline.yaml");
    expect(pipeline.secretVariables).toEqual(["api_key"]);
    expect(pipeline.blocks.map((b) => b.name)).toEqual(["load_trips", "clean_trips", "save_trips", "report"]);
    expect(pipeline.blocks[0].retries).toMatchObject({ count: 5, delayMs: 30_000 });
  });

  it("a change and its inverse give back the file byte for byte", () => {
    const there = editPipelineYaml(original, "pipeline.yaml", [{ type: "set_variable", name: "year", value: 2021 }]);
    if (!there.ok) throw new Error(there.error.message);
    const back = editPipelineYaml(there.text, "pipeline.yaml", [{ type: "set_variable", name: "year", value: 2020 }]);
    expect(back).toMatchObject({ ok: true, text: original });
  });

  it("does not expand defaults: an edit that changes nothing leaves the file as it is", () => {
    const same = editPipelineYaml(original, "pipeline.yaml", [{ type: "set_block_settings", block: "clean_trips", settings: { retries: null, timeoutMs: null, queue: null } }]);
    expect(same).toMatchObject({ ok: true, text: original });
  });

  it("refuses an edit that breaks the file with the located error, and an invalid change with its reason", () => {
    const sqlMemory = editPipelineYaml(original, "taxi_etl/pipeline.yaml", [{ type: "set_block_settings", block: "clean_trips", settings: { memoryBytes: 1024 ** 3 } }]);
    expect(sqlMemory.ok).toBe(false);
    if (!sqlMemory.ok) expect(sqlMemory.error.message).toMatch(/^taxi_etl\/pipeline\.yaml:\d+:\d+: blocks\[1\]\.memory: applies to TypeScript blocks only/);
    const cycle = editPipelineYaml(original, "pipeline.yaml", [{ type: "add_upstream", block: "load_trips", upstream: "save_trips" }]);
    expect(cycle).toMatchObject({ ok: false, error: { code: "cycle" } });
    const badName = editPipelineYaml(original, "pipeline.yaml", [{ type: "set_variable", name: "bad-name", value: 1 }]);
    expect(badName).toMatchObject({ ok: false, error: { code: "invalid_value" } });
  });

  it("a file written by serializePipeline is edited into what serializePipeline writes", () => {
    const text = serializePipeline(parsePipelineYaml(original, "pipeline.yaml"));
    const before = parsePipelineYaml(text, "p.yaml");
    const after = { ...before, description: "d", blocks: [...before.blocks, { ...before.blocks[0], name: "again", retries: before.blocks[1].retries }] };
    expect(updatePipelineYaml(text, before, after)).toBe(serializePipeline(after));
  });
});
