/**
 * One runner contract suite for every executor: the local worker pool and the BullMQ queue
 * executor must make the Runner behave the same — outputs, logs, retries by error kind, timeouts,
 * cancellation, cached upstreams. Each `*.contract.test.ts` calls `describeExecutorContract` with a
 * factory; the suite owns the project folder, the SQLite run store, the output and log stores.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { RunScopedExecutor } from "../../lib/executors/types";
import { Runner } from "../../lib/runner/runner";
import { LogStore } from "../../lib/store/log-store";
import { SqliteRunStore } from "../../lib/store/metadata/sqlite-run-store";
import { OutputStore } from "../../lib/store/output-store";
import { PipelineFiles } from "../../lib/store/pipeline-files";
import { writePipeline } from "./helpers";

/** Where the suite keeps its project: the factory's executor must run blocks from here. */
export interface ContractPaths {
  projectDir: string;
  dataDir: string;
  outputs: OutputStore;
}

/** An executor under test and how to tear it (and whatever it started) down. */
export interface ContractExecutor {
  executor: RunScopedExecutor;
  close(): Promise<void>;
}

const LOADER = `
import { tableFromArrays } from "apache-arrow";
export default async function load(ctx) {
  ctx.log.info("loading " + ctx.variables.label);
  ctx.progress({ rows: 4 });
  return tableFromArrays({ id: Int32Array.from([1, 2, 3, 4]), city: ["a", "b", "a", null] });
}`;

function writeProject(projectDir: string): void {
  writePipeline(
    projectDir,
    "diamond",
    `version: 1
name: diamond
description: TS and SQL blocks, a SQL → SQL chain
variables: { min_id: 2, label: default }
blocks:
  - { name: source, type: loader, language: ts, upstream: [] }
  - { name: by_city, type: transformer, language: sql, upstream: [source] }
  - { name: big_ids, type: transformer, language: sql, upstream: [source] }
  - { name: big_twice, type: transformer, language: sql, upstream: [big_ids] }
  - { name: joined, type: transformer, language: ts, upstream: [by_city, big_twice] }
  - { name: ready, type: sensor, language: ts, upstream: [joined] }
`,
    {
      "source.ts": LOADER,
      "by_city.sql": "SELECT city, count(*) AS n FROM source GROUP BY city ORDER BY city NULLS LAST",
      "big_ids.sql": "SELECT id FROM source WHERE id >= {{ variables.min_id }} ORDER BY id",
      "big_twice.sql": "SELECT id * 2 AS twice FROM big_ids ORDER BY twice",
      "joined.ts": `export default async function t(input, ctx) {
        const twice = ctx.inputs.big_twice.getChild("twice").toArray();
        return [{ cities: input.numRows, twice_sum: Array.from(twice).reduce((a, b) => a + Number(b), 0), run: ctx.runId, attempt: ctx.attempt, label: ctx.variables.label }];
      }`,
      "ready.ts": "export default async function s(ctx) { return ctx.inputs.joined.numRows === 1; }",
    },
  );
  writePipeline(
    projectDir,
    "failing",
    `version: 1
name: failing
description: a plain throw (retried), a SQL error (not retried), a downstream and a sibling
blocks:
  - { name: source, type: loader, language: ts, upstream: [] }
  - name: boom
    type: transformer
    language: ts
    upstream: [source]
    retries: { count: 1, delay: 10ms }
  - { name: after, type: exporter, language: ts, upstream: [boom] }
  - { name: sibling, type: exporter, language: ts, upstream: [source] }
  - name: bad_sql
    type: transformer
    language: sql
    upstream: [source]
    retries: { count: 2, delay: 10ms }
`,
    {
      "source.ts": LOADER,
      "boom.ts": `export default async function t(input) {\n  throw new Error("kaboom at row " + input.numRows);\n}`,
      "after.ts": "export default async function s() {}",
      "sibling.ts": "export default async function s() {}",
      "bad_sql.sql": "SELEC id FROM source",
    },
  );
  writePipeline(
    projectDir,
    "feedback",
    `version: 1
name: feedback
description: a data test of two checks and an exporter writing through ctx.io
blocks:
  - { name: source, type: loader, language: ts, upstream: [] }
  - { name: save, type: exporter, language: ts, upstream: [source] }
`,
    {
      "source.ts": `${LOADER}
import { check } from "@sluice/sdk";
export async function test(output) {
  check(output.numRows === 4, "expected 4 rows");
  check(output.schema.fields.length === 2, "expected 2 columns");
}`,
      "save.ts": 'export default async function s(input, ctx) { await ctx.io.files.write(input, "exports/source.arrow"); }',
    },
  );
  writePipeline(
    projectDir,
    "slow",
    `version: 1
name: slow
description: blocks that never end
blocks:
  - { name: forever, type: loader, language: ts, upstream: [] }
  - { name: next_one, type: exporter, language: ts, upstream: [forever] }
  - name: too_slow
    type: loader
    language: ts
    upstream: []
    timeout: 300ms
    retries: { count: 1, delay: 10ms }
`,
    {
      "forever.ts": "export default async function l() { await new Promise(() => {}); }",
      "next_one.ts": "export default async function s() {}",
      "too_slow.ts": "export default async function l() { await new Promise(() => {}); }",
    },
  );
}

/**
 * Declares the runner contract tests for one executor. `factory` is called once (beforeAll) with the
 * suite's paths and must return an executor that runs blocks from `paths.projectDir` and persists
 * outputs under `paths.dataDir`.
 */
export function describeExecutorContract(label: string, factory: (paths: ContractPaths) => Promise<ContractExecutor>): void {
  describe(`runner contract on the ${label} executor`, () => {
    let projectDir: string;
    let dataDir: string;
    let outputs: OutputStore;
    let logs: LogStore;
    let runs: SqliteRunStore;
    let subject: ContractExecutor;
    let runner: Runner;

    beforeAll(async () => {
      projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-contract-"));
      dataDir = path.join(projectDir, ".sluice");
      writeProject(projectDir);
      outputs = new OutputStore(dataDir);
      logs = new LogStore(dataDir);
      runs = await SqliteRunStore.open(path.join(dataDir, "sluice.db"));
      subject = await factory({ projectDir, dataDir, outputs });
      runner = new Runner({
        projectDir,
        pipelines: new PipelineFiles(path.join(projectDir, "pipelines")),
        store: runs,
        outputs,
        logs,
        executor: subject.executor,
        maxParallelBlocks: 4,
        defaultTimeoutMs: 60_000,
      });
    });

    afterAll(async () => {
      await subject?.close();
      await logs?.close();
      await outputs?.close();
      await runs?.close();
      fs.rmSync(projectDir, { recursive: true, force: true });
    });

    it("runs TS and SQL blocks in dependency order; outputs, logs and progress reach this process", async () => {
      const progress: string[] = [];
      const unsubscribe = runner.events.subscribe((event) => {
        if (event.type === "progress") progress.push(event.block);
      });
      const outcome = await runner.run({ pipeline: "diamond", variables: { label: "contract" } });
      unsubscribe();
      expect(outcome.blocks.filter((b) => b.error).map((b) => `${b.name}: ${b.error?.message}`)).toEqual([]);
      expect(outcome.state).toBe("success");
      expect(Object.fromEntries(outcome.blocks.map((b) => [b.name, b.rows]))).toEqual({ source: 4, by_city: 3, big_ids: 3, big_twice: 3, joined: 1, ready: null });
      expect(outcome.blocks.every((b) => b.attempt === 1)).toBe(true);

      const joined = await outputs.read(outcome.runId, "joined");
      expect(joined?.ref.path.startsWith(outputs.outputsDir)).toBe(true);
      const page = await outputs.readPage(joined!.ref, 0, 10);
      expect(page.rows).toEqual([{ cities: 3, twice_sum: 18, run: outcome.runId, attempt: 1, label: "contract" }]);
      const stored = await runs.getRun(outcome.runId);
      expect(stored?.blockRuns.map((b) => b.state)).toEqual(["success", "success", "success", "success", "success", "success"]);
      expect(stored?.blockRuns.find((b) => b.block === "big_twice")?.output?.ref.path).toBe(path.join(outputs.outputsDir, outcome.runId, "big_twice.parquet"));

      expect((await logs.read(outcome.runId, "source")).map((l) => l.message)).toContain("loading contract");
      expect((await logs.read(outcome.runId, "by_city")).map((l) => l.message)).toContain("by_city: 3 rows, 2 columns");
      expect(progress).toContain("by_city");
    });

    it("brings a block's data test and an exporter's ctx.io writes back to the store", async () => {
      const outcome = await runner.run({ pipeline: "feedback" });
      expect(outcome.state).toBe("success");
      const stored = await runs.getRun(outcome.runId);
      const byName = Object.fromEntries((stored?.blockRuns ?? []).map((b) => [b.block, b]));
      expect(byName.source).toMatchObject({ tests: { passed: 2 }, writes: null });
      expect(byName.save).toMatchObject({ tests: null, output: null, writes: [{ connector: "files", location: path.join(projectDir, "exports", "source.arrow"), rows: 4 }] });
      expect(fs.existsSync(path.join(projectDir, "exports", "source.arrow"))).toBe(true);
    });

    it("runs one block on its upstream's cached output, read from the persisted file", async () => {
      const outcome = await runner.run({ pipeline: "diamond", mode: "block", block: "big_ids", variables: { min_id: 4 } });
      expect(outcome.state).toBe("success");
      expect(outcome.blocks.map((b) => [b.name, b.rows])).toEqual([["big_ids", 1]]);
    });

    it("retries a plain throw per policy, never a user error; keeps message, code and stack; upstream_failed downstream", async () => {
      const outcome = await runner.run({ pipeline: "failing" });
      expect(outcome.state).toBe("failed");
      const byName = Object.fromEntries(outcome.blocks.map((b) => [b.name, b]));
      expect(byName.boom.state).toBe("failed");
      expect(byName.boom.attempt).toBe(2);
      expect(byName.boom.error?.message).toContain("kaboom at row 4");
      expect(byName.boom.error?.stack).toContain("boom.ts:2");
      expect(byName.after.state).toBe("upstream_failed");
      expect(byName.sibling.state).toBe("success");
      expect(byName.bad_sql.state).toBe("failed");
      expect(byName.bad_sql.attempt).toBe(1);
      expect(byName.bad_sql.error).toMatchObject({ code: "sql_error", kind: "user" });
      expect(byName.bad_sql.error?.message).toContain("bad_sql.sql");
      const attempts = await runs.listAttempts(outcome.runId, "boom");
      expect(attempts.map((a) => [a.attempt, a.state])).toEqual([
        [1, "up_for_retry"],
        [2, "failed"],
      ]);
    });

    it("times a hanging block out (an operational error: retried), and cancels a hanging run", async () => {
      const started = await runner.start({ pipeline: "slow" });
      const timedOut = await new Promise<void>((resolve) => {
        const unsubscribe = runner.events.subscribe((event) => {
          if (event.type === "block_state" && event.block === "too_slow" && event.state === "failed") {
            unsubscribe();
            resolve();
          }
        }, started.runId);
      });
      expect(timedOut).toBeUndefined();
      expect(runner.cancel(started.runId)).toBe(true);
      const outcome = await started.done;
      expect(outcome.state).toBe("cancelled");
      const byName = Object.fromEntries(outcome.blocks.map((b) => [b.name, b]));
      expect(byName.too_slow).toMatchObject({ state: "failed", attempt: 2 });
      expect(byName.too_slow.error).toMatchObject({ code: "timeout", kind: "operational" });
      expect(byName.forever.state).toBe("cancelled");
      expect(byName.next_one.state).toBe("cancelled");

      const after = await runner.run({ pipeline: "diamond" });
      expect(after.state).toBe("success");
    });
  });
}
