import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { writePipeline } from "../../test/write-pipeline";
import { createServices, type Services } from "../server/services";


const LOADER = `
import { tableFromArrays } from "apache-arrow";
export default async function load(ctx) {
  ctx.log.info("loading");
  return tableFromArrays({ id: Int32Array.from([1, 2, 3, 4]), city: ["a", "b", "a", null] });
}`;

describe("Runner (real worker threads, DuckDB, SQLite, files)", () => {
  let projectDir: string;
  let services: Services;

  beforeAll(async () => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-runner-"));
    writePipeline(
      projectDir,
      "diamond",
      `version: 1
name: diamond
description: a diamond of TS and SQL blocks
variables: { min_id: 2 }
blocks:
  - { name: source, type: loader, language: ts, upstream: [] }
  - { name: by_city, type: transformer, language: sql, upstream: [source] }
  - { name: big_ids, type: transformer, language: sql, upstream: [source] }
  - { name: joined, type: transformer, language: ts, upstream: [by_city, big_ids] }
`,
      {
        "source.ts": LOADER,
        "by_city.sql": "SELECT city, count(*) AS n FROM source GROUP BY city ORDER BY city NULLS LAST",
        "big_ids.sql": "SELECT id FROM source WHERE id >= {{ variables.min_id }} ORDER BY id",
        "joined.ts": `export default async function t(input, ctx) {
          return [{ cities: input.numRows, big: ctx.inputs.big_ids.numRows }];
        }`,
      },
    );
    writePipeline(
      projectDir,
      "failing",
      `version: 1
name: failing
description: a block that throws, with a retry
blocks:
  - { name: source, type: loader, language: ts, upstream: [] }
  - name: boom
    type: transformer
    language: ts
    upstream: [source]
    retries: { count: 1, delay: 10ms }
  - { name: after, type: exporter, language: ts, upstream: [boom] }
  - { name: sibling, type: exporter, language: ts, upstream: [source] }
`,
      {
        "source.ts": LOADER,
        "boom.ts": `export default async function t(input) {\n  throw new Error("kaboom at row " + input.numRows);\n}`,
        "after.ts": "export default async function s() {}",
        "sibling.ts": "export default async function s() {}",
      },
    );
    writePipeline(
      projectDir,
      "slow",
      `version: 1
name: slow
description: a block that never ends
blocks:
  - { name: forever, type: loader, language: ts, upstream: [] }
  - { name: next_one, type: exporter, language: ts, upstream: [forever] }
`,
      {
        "forever.ts": "export default async function l() { await new Promise(() => {}); }",
        "next_one.ts": "export default async function s() {}",
      },
    );
    services = await createServices({ projectDir, poolSize: 2, defaultTimeoutMs: 60_000 });
  });

  afterAll(async () => {
    await services.close();
    fs.rmSync(projectDir, { recursive: true, force: true });
  });

  it("runs a diamond in dependency order and persists every output and state", async () => {
    const events: string[] = [];
    const unsubscribe = services.runner.events.subscribe((e) => {
      if (e.type === "block_state") events.push(`${e.block}:${e.state}`);
    });
    const outcome = await services.runner.run({ pipeline: "diamond" });
    unsubscribe();
    expect(outcome.state).toBe("success");
    const rows = Object.fromEntries(outcome.blocks.map((b) => [b.name, b.rows]));
    expect(rows).toEqual({ source: 4, by_city: 3, big_ids: 3, joined: 1 });
    // joined started only after both of its upstreams succeeded
    const joinedStart = events.indexOf("joined:running");
    expect(joinedStart).toBeGreaterThan(events.indexOf("by_city:success"));
    expect(joinedStart).toBeGreaterThan(events.indexOf("big_ids:success"));

    const stored = await services.runs.getRun(outcome.runId);
    expect(stored?.run.state).toBe("success");
    expect(stored?.blockRuns.map((b) => b.state)).toEqual(["success", "success", "success", "success"]);
    const bigIds = await services.outputs.read(outcome.runId, "big_ids");
    const page = await services.outputs.readPage(bigIds!.ref, 0, 10);
    expect(page.rows.map((r) => Number(r.id))).toEqual([2, 3, 4]);
    const logs = await services.logs.read(outcome.runId, "source");
    expect(logs.map((l) => l.message)).toContain("loading");
  });

  it("runs one block on its upstream's cached output", async () => {
    const outcome = await services.runner.run({ pipeline: "diamond", mode: "block", block: "big_ids", variables: { min_id: 4 } });
    expect(outcome.state).toBe("success");
    expect(outcome.blocks.map((b) => [b.name, b.rows])).toEqual([["big_ids", 1]]);
  });

  it("retries a failing block, then fails it and marks its downstream upstream_failed; siblings still run", async () => {
    const outcome = await services.runner.run({ pipeline: "failing" });
    expect(outcome.state).toBe("failed");
    const byName = Object.fromEntries(outcome.blocks.map((b) => [b.name, b]));
    expect(byName.boom.state).toBe("failed");
    expect(byName.boom.attempt).toBe(2);
    expect(byName.boom.error?.message).toContain("kaboom at row 4");
    expect(byName.boom.error?.stack).toContain("boom.ts:2");
    expect(byName.after.state).toBe("upstream_failed");
    expect(byName.sibling.state).toBe("success");
  });

  it("cancels a hanging run: the block is killed, the rest cancelled, the pool keeps working", async () => {
    const started = await services.runner.start({ pipeline: "slow" });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(services.runner.cancel(started.runId)).toBe(true);
    const outcome = await started.done;
    expect(outcome.state).toBe("cancelled");
    expect(outcome.blocks.map((b) => b.state)).toEqual(["cancelled", "cancelled"]);
    const after = await services.runner.run({ pipeline: "diamond" });
    expect(after.state).toBe("success");
  });

  it("refuses a run of one block whose upstream never ran, before creating anything", async () => {
    await expect(services.runner.start({ pipeline: "slow", mode: "block", block: "next_one" })).rejects.toThrow(/never run successfully/);
  });
});
