/**
 * Run semantics a user relies on, with real worker threads, DuckDB and both metadata stores (SQLite and
 * the PostgreSQL on this machine): retry inside the same run, dependencies without data, sensors that
 * poke, and `skipped`.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { writePipeline } from "../../test/write-pipeline";
import { createServices, type Services } from "../server/services";
import { dropSchema, freshSchemaName, TEST_DATABASE_URL } from "../store/metadata/pg-test-database";
import { PostgresRunStore } from "../store/metadata/postgres-run-store";
import type { RunStore } from "../store/metadata/run-store";
import { Runner } from "./runner";

/** A stamp of what the run saw: logical date, data interval and the `tag` variable. */
const STAMP = `export default async function load(ctx) {
  return [{ logical_date: ctx.logicalDate.toISOString(), interval_end: ctx.dataInterval.end.toISOString(), tag: String(ctx.variables.tag) }];
}`;

/** Fails until the flag file named by the variable exists; passes the stamp through. */
const GATED = (variable: string) => `import fs from "node:fs";
export default async function t(input, ctx) {
  if (!fs.existsSync(String(ctx.variables.${variable}))) throw new Error("flag ${variable} missing");
  return input;
}`;

function writeProject(projectDir: string): void {
  writePipeline(
    projectDir,
    "flaky",
    `version: 1
name: flaky
variables: { tag: none, flag_a: /nonexistent, flag_b: /nonexistent }
blocks:
  - { name: stamp, type: loader, language: ts, upstream: [] }
  - { name: gate_a, type: transformer, language: ts, upstream: [stamp] }
  - { name: gate_b, type: transformer, language: ts, upstream: [stamp] }
  - { name: joined, type: transformer, language: sql, upstream: [gate_a, gate_b] }
`,
    {
      "stamp.ts": STAMP,
      "gate_a.ts": GATED("flag_a"),
      "gate_b.ts": GATED("flag_b"),
      "joined.sql": "SELECT a.logical_date, a.interval_end, a.tag FROM gate_a a, gate_b b",
    },
  );
  writePipeline(
    projectDir,
    "no_data",
    `version: 1
name: no_data
blocks:
  - { name: rows, type: loader, language: ts, upstream: [] }
  - { name: save, type: exporter, language: ts, upstream: [rows] }
  - { name: after_save, type: transformer, language: ts, upstream: [save, rows] }
  - { name: sql_after_save, type: transformer, language: sql, upstream: [save] }
`,
    {
      "rows.ts": `export default async function l() { return [{ n: 1 }, { n: 2 }]; }`,
      "save.ts": `export default async function s(input) { if (input.numRows !== 2) throw new Error("bad input"); }`,
      "after_save.ts": `export default async function t(input, ctx) {
        return [{ first_rows: input.numRows, save_is_undefined: ctx.inputs.save === undefined, rows_rows: ctx.inputs.rows.numRows }];
      }`,
      "sql_after_save.sql": "SELECT * FROM save",
    },
  );
  writePipeline(
    projectDir,
    "gated",
    `version: 1
name: gated
variables: { file: /nonexistent, marker: /nonexistent }
blocks:
  - name: wait_for_file
    type: sensor
    language: ts
    upstream: []
    poke_interval: 100ms
    timeout: 30s
  - { name: export_marker, type: exporter, language: ts, upstream: [wait_for_file] }
`,
    {
      "wait_for_file.ts": `import fs from "node:fs";
export default async function sense(ctx) { return fs.existsSync(String(ctx.variables.file)); }`,
      "export_marker.ts": `import fs from "node:fs";
export default async function save(input, ctx) {
  fs.writeFileSync(String(ctx.variables.marker), JSON.stringify({ input_is_undefined: input === undefined, file_existed: fs.existsSync(String(ctx.variables.file)) }));
}`,
    },
  );
  for (const [name, softFail] of [
    ["sensor_times_out", false],
    ["sensor_soft_fails", true],
  ] as const) {
    writePipeline(
      projectDir,
      name,
      `version: 1
name: ${name}
blocks:
  - name: never
    type: sensor
    language: ts
    upstream: []
    poke_interval: 100ms
    timeout: 600ms
    soft_fail: ${softFail}
    retries: { count: 3, delay: 10ms }
  - { name: gated_export, type: exporter, language: ts, upstream: [never] }
`,
      {
        "never.ts": "export default async function sense() { return false; }",
        "gated_export.ts": "export default async function save() {}",
      },
    );
  }
  writePipeline(
    projectDir,
    "slow",
    `version: 1
name: slow
blocks:
  - { name: forever, type: loader, language: ts, upstream: [] }
`,
    { "forever.ts": "export default async function l() { await new Promise(() => {}); }" },
  );
  writePipeline(
    projectDir,
    "second_try",
    `version: 1
name: second_try
variables: { flag: /nonexistent }
blocks:
  - name: once_broken
    type: loader
    language: ts
    upstream: []
    retries: { count: 1, delay: 10ms }
`,
    {
      "once_broken.ts": `import fs from "node:fs";
export default async function l(ctx) {
  const flag = String(ctx.variables.flag);
  if (!fs.existsSync(flag)) { fs.writeFileSync(flag, "seen"); throw new Error("first attempt fails"); }
  return [{ ok: true }];
}`,
    },
  );
}

async function firstRow(services: Services, runId: string, block: string): Promise<Record<string, unknown>> {
  const record = await services.outputs.read(runId, block);
  if (!record) throw new Error(`no output of ${block} in run ${runId}`);
  const page = await services.outputs.readPage(record.ref, 0, 10);
  return page.rows[0];
}

type StoreKind = "sqlite" | "postgres";

describe.each<StoreKind>(["sqlite", "postgres"])("run semantics with the %s metadata store", (kind) => {
  let projectDir: string;
  let services: Services;
  let runner: Runner;
  let store: RunStore;
  let schema: string | null = null;
  let pgStore: PostgresRunStore | null = null;

  beforeAll(async () => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), `sluice-retry-${kind}-`));
    writeProject(projectDir);
    services = await createServices({ projectDir, poolSize: 2, defaultTimeoutMs: 60_000 });
    if (kind === "sqlite") {
      runner = services.runner;
      store = services.runs;
    } else {
      schema = freshSchemaName("sluice_retry");
      pgStore = await PostgresRunStore.open(TEST_DATABASE_URL, { schema });
      store = pgStore;
      runner = new Runner({
        projectDir,
        pipelines: services.files,
        store: pgStore,
        outputs: services.outputs,
        logs: services.logs,
        executor: services.executor,
        maxParallelBlocks: 2,
        defaultTimeoutMs: 60_000,
      });
    }
  });

  afterAll(async () => {
    await pgStore?.close();
    if (schema) await dropSchema(schema);
    await services.close();
    fs.rmSync(projectDir, { recursive: true, force: true });
  });

  const flag = (name: string) => path.join(projectDir, `${name}-${Math.random().toString(36).slice(2)}`);

  it("retries a backfill-style run in place: same id, logical date, data interval; both failed blocks at once; attempts accumulate", async () => {
    const flags = { flag_a: flag("a"), flag_b: flag("b") };
    const first = await runner.run({
      pipeline: "flaky",
      variables: { tag: "oct", ...flags },
      logicalDate: "2026-10-01T00:00:00.000Z",
      dataInterval: { start: "2026-10-01T00:00:00.000Z", end: "2026-10-02T00:00:00.000Z" },
      trigger: "backfill",
    });
    expect(first.state).toBe("failed");
    expect(first.blocks.map((b) => [b.name, b.state])).toEqual([
      ["stamp", "success"],
      ["gate_a", "failed"],
      ["gate_b", "failed"],
      ["joined", "upstream_failed"],
    ]);
    fs.writeFileSync(flags.flag_a, "ok");
    fs.writeFileSync(flags.flag_b, "ok");

    const retried = await runner.retry(first.runId);
    expect(retried.runId).toBe(first.runId);
    const outcome = await retried.done;
    expect(outcome.state).toBe("success");
    expect(Object.fromEntries(outcome.blocks.map((b) => [b.name, [b.state, b.attempt]]))).toEqual({
      stamp: ["success", 1], // not re-run: its output is this run's
      gate_a: ["success", 2],
      gate_b: ["success", 2],
      joined: ["success", 1],
    });
    const stored = await store.getRun(first.runId);
    expect(stored?.run).toMatchObject({
      state: "success",
      trigger: "backfill",
      logicalDate: "2026-10-01T00:00:00.000Z",
      dataInterval: { start: "2026-10-01T00:00:00.000Z", end: "2026-10-02T00:00:00.000Z" },
      variables: expect.objectContaining({ tag: "oct" }),
    });
    const attempts = await store.listAttempts(first.runId, "gate_a");
    expect(attempts.map((a) => [a.attempt, a.state])).toEqual([
      [1, "failed"],
      [2, "success"],
    ]);
    expect(attempts[0].error?.message).toContain("flag flag_a missing");
    expect(await firstRow(services, first.runId, "joined")).toEqual({ logical_date: "2026-10-01T00:00:00.000Z", interval_end: "2026-10-02T00:00:00.000Z", tag: "oct" });
  }, 60_000);

  it("retries from a block with that run's upstream outputs, even after a newer run succeeded", async () => {
    const flags = { flag_a: flag("a"), flag_b: flag("b") };
    fs.writeFileSync(flags.flag_a, "ok");
    fs.writeFileSync(flags.flag_b, "ok");
    const runA = await runner.run({ pipeline: "flaky", variables: { tag: "run_a", ...flags }, logicalDate: "2026-01-01T00:00:00.000Z" });
    const runB = await runner.run({ pipeline: "flaky", variables: { tag: "run_b", ...flags }, logicalDate: "2026-02-01T00:00:00.000Z" });
    expect([runA.state, runB.state]).toEqual(["success", "success"]);

    const outcome = await (await runner.retry(runA.runId, { fromBlock: "gate_a" })).done;
    expect(outcome.state).toBe("success");
    expect(Object.fromEntries(outcome.blocks.map((b) => [b.name, b.attempt]))).toEqual({ stamp: 1, gate_a: 2, gate_b: 1, joined: 2 });
    expect(await firstRow(services, runA.runId, "gate_a")).toMatchObject({ tag: "run_a", logical_date: "2026-01-01T00:00:00.000Z" });
    expect(await firstRow(services, runA.runId, "joined")).toMatchObject({ tag: "run_a" });
  }, 60_000);

  it("refuses to retry a live run, or a run with nothing failed", async () => {
    const started = await runner.start({ pipeline: "slow" });
    await expect(runner.retry(started.runId)).rejects.toMatchObject({ code: "run_not_finished" });
    await new Promise((resolve) => setTimeout(resolve, 500));
    runner.cancel(started.runId);
    expect((await started.done).state).toBe("cancelled");
    const retried = await runner.retry(started.runId);
    await new Promise((resolve) => setTimeout(resolve, 500));
    runner.cancel(retried.runId);
    const outcome = await retried.done;
    expect(outcome.blocks[0]).toMatchObject({ state: "cancelled", attempt: 2 });

    const flags = { flag_a: flag("a"), flag_b: flag("b") };
    fs.writeFileSync(flags.flag_a, "ok");
    fs.writeFileSync(flags.flag_b, "ok");
    const fine = await runner.run({ pipeline: "flaky", variables: flags });
    await expect(runner.retry(fine.runId)).rejects.toMatchObject({ code: "nothing_to_retry" });
  }, 60_000);

  it("runs again as a new run with the same logical date, data interval and variables", async () => {
    const flags = { flag_a: flag("a"), flag_b: flag("b") };
    fs.writeFileSync(flags.flag_a, "ok");
    fs.writeFileSync(flags.flag_b, "ok");
    const original = await runner.run({
      pipeline: "flaky",
      variables: { tag: "again", ...flags },
      logicalDate: "2026-10-01T00:00:00.000Z",
      dataInterval: { start: "2026-10-01T00:00:00.000Z", end: "2026-10-02T00:00:00.000Z" },
    });
    const again = await (await runner.rerun(original.runId)).done;
    expect(again.runId).not.toBe(original.runId);
    expect(again.state).toBe("success");
    expect(await firstRow(services, again.runId, "joined")).toEqual({ logical_date: "2026-10-01T00:00:00.000Z", interval_end: "2026-10-02T00:00:00.000Z", tag: "again" });
  }, 60_000);

  it("lets an exporter be an upstream: the downstream runs without its data; SQL naming it says it has no output", async () => {
    const outcome = await runner.run({ pipeline: "no_data" });
    const byName = Object.fromEntries(outcome.blocks.map((b) => [b.name, b]));
    expect(byName.save.state).toBe("success");
    expect(byName.after_save.state).toBe("success");
    expect(await firstRow(services, outcome.runId, "after_save")).toEqual({ first_rows: 2, save_is_undefined: true, rows_rows: 2 });
    expect(byName.sql_after_save.state).toBe("failed");
    expect(byName.sql_after_save.error?.message).toMatch(/upstream "save" returns no output/);

    // A later run of one block reads the exporter as a cached upstream without data.
    const single = await runner.run({ pipeline: "no_data", mode: "block", block: "after_save" });
    expect(single.state).toBe("success");
  }, 60_000);

  it("holds an exporter behind a sensor until the file appears; pokes are not attempts", async () => {
    const file = flag("arrives");
    const marker = flag("marker");
    const started = await runner.start({ pipeline: "gated", variables: { file, marker } });
    // Wait until the sensor has found the condition false twice (pokes recorded in the store as they happen).
    for (let waited = 0; ((await store.getRun(started.runId))?.blockRuns[0].pokes ?? 0) < 2; waited += 50) {
      if (waited > 30_000) throw new Error("the sensor never poked twice");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(fs.existsSync(marker)).toBe(false);
    fs.writeFileSync(file, "here");
    const outcome = await started.done;
    expect(outcome.state).toBe("success");
    const sensor = outcome.blocks.find((b) => b.name === "wait_for_file");
    expect(sensor).toMatchObject({ state: "success", attempt: 1 });
    expect(sensor?.pokes).toBeGreaterThanOrEqual(2);
    expect(JSON.parse(fs.readFileSync(marker, "utf8"))).toEqual({ input_is_undefined: true, file_existed: true });
    const stored = await store.getRun(outcome.runId);
    expect(stored?.blockRuns[0].pokes).toBe(sensor?.pokes);
    expect(stored?.blockRuns[0].lastPokeAt).not.toBeNull();
    expect((await store.listAttempts(outcome.runId, "wait_for_file")).map((a) => a.state)).toEqual(["success"]);
  }, 60_000);

  it("fails a sensor at its timeout saying how long it poked, without spending retries; soft_fail skips it and what it gates", async () => {
    const hard = await runner.run({ pipeline: "sensor_times_out" });
    expect(hard.state).toBe("failed");
    expect(hard.blocks[0]).toMatchObject({ state: "failed", attempt: 1 });
    expect(hard.blocks[0].error?.message).toMatch(/sensor "never" poked \d+ time\(s\) over 0\.\d s \(timeout 600ms\)/);
    expect(hard.blocks[1].state).toBe("upstream_failed");

    const soft = await runner.run({ pipeline: "sensor_soft_fails" });
    expect(soft.state).toBe("success");
    expect(soft.blocks.map((b) => [b.name, b.state])).toEqual([
      ["never", "skipped"],
      ["gated_export", "skipped"],
    ]);
  }, 60_000);

  it("reports no error on a block whose last attempt succeeded; the attempt history keeps it", async () => {
    const outcome = await runner.run({ pipeline: "second_try", variables: { flag: flag("second") } });
    expect(outcome.state).toBe("success");
    expect(outcome.blocks[0]).toMatchObject({ state: "success", attempt: 2 });
    expect(outcome.blocks[0].error).toBeUndefined();
    const attempts = await store.listAttempts(outcome.runId);
    expect(attempts.map((a) => [a.attempt, a.state, a.error?.message ?? null])).toEqual([
      [1, "up_for_retry", "first attempt fails"],
      [2, "success", null],
    ]);
    expect((await store.getRun(outcome.runId))?.blockRuns[0].error).toBeNull();
  }, 60_000);
});
