/**
 * `sluice scheduler --once` and `sluice clean` on a real project: triggers.yaml → a scheduled run that
 * really executes → its outputs and logs removed by retention, its record kept.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { cleanCommand } from "../../lib/cli/clean-command";
import { schedulerCommand } from "../../lib/cli/scheduler-command";
import { createServices, type Services } from "../../lib/server/services";

function io() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (c: Buffer) => (out += c.toString()));
  stderr.on("data", (c: Buffer) => (err += c.toString()));
  return { io: { stdout, stderr }, out: () => out, err: () => err };
}

describe("sluice scheduler --once / sluice clean", () => {
  let dir: string;
  let services: Services;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "sluice-sched-cli-"));
    mkdirSync(path.join(dir, "pipelines", "hello"), { recursive: true });
    writeFileSync(
      path.join(dir, "pipelines", "hello", "pipeline.yaml"),
      `version: 1\nname: hello\nvariables: { rows: 3 }\nblocks:\n  - name: load\n    type: loader\n    language: ts\n    upstream: []\n`,
    );
    // The block records what it received in ctx, to check that the scheduler's logical date and data interval reach it.
    writeFileSync(
      path.join(dir, "pipelines", "hello", "load.ts"),
      `import { writeFileSync } from "node:fs";
export default async function load(ctx: { variables: Record<string, unknown>; logicalDate: Date; dataInterval: { start: Date; end: Date } }) {
  writeFileSync(String(ctx.variables.seen), JSON.stringify({ logicalDate: ctx.logicalDate, start: ctx.dataInterval.start, end: ctx.dataInterval.end }));
  return Array.from({ length: Number(ctx.variables.rows) }, (_, i) => ({ i }));
}
`,
    );
    writeFileSync(
      path.join(dir, "pipelines", "hello", "triggers.yaml"),
      `version: 1
triggers:
  - name: once
    type: schedule
    schedule: "@once"
    start_date: 2024-01-01T00:00:00Z
    missed_run_policy: all
    variables: { rows: 10, seen: ${JSON.stringify(path.join(dir, "seen.json"))} }
  - name: daily_off
    type: schedule
    schedule: "@daily"
    timezone: UTC
    enabled: false
`,
    );
    services = await createServices({ projectDir: dir, env: {}, poolSize: 1 });
  });
  afterAll(async () => {
    await services.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("starts the due run of triggers.yaml once, which runs to success; clean then removes its files", async () => {
    const first = io();
    expect(await schedulerCommand(["--once"], services, first.io)).toBe(0);
    expect(first.err()).toBe("");
    expect(first.out()).toMatch(/started schedule run \S+: hello\/once @ 2024-01-01T00:00:00.000Z/);
    const [run] = await services.runs.listRuns({ pipeline: "hello" });
    expect(run.state).toBe("success"); // --once waited for it
    expect(run).toMatchObject({ trigger: "schedule", triggerId: "once", logicalDate: "2024-01-01T00:00:00.000Z", variables: { rows: 10 } });
    expect(JSON.parse(readFileSync(path.join(dir, "seen.json"), "utf8"))).toEqual({
      logicalDate: "2024-01-01T00:00:00.000Z",
      start: "2024-01-01T00:00:00.000Z",
      end: "2024-01-01T00:00:00.000Z",
    });
    const ended = async () => {
      const detail = await services.runs.getRun(run.id);
      return detail !== null && ["success", "failed", "cancelled"].includes(detail.run.state);
    };
    for (let i = 0; i < 600 && !(await ended()); i++) await new Promise((r) => setTimeout(r, 100));
    const detail = await services.runs.getRun(run.id);
    expect(detail?.blockRuns.map((b) => [b.block, b.state, b.error?.message ?? null, b.rows])).toEqual([["load", "success", null, 10]]);
    expect(detail?.run.state).toBe("success");

    const second = io();
    await schedulerCommand(["--once"], services, second.io);
    expect(second.out()).toContain("started 0 run(s)");
    expect(await services.runs.listRuns({ pipeline: "hello" })).toHaveLength(1);

    const outputsDir = path.join(dir, ".sluice", "outputs");
    const hadOutputs = existsSync(outputsDir) && readdirSync(outputsDir).length > 0;
    await new Promise((r) => setTimeout(r, 20));
    const cleaned = io();
    expect(await cleanCommand(["--older-than", "10ms"], services, cleaned.io)).toBe(0);
    expect(cleaned.out()).toContain("deleted outputs and logs of 1 run(s); deleted 0 run record(s)");
    // The run's `load` output is that block's latest successful one: kept however old, so a `--block` run
    // downstream of it still finds its cached upstream.
    if (hadOutputs) expect(existsSync(path.join(outputsDir, run.id))).toBe(true);
    expect((await services.runs.getRun(run.id))?.blockRuns.map((b) => [b.block, b.output !== null])).toEqual([["load", true]]);
    await expect(cleanCommand(["--older-than", "30 days"], services, io().io)).rejects.toMatchObject({ code: "invalid_value" });
  });
});
