/**
 * SQL → TS hand-offs through the real LocalExecutor (worker threads, the run's DuckDB): an upstream SQL
 * output and `ctx.sql` results reach the block as shared IPC built from DuckDB's chunks, and types that
 * path does not convert (UUID, INTERVAL) still arrive through the Parquet fallback.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_RETRY_POLICY, type BlockLanguage, type BlockSpec, type BlockType } from "../core/model";
import { LocalExecutor } from "../executors/local-executor";
import type { BlockInput, BlockRunRequest, BlockRunResult } from "../core/execution";
import { OutputStore } from "../store/output-store";

let tmp: string;
let executor: LocalExecutor;
let outputs: OutputStore;
const pipelineDir = () => join(tmp, "pipelines", "handoff");

const BLOCKS: Record<string, string> = {
  "plain.sql": "SELECT range::INTEGER AS n, 'row ' || range AS label, range * 0.5 AS half FROM range(5000)",
  "odd_types.sql": "SELECT range::INTEGER AS n, ('00000000-0000-0000-0000-' || lpad(range::VARCHAR, 12, '0'))::UUID AS id, to_days(range::INTEGER) AS span FROM range(3)",
  "echo.ts": `export default async function echo(input, ctx) {
  ctx.log.info(input.numRows + " rows, " + input.schema.fields.map((f) => f.name + ":" + f.type).join(","));
  return input;
}`,
  "asks.ts": `import { tableFromArrays } from "apache-arrow";
export default async function asks(input, ctx) {
  const sums = await ctx.sql("SELECT sum(n)::BIGINT AS total, count(*)::INTEGER AS rows FROM plain WHERE n < $1", [100]);
  const ids = await ctx.sql("SELECT CAST('00000000-0000-0000-0000-000000000007' AS UUID) AS id");
  await ctx.sql("CREATE TABLE scratch (k BIGINT)");
  const changed = await ctx.sql("INSERT INTO scratch SELECT * FROM range(7)");
  return tableFromArrays({
    total: [Number(sums.get(0).total)],
    rows: [sums.get(0).rows],
    id: [String(ids.get(0).id)],
    changed: [Number(changed.get(0).rows_changed)],
  });
}`,
};

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "sluice-ts-block-"));
  mkdirSync(pipelineDir(), { recursive: true });
  for (const [file, text] of Object.entries(BLOCKS)) writeFileSync(join(pipelineDir(), file), text);
  executor = new LocalExecutor({ projectDir: tmp, cacheDir: join(tmp, "cache"), poolSize: 1, defaultTimeoutMs: 60_000, env: {} });
  outputs = new OutputStore(join(tmp, "data"));
});

afterAll(async () => {
  await executor.close();
  await outputs.close();
  rmSync(tmp, { recursive: true, force: true });
});

function spec(name: string, type: BlockType, language: BlockLanguage, upstream: string[] = []): BlockSpec {
  return { name, type, language, upstream, retries: DEFAULT_RETRY_POLICY, timeoutMs: null, connection: null, queue: null };
}

async function run(runId: string, block: BlockSpec, inputs: BlockInput[] = [], logs: string[] = []): Promise<BlockRunResult> {
  const request: BlockRunRequest = {
    runId,
    pipelineName: "handoff",
    pipelineDir: pipelineDir(),
    projectDir: tmp,
    block,
    inputs,
    variables: {},
    logicalDate: "2020-10-01T00:00:00.000Z",
    dataInterval: { start: "2020-09-30T00:00:00.000Z", end: "2020-10-01T00:00:00.000Z" },
    attempt: 1,
    timeoutMs: 0,
    signal: new AbortController().signal,
    onLog: (line) => logs.push(line.message),
    onProgress: () => undefined,
    outputs,
  };
  return executor.execute(request);
}

function inputOf(name: string, result: BlockRunResult): BlockInput {
  if (result.output === null) throw new Error(`${name} has no output`);
  return { name, output: result.output, ipc: result.ipc };
}

test("a TS block reads SQL outputs of the run, through the chunk path and through the Parquet fallback", async () => {
  const runId = `ts_block_${Date.now()}`;
  const plain = await run(runId, spec("plain", "transformer", "sql"));
  const odd = await run(runId, spec("odd_types", "transformer", "sql"));
  const logs: string[] = [];
  const echoed = await run(runId, spec("echo", "transformer", "ts", ["plain"]), [inputOf("plain", plain)], logs);
  expect(echoed.output?.summary).toMatchObject({ rows: 5000 });
  expect(echoed.output?.summary.columns).toEqual([
    expect.objectContaining({ name: "n", min: 0, max: 4999 }),
    expect.objectContaining({ name: "label", min: "row 0" }),
    expect.objectContaining({ name: "half", max: "2499.5" }),
  ]);
  const oddLogs: string[] = [];
  const oddEchoed = await run(runId, spec("echo", "transformer", "ts", ["odd_types"]), [inputOf("odd_types", odd)], oddLogs);
  expect(oddEchoed.output?.summary).toMatchObject({ rows: 3 });
  expect(oddLogs.join("\n")).toMatch(/^3 rows, n:Int32,id:.*,span:Interval/m);
  expect(logs.join("\n")).toContain("5000 rows, n:Int32,label:Utf8,half:");
  await executor.endRun(runId);
});

test("ctx.sql answers row queries, fallback types and statements", async () => {
  const runId = `ts_block_sql_${Date.now()}`;
  const plain = await run(runId, spec("plain", "transformer", "sql"));
  const asked = await run(runId, spec("asks", "transformer", "ts", ["plain"]), [inputOf("plain", plain)]);
  const table = await outputs.readArrowTable(asked.output!.ref);
  // The UUID came the Parquet way, which hands UUIDs over as their 16 bytes.
  expect(table.get(0)?.toJSON()).toEqual({ total: 4950, rows: 100, id: "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,7", changed: 7 });
  await executor.endRun(runId);
});
