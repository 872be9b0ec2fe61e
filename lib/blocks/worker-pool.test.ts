import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { tableFromArrays, tableFromIPC, tableToIPC } from "apache-arrow";
import { OperationalError, UserError } from "../core/errors";
import { compileBlock } from "./compile-block";
import { duckdbToArrow } from "../arrow/duckdb-to-arrow";
import { blockProcessEntry, WorkerPool } from "./worker-pool";
import { INLINE_TABLE_BYTES, type RunBlockJob } from "./worker-protocol";

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

test("a block filling Buffers past its memory limit fails alone with memory_limit; the pool replaces its process", async () => {
  const small = await WorkerPool.start({ size: 2, cacheDir: join(dir, "cache") });
  try {
    const pidsBefore = small.pids;
    // 64 MiB Buffers filled with a non-zero byte (so every page is really resident), kept alive, up to 8 GiB.
    const hog = await job("buffer_hog", "export default async function () { const keep: Buffer[] = []; for (let i = 0; i < 128; i++) keep.push(Buffer.alloc(64 * 1024 * 1024, 1)); return [{ n: keep.length }]; }\n");
    const steady = await job("steady", "export default async function () { await new Promise((r) => setTimeout(r, 1500)); return [{ ok: 1 }]; }\n");
    const [hogOutcome, steadyOutcome] = await Promise.allSettled([
      small.run(hog, { block: "buffer_hog" }, { memoryBytes: 256 * 1024 * 1024 }),
      small.run(steady, { block: "steady" }),
    ]);
    expect(hogOutcome.status).toBe("rejected");
    const error = hogOutcome.status === "rejected" ? hogOutcome.reason : null;
    expect(error).toBeInstanceOf(OperationalError);
    expect(error instanceof OperationalError && error.code).toBe("memory_limit");
    expect(error instanceof OperationalError && error.location.block).toBe("buffer_hog");
    const message = String(error instanceof Error && error.message);
    expect(message).toMatch(/^block buffer_hog exceeded its memory limit of 256 MiB \(its process reached [\d.]+ [MG]iB resident\)/);
    // The watchdog fired long before the block's 8 GiB, even on a loaded machine.
    const [, reached, unit] = /reached ([\d.]+) ([MG]iB)/.exec(message) ?? [];
    expect(Number(reached) * (unit === "GiB" ? 1024 : 1)).toBeLessThan(4096);
    // The other block, in another process, finished normally.
    expect(steadyOutcome.status === "fulfilled" && steadyOutcome.value.kind === "table" && tableFromIPC(steadyOutcome.value.ipc).getChild("ok")?.get(0)).toBe(1);
    // The killed process was replaced: the pool is back at its size, with a new pid among them.
    expect(small.stats.workers).toBe(2);
    expect(small.stats.replaced).toBeGreaterThanOrEqual(1);
    expect(small.pids.filter((pid) => !pidsBefore.includes(pid)).length).toBeGreaterThanOrEqual(1);
    const again = await small.run(await job("fine", "export default async function () { return [{ ok: true }]; }\n"), { block: "fine" });
    expect(again.kind).toBe("table");
  } finally {
    await small.close();
  }
});

test("a block whose JavaScript heap passes its memory limit fails with memory_limit too", async () => {
  // Not lower: after one job an idle block process sits near 95 MiB resident (97 MiB on Node 24), and the
  // `fine` block below runs in the replacement process under the same limit.
  const small = await WorkerPool.start({ size: 1, cacheDir: join(dir, "cache"), memoryLimitBytes: 128 * 1024 * 1024 });
  try {
    const hog = await job("heap_hog", "export default async function () { const keep: number[][] = []; for (;;) keep.push(new Array(100000).fill(Math.random())); }\n");
    const error = await small.run(hog, { block: "heap_hog" }).catch((e: unknown) => e);
    expect(error instanceof OperationalError && [error.code, error.message]).toEqual([
      "memory_limit",
      expect.stringMatching(/^block heap_hog exceeded its memory limit of 128 MiB/),
    ]);
    const ok = await small.run(await job("fine", "export default async function () { return [{ ok: true }]; }\n"), { block: "fine" });
    expect(ok.kind).toBe("table");
  } finally {
    await small.close();
  }
});

test("a big table result and a big ctx.sql answer cross the process boundary through files, which are removed", async () => {
  const rows = 200_000;
  const big = await job(
    "big_out",
    `import { tableFromArrays } from "apache-arrow";
export default async function (ctx) {
  const fromSql = await ctx.sql("big");
  return tableFromArrays({ i: Int32Array.from({ length: ${rows} }, (_, i) => i), echoed: fromSql.getChild("x").toArray() });
}\n`,
  );
  const answer = tableToIPC(tableFromArrays({ x: Float64Array.from({ length: rows }, (_, i) => i / 2) }), "stream");
  expect(answer.byteLength).toBeGreaterThan(INLINE_TABLE_BYTES);
  const result = await pool.run(big, { block: "big_out", onSql: async () => ({ ipc: answer }) });
  expect(result.kind).toBe("table");
  const table = result.kind === "table" ? tableFromIPC(result.ipc) : null;
  expect(table?.numRows).toBe(rows);
  expect(table?.getChild("i")?.get(rows - 1)).toBe(rows - 1);
  expect(table?.getChild("echoed")?.get(rows - 1)).toBe((rows - 1) / 2);
  expect(readdirSync(join(dir, "cache", "tmp"))).toEqual([]);
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

test("blocks run on the prebuilt entry; the connectors load only when a block first touches ctx.io", async () => {
  // The suite's setup built dist/ from these sources, so the pool forks it rather than bundling its own.
  const entry = join(__dirname, "..", "..", "dist", "block-process.cjs");
  expect(await blockProcessEntry(join(dir, "cache"))).toBe(entry);
  const small = await WorkerPool.start({ size: 1, cacheDir: join(dir, "cache") });
  try {
    const [pid] = small.pids;
    expect(readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")).toContain(entry);
    const loaded = "Object.keys(require.cache).some((file) => file.includes('@duckdb'))";
    const untouched = await job("no_io", `export default async function () { return [{ duckdb: ${loaded} }]; }\n`);
    const touched = await job("with_io", `export default async function (ctx) { const files = typeof ctx.io.files.read; return [{ duckdb: ${loaded}, files }]; }\n`);
    const first = await small.run(untouched, { block: "no_io" });
    const second = await small.run(touched, { block: "with_io" });
    const rows = [first, second].map((r) => (r.kind === "table" ? tableFromIPC(r.ipc).toArray().map((row) => row.toJSON()) : null));
    expect(rows).toEqual([[{ duckdb: false }], [{ duckdb: true, files: "function" }]]);
  } finally {
    await small.close();
  }
});
