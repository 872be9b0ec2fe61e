/**
 * The notebook as last run, end to end through the real engine: block processes, DuckDB, the files
 * connector and the metadata store (SQLite file, and PostgreSQL in a database of its own). A pipeline runs
 * whole, then one block alone fails its data test; the API then remembers each block's newest block run (with
 * the exporter's writes and the "N tests passed"), and the newest output of each block separately.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { Client } from "pg";
import { writePipeline } from "../../../test/write-pipeline";
import { readEnv } from "../env";
import { setServices } from "../global-services";
import { createServices, type Services } from "../services";
import { latestBlockRuns } from "./notebook-service";
import { runDetail } from "./runs-history-service";
import { getRun } from "./runs-service";

const ADMIN_URL = "postgres://postgres@127.0.0.1:5432/test";

const PIPELINE = `version: 1
name: taxi
description: three blocks, a data test and an exporter
variables: { min_fare: 0 }
blocks:
  - { name: load_trips, type: loader, language: ts, upstream: [] }
  - { name: clean_trips, type: transformer, language: ts, upstream: [load_trips] }
  - { name: save_trips, type: exporter, language: ts, upstream: [clean_trips] }
`;

const FILES = {
  "load_trips.ts": `import { tableFromArrays } from "apache-arrow";
export default async function load() {
  return tableFromArrays({ id: Int32Array.from([1, 2, 3, 4]), fare: Float64Array.from([7.5, -2, 12, 30]) });
}`,
  "clean_trips.ts": `import { check } from "@sluice/sdk";
export default async function clean(input, ctx) {
  const min = Number(ctx.variables.min_fare);
  const rows = input.toArray().filter((r) => r.fare >= min).map((r) => ({ id: r.id, fare: r.fare }));
  return rows;
}
export async function test(output) {
  check(output.numRows > 0, "no trips left");
  check(output.schema.fields.length === 2, "expected id and fare");
  const fares = output.getChild("fare").toArray();
  for (const fare of fares) check(fare >= 0, "fare " + fare + " is negative");
}`,
  "save_trips.ts": `export default async function save(input, ctx) {
  await ctx.io.files.write(input, "exports/trips.parquet");
  await ctx.io.files.write(input, "exports/trips.arrow");
}`,
};

interface Backend {
  name: string;
  env(): Promise<Record<string, string>>;
  cleanup(): Promise<void>;
}

function sqlite(): Backend {
  return { name: "SQLite", env: async () => ({}), cleanup: async () => undefined };
}

function postgres(): Backend {
  const database = `notebook_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
  const admin = async (sql: string) => {
    const client = new Client({ connectionString: ADMIN_URL });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  return {
    name: "PostgreSQL",
    env: async () => {
      await admin(`CREATE DATABASE "${database}"`);
      return { DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${database}` };
    },
    cleanup: () => admin(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`),
  };
}

describe.each([sqlite(), postgres()])("the notebook as last run ($name)", (backend) => {
  let projectDir: string;
  let services: Services;

  beforeAll(async () => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-notebook-"));
    writePipeline(projectDir, "taxi", PIPELINE, FILES);
    const env = readEnv({ ...process.env, ...(await backend.env()) });
    services = await createServices({ projectDir, poolSize: 1, defaultTimeoutMs: 60_000, env });
    setServices(services);
  });

  afterAll(async () => {
    setServices(undefined);
    await services.close();
    await backend.cleanup();
    fs.rmSync(projectDir, { recursive: true, force: true });
  });

  it("answers empty lists for a pipeline that never ran", async () => {
    expect(await latestBlockRuns({ params: { p: "taxi" }, query: {}, headers: {}, body: undefined })).toEqual({ blocks: [], outputs: [] });
  });

  it("remembers each block's newest block run with its tests and writes, and each block's newest output", async () => {
    const whole = await services.runner.run({ pipeline: "taxi", variables: { min_fare: 0 } });
    expect(whole.state).toBe("success");
    // Then clean_trips alone, letting a negative fare through: its test fails, and it keeps its older output.
    const alone = await services.runner.run({ pipeline: "taxi", mode: "block", block: "clean_trips", variables: { min_fare: -5 } });
    expect(alone.state).toBe("failed");

    const answer = await latestBlockRuns({ params: { p: "taxi" }, query: {}, headers: {}, body: undefined });
    const byBlock = Object.fromEntries(answer.blocks.map((b) => [b.block, b]));
    expect(Object.keys(byBlock).sort()).toEqual(["clean_trips", "load_trips", "save_trips"]);

    expect(byBlock.load_trips).toMatchObject({ state: "success", rows: 4, has_output: true, tests: null, writes: null, run: { id: whole.runId, mode: "pipeline", block: null } });
    expect(byBlock.clean_trips).toMatchObject({ state: "failed", has_output: false, run: { id: alone.runId, mode: "block", block: "clean_trips", state: "failed" } });
    expect(byBlock.clean_trips?.tests).toEqual({ passed: null, failed: "test failed: fare -2 is negative" });
    expect(byBlock.save_trips).toMatchObject({ state: "success", rows: null, has_output: false, run: { id: whole.runId } });
    expect(byBlock.save_trips?.writes).toEqual([
      { connector: "files", location: expect.stringContaining("trips.parquet"), rows: 3 },
      { connector: "files", location: expect.stringContaining("trips.arrow"), rows: 3 },
    ]);

    // The failed block's preview is its newest output: the whole run's. The exporter has none.
    expect(answer.outputs.map((o) => [o.block, o.run_id, o.rows]).sort()).toEqual([
      ["clean_trips", whole.runId, 3],
      ["load_trips", whole.runId, 4],
    ]);

    // The whole run, as the run picker and the run page read it: clean_trips passed its 5 checks (2 + one per fare) there.
    const asOfWhole = await getRun({ params: { id: whole.runId }, query: {}, headers: {}, body: undefined });
    const clean = asOfWhole.blocks.find((b) => b.block === "clean_trips");
    expect(clean).toMatchObject({ state: "success", has_output: true, rows: 3, tests: { passed: 5, failed: null } });
    const page = await runDetail(whole.runId);
    expect(page.run).toMatchObject({ mode: "pipeline", block: null });
    expect(page.blocks.find((b) => b.block === "save_trips")).toMatchObject({ has_output: false, writes: byBlock.save_trips?.writes, tests: null });
    expect(page.blocks.find((b) => b.block === "clean_trips")?.tests).toEqual({ passed: 5, failed: null });
  });
});
