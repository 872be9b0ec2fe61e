/**
 * `mode: reschedule` sensors and the pipeline-run sensor through the real `sluice run`, with a pool of two
 * block slots. Rescheduled sensors give their slot back between pokes, so ordinary blocks listed after them
 * still run while they wait; the pipeline-run sensor (templates/sensors) sees another pipeline's successful
 * run of the same logical date, and only that date.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createServices } from "../../lib/server/services";
import { runSluice } from "../sluice-process";
import { REPO_ROOT } from "../taxi-data";
import { writePipeline } from "../write-pipeline";

jest.setTimeout(60_000);

const POOL = { SLUICE_POOL_SIZE: "2" };
const WAITING = ["wait_a", "wait_b", "wait_c", "wait_d"];
const ORDINARY = ["work_1", "work_2"];

interface RunJson {
  run_id: string;
  status: string;
  blocks: { name: string; status: string }[];
}

describe("sensors with mode: reschedule", () => {
  let projectDir: string;
  const log = (runId: string, block: string) => fs.readFileSync(path.join(projectDir, ".sluice", "logs", runId, `${block}.1.jsonl`), "utf8");

  beforeAll(() => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-reschedule-"));
    fs.writeFileSync(path.join(projectDir, "sluice.yaml"), "connections: {}\n");
    writePipeline(
      projectDir,
      "other",
      `version: 1
name: other
blocks:
  - { name: load, type: loader, language: ts, upstream: [] }
`,
      { "load.ts": `export default async function load() { return [{ n: 1 }]; }\n` },
    );
    // Each sensor's condition holds 2 s after its first poke (noted in a file, as pokes may run in any process).
    const sensorCode = `import fs from "node:fs";
export default async function sense(ctx) {
  const file = String(ctx.variables.marker_dir) + "/" + ctx.runId + "." + ctx.block + ".first";
  if (!fs.existsSync(file)) fs.writeFileSync(file, String(Date.now()));
  return Date.now() >= Number(fs.readFileSync(file, "utf8")) + 2000;
}
`;
    const workCode = `import fs from "node:fs";\nexport default async function work(ctx) { fs.writeFileSync(String(ctx.variables.marker_dir) + "/" + ctx.block, String(Date.now())); return [{ done: true }]; }\n`;
    writePipeline(
      projectDir,
      "gated",
      `version: 1
name: gated
variables:
  marker_dir: ${JSON.stringify(projectDir)}
  sensor_pipeline: other
blocks:
${WAITING.map((name) => `  - { name: ${name}, type: sensor, language: ts, upstream: [], mode: reschedule, poke_interval: 200ms, timeout: 30s }`).join("\n")}
  - { name: other_done, type: sensor, language: ts, upstream: [], mode: reschedule, poke_interval: 200ms, timeout: 1500ms, soft_fail: true }
${ORDINARY.map((name) => `  - { name: ${name}, type: loader, language: ts, upstream: [] }`).join("\n")}
`,
      {
        ...Object.fromEntries(WAITING.map((name) => [`${name}.ts`, sensorCode])),
        "other_done.ts": fs.readFileSync(path.join(REPO_ROOT, "templates/sensors/pipeline_run_sensor.ts"), "utf8"),
        ...Object.fromEntries(ORDINARY.map((name) => [`${name}.ts`, workCode])),
      },
    );
  });

  afterAll(() => {
    fs.rmSync(projectDir, { recursive: true, force: true });
  });

  test("four waiting sensors do not starve two ordinary blocks in a pool of two; the run sensor sees the same date's run", async () => {
    const first = await runSluice(projectDir, ["run", "other", "--logical-date", "2024-01-31", "--json"], POOL);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);

    const result = await runSluice(projectDir, ["run", "gated", "--logical-date", "2024-01-31", "--json"], POOL);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const run = JSON.parse(result.stdout) as RunJson;
    expect(run.status).toBe("success");
    expect(run.blocks.map((b) => [b.name, b.status])).toEqual(expect.arrayContaining([...WAITING, "other_done", ...ORDINARY].map((name) => [name, "success"])));
    // Listed after the sensors, the ordinary blocks still ran while the sensors were waiting: with `mode: poke`
    // the first two sensors would have held both slots until their condition held.
    const readyAt = Math.min(...WAITING.map((name) => Number(fs.readFileSync(path.join(projectDir, `${run.run_id}.${name}.first`), "utf8")) + 2000));
    for (const name of ORDINARY) expect(Number(fs.readFileSync(path.join(projectDir, name), "utf8"))).toBeLessThan(readyAt);
    for (const name of WAITING) {
      expect(log(run.run_id, name)).toContain("slot released until then");
    }
    expect(log(run.run_id, "other_done")).toContain("of other for 2024-01-31T00:00:00.000Z succeeded");
  });

  test("the run sensor does not take another date's run: it pokes until its timeout and soft-fails", async () => {
    const result = await runSluice(projectDir, ["run", "gated", "--logical-date", "2024-02-01", "--json"], POOL);
    expect(result.stderr).toBe("");
    const run = JSON.parse(result.stdout) as RunJson;
    expect(run.blocks.find((b) => b.name === "other_done")?.status).toBe("skipped");
    const lines = log(run.run_id, "other_done");
    expect(lines).toContain("condition not met");
    expect(lines).toMatch(/other_done\\" poked \d+ time\(s\) over 1\.\d s \(timeout 1500ms\) and its condition never held; soft_fail: skipped/);
  });

  test("a run cancelled while a sensor waits for its next poke ends it cancelled at once", async () => {
    writePipeline(
      projectDir,
      "long_wait",
      `version: 1
name: long_wait
blocks:
  - { name: never, type: sensor, language: ts, upstream: [], mode: reschedule, poke_interval: 1h, timeout: 2h }
  - { name: after, type: loader, language: ts, upstream: [never] }
`,
      { "never.ts": `export default async function sense() { return false; }\n`, "after.ts": `export default async function a() { return [{ n: 1 }]; }\n` },
    );
    const services = await createServices({ projectDir, poolSize: 2, defaultTimeoutMs: 60_000 });
    try {
      const started = await services.runner.start({ pipeline: "long_wait" });
      for (let waited = 0; ; waited += 50) {
        const found = await services.runs.getRun(started.runId);
        if ((found?.blockRuns.find((b) => b.block === "never")?.pokes ?? 0) > 0) break;
        if (waited > 20_000) throw new Error("the sensor never poked");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // Between pokes the sensor is running without a slot, for an hour.
      expect((await services.runs.getRun(started.runId))?.blockRuns.find((b) => b.block === "never")?.state).toBe("running");
      const cancelledAt = Date.now();
      expect(services.runner.cancel(started.runId)).toBe(true);
      const outcome = await started.done;
      expect(Date.now() - cancelledAt).toBeLessThan(5000);
      expect(outcome.state).toBe("cancelled");
      expect(outcome.blocks.map((b) => [b.name, b.state])).toEqual([
        ["never", "cancelled"],
        ["after", "cancelled"],
      ]);
      const stored = await services.runs.getRun(started.runId);
      expect(stored?.blockRuns.map((b) => [b.block, b.state])).toEqual(expect.arrayContaining([["never", "cancelled"], ["after", "cancelled"]]));
    } finally {
      await services.close();
    }
  });
});
