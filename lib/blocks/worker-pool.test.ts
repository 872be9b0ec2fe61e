import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { tableFromIPC } from "apache-arrow";
import { OperationalError, UserError } from "../core/errors";
import { compileBlock } from "./compile-block";
import { duckdbToArrow } from "./duckdb-to-arrow";
import { WorkerPool } from "./worker-pool";
import type { RunBlockJob } from "./worker-protocol";

let dir: string;
let pool: WorkerPool;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sluice-pool-"));
  mkdirSync(join(dir, "p"));
  pool = await WorkerPool.start({ size: 1, cacheDir: join(dir, "cache"), recycleAboveBytes: 1 });
});

afterAll(async () => {
  await pool.close();
  rmSync(dir, { recursive: true, force: true });
});

async function job(name: string, source: string): Promise<RunBlockJob> {
  const blockFile = join(dir, "p", `${name}.ts`);
  writeFileSync(blockFile, source);
  return {
    kind: "run-block",
    compiledFile: await compileBlock(blockFile, { cacheDir: join(dir, "cache") }),
    blockFile,
    runId: "r1",
    pipeline: "p",
    block: name,
    blockType: "loader",
    attempt: 1,
    logicalDate: "2020-10-01T00:00:00.000Z",
    dataInterval: { start: "2020-09-30T00:00:00.000Z", end: "2020-10-01T00:00:00.000Z" },
    variables: {},
    inputs: [],
    io: { profiles: { file: null, connections: {} }, dataDir: join(dir, "data"), projectDir: dir },
  };
}

test("jobs queue behind a busy worker; one cancelled while queued never runs; memory-heavy workers are recycled", async () => {
  const slow = await job("slow", "export default async function () { await new Promise((r) => setTimeout(r, 300)); return [{ n: 1 }]; }\n");
  const quick = await job("quick", "export default async function () { return [{ n: 2 }]; }\n");
  const replacedBefore = pool.stats.replaced;
  const controller = new AbortController();
  const first = pool.run(slow, { block: "slow" });
  const cancelled = pool.run(quick, { block: "quick" }, { signal: controller.signal });
  const third = pool.run(quick, { block: "quick" });
  expect(pool.stats).toMatchObject({ workers: 1, busy: 1, queued: 2 });
  controller.abort();
  await expect(cancelled).rejects.toThrow(new UserError("cancelled", "block quick was cancelled"));
  const results = await Promise.all([first, third]);
  expect(results.map((r) => (r.kind === "table" ? tableFromIPC(r.ipc).getChild("n")?.get(0) : null))).toEqual([1, 2]);
  // recycleAboveBytes: 1 → every worker is replaced after its job, and the pool stays at its size.
  expect(pool.stats.replaced - replacedBefore).toBe(2);
  expect(pool.stats.workers).toBe(1);
});

test("a block that runs out of memory fails with out_of_memory; the pool replaces its worker", async () => {
  const small = await WorkerPool.start({ size: 1, cacheDir: join(dir, "cache"), maxOldGenerationSizeMb: 32 });
  try {
    const hog = await job("hog", "export default async function () { const keep: number[][] = []; for (;;) keep.push(new Array(100000).fill(Math.random())); }\n");
    const error = await small.run(hog, { block: "hog" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OperationalError);
    expect(error instanceof OperationalError && error.code).toBe("out_of_memory");
    const ok = await small.run(await job("fine", "export default async function () { return [{ ok: true }]; }\n"), { block: "fine" });
    expect(ok.kind).toBe("table");
  } finally {
    await small.close();
  }
});

test("duckdbToArrow decodes the query result on a pool worker", async () => {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    await connection.run("SET TimeZone = 'UTC'");
    const table = await duckdbToArrow(
      connection,
      "SELECT range::INTEGER AS i, TIMESTAMP '2020-10-01 00:00:00.000001' + to_seconds(range) AS ts, CASE WHEN range % 2 = 0 THEN NULL ELSE 'v' || range END AS s FROM range(5) WHERE range >= $1",
      [1],
      { tempDir: dir, decode: (path) => pool.decodeParquet(path) },
    );
    expect(table.schema.fields.map((f) => String(f.type))).toEqual(["Int32", "Timestamp<MICROSECOND>", "Utf8"]);
    expect(table.toArray().map((row) => [row.i, row.s])).toEqual([
      [1, "v1"],
      [2, null],
      [3, "v3"],
      [4, null],
    ]);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
});
