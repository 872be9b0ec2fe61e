/**
 * Control flow through the real `sluice` command, on the local executor and on the queue executor with a real
 * `sluice worker` (real Redis): conditions skipping a branch, a join after the branch, a dynamic block fanning out
 * into parallel instances (TS and SQL) reduced into one table, a failing instance retried alone, and an
 * `all_done` cleanup running after a failure. One pipeline per executor (test/flow/flow-pipeline.ts).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { closeRedis, openRedis } from "../../lib/executors/queue-redis";
import { createRunStore } from "../../lib/store/metadata/open-run-store";
import { spawnWorker, type SpawnedWorker } from "../../lib/worker/spawn-worker";
import { REDIS_URL, deleteRedisPrefix, uniquePrefix } from "../distributed/helpers";
import { runSluice } from "../sluice-process";
import { writeFlowPipeline } from "./flow-pipeline";

interface JsonSummary {
  run_id: string;
  status: string;
  blocks: { name: string; status: string; attempts: number; rows: number | null; error?: string }[];
}

const EXECUTORS = ["local", "queue"] as const;

describe.each(EXECUTORS)("control flow through the CLI (%s executor)", (executor) => {
  let projectDir: string;
  let env: Record<string, string>;
  let worker: SpawnedWorker | undefined;
  const prefix = uniquePrefix("flow");

  beforeAll(async () => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), `sluice-flow-${executor}-`));
    writeFlowPipeline(projectDir, { flag: path.join(projectDir, "flag"), marker: path.join(projectDir, "marker") });
    // Four block processes: the three instances of a dynamic block can all run at once.
    env = { SLUICE_POOL_SIZE: "4", SLUICE_HOME: path.join(projectDir, ".sluice"), SLUICE_PROJECT_DIR: projectDir };
    if (executor === "queue") {
      env = { ...env, SLUICE_EXECUTOR: "queue", REDIS_URL, SLUICE_QUEUE_PREFIX: prefix, SLUICE_WORKERS_LOCAL: "1" };
      worker = await spawnWorker({ args: ["--local", "--concurrency", "4"], env });
    }
  }, 120_000);

  afterAll(async () => {
    if (worker) {
      worker.child.kill("SIGTERM");
      await worker.exited;
      const redis = openRedis(REDIS_URL);
      await deleteRedisPrefix(redis, prefix);
      await closeRedis(redis);
    }
    if (projectDir) fs.rmSync(projectDir, { recursive: true, force: true });
  });

  it("skips a false condition's branch, fans out in parallel, runs all_done after a failure, retries one instance alone", async () => {
    const first = await runSluice(projectDir, ["run", "flow", "--json"], env);
    expect(first.stderr).toBe("");
    const run = JSON.parse(first.stdout) as JsonSummary;
    const states = Object.fromEntries(run.blocks.map((b) => [b.name, b.status]));
    expect(states).toEqual({
      months: "success",
      "fetch[2020-10]": "success",
      "fetch[2020-11]": "failed",
      "fetch[2020-12]": "success",
      fetch: "upstream_failed",
      "per_month[2020-10]": "success",
      "per_month[2020-11]": "success",
      "per_month[2020-12]": "success",
      per_month: "success",
      summary: "upstream_failed",
      cleanup: "success",
      is_weekend: "success",
      is_weekday: "success",
      weekend_report: "skipped",
      weekday_report: "success",
      after_weekend: "skipped",
      report_join: "success",
    });
    const byName = new Map(run.blocks.map((b) => [b.name, b]));
    expect(byName.get("weekend_report")?.error).toBe("condition is_weekend was false");
    expect(byName.get("after_weekend")?.error).toMatch(/trigger rule all_success.*weekend_report skipped/);
    expect(byName.get("fetch[2020-11]")?.error).toBe("no flag for 2020-11");
    expect(byName.get("fetch")?.error).toBe("instance(s) fetch[2020-11] did not succeed");
    // As in Airflow the run follows its leaves: the failure was handled by the all_done cleanup, a leaf that succeeded.
    expect(run.status).toBe("success");
    expect(fs.readFileSync(path.join(projectDir, "marker"), "utf8")).toBe("cleanup ran with inputs []\n");
    const joined = readSummary(projectDir, run.run_id, "report_join");
    expect(joined.paths).toBe("weekday_report");

    // The three instances ran at the same time: each started before any other ended.
    const store = await createRunStore({}, path.join(projectDir, ".sluice", "sluice.db"));
    try {
      const attempts = (await store.listAttempts(run.run_id)).filter((a) => a.block.startsWith("fetch["));
      expect(attempts).toHaveLength(3);
      const latestStart = Math.max(...attempts.map((a) => Date.parse(a.startedAt ?? "")));
      const earliestEnd = Math.min(...attempts.map((a) => Date.parse(a.endedAt ?? "")));
      expect(latestStart).toBeLessThan(earliestEnd);
    } finally {
      await store.close();
    }

    fs.writeFileSync(path.join(projectDir, "flag"), "ok");
    const retried = await runSluice(projectDir, ["retry", run.run_id, "--from", "fetch[2020-11]", "--json"], env);
    expect({ code: retried.code, stderr: retried.stderr }).toEqual({ code: 0, stderr: "" });
    const after = JSON.parse(retried.stdout) as JsonSummary;
    const attemptsAfter = Object.fromEntries(after.blocks.filter((b) => b.name.startsWith("fetch") || b.name === "summary").map((b) => [b.name, [b.status, b.attempts]]));
    expect(attemptsAfter).toEqual({
      "fetch[2020-10]": ["success", 1],
      "fetch[2020-11]": ["success", 2],
      "fetch[2020-12]": ["success", 1],
      fetch: ["success", 1],
      summary: ["success", 1],
    });
    expect(after.status).toBe("success");
    // The reduce gathered the three outputs in instance order, columns unified (only 2020-12 has `extra`).
    const summary = readSummary(projectDir, run.run_id, "summary");
    expect(summary).toEqual({
      months: "2020-10,2020-11,2020-12",
      blocks: "fetch[2020-10],fetch[2020-11],fetch[2020-12]",
      extras: "null,null,late",
      tens: "2020-10=10,2020-11=20,2020-12=30",
    });
    expect(fs.readFileSync(path.join(projectDir, "marker"), "utf8")).toBe("cleanup ran with inputs []\ncleanup ran with inputs [summary]\n");
  }, 240_000);
});

/** The single row of a one-row TS output, from its persisted summary (min of each column). */
function readSummary(projectDir: string, runId: string, block: string): Record<string, unknown> {
  const file = path.join(projectDir, ".sluice", "outputs", runId, `${block}.summary.json`);
  const sidecar = JSON.parse(fs.readFileSync(file, "utf8")) as { summary: { rows: number; columns: { name: string; min: unknown }[] } };
  expect(sidecar.summary.rows).toBe(1);
  return Object.fromEntries(sidecar.summary.columns.map((c) => [c.name, c.min]));
}
