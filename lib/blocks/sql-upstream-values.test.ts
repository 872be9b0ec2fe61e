/**
 * `{{ upstream.<block>.<column> }}` in SQL blocks: a column of a small upstream bound as one list parameter,
 * which is how a block hands DuckDB's table functions (which take constants, never a subquery) the files to
 * read. Real run database, real output store, real CSV files.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_RETRY_POLICY, type BlockSpec } from "../core/model";
import type { BlockInput, BlockRunRequest, BlockRunResult } from "../core/execution";
import { OutputStore } from "../store/output-store";
import { RunDatabases } from "./run-database";
import { runSqlBlock, UPSTREAM_LIST_MAX_ROWS } from "./sql-block";

let tmp: string;
let pipelineDir: string;
let databases: RunDatabases;
let outputs: OutputStore;
const RUN = "run_upstream_values";

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "sluice-sql-upstream-"));
  pipelineDir = join(tmp, "pipelines", "p");
  mkdirSync(pipelineDir, { recursive: true });
  for (const [month, rows] of [
    ["2020-10", 3],
    ["2020-11", 2],
  ] as const) {
    const lines = ["id,fare", ...Array.from({ length: rows }, (_, i) => `${i},${(i + 1) * 1.5}`)];
    writeFileSync(join(tmp, `trips_${month}.csv`), `${lines.join("\n")}\n`);
  }
  const files = ["2020-10", "2020-11"].map((m) => `('${m}', '${join(tmp, `trips_${m}.csv`)}')`).join(", ");
  writeFileSync(join(pipelineDir, "files.sql"), `SELECT * FROM (VALUES ${files}) AS t(month, path) ORDER BY month`);
  writeFileSync(join(pipelineDir, "many.sql"), `SELECT i AS path FROM range(${UPSTREAM_LIST_MAX_ROWS + 1}) t(i)`);
  writeFileSync(
    join(pipelineDir, "trips.sql"),
    "SELECT regexp_extract(filename, '(\\d{4}-\\d{2})', 1) AS month, id, fare FROM read_csv({{ upstream.files.path }}, header = true, filename = true, columns = {'id': 'INTEGER', 'fare': 'DOUBLE'})",
  );
  writeFileSync(join(pipelineDir, "misspelt.sql"), "SELECT * FROM read_csv({{ upstream.files.paths }}, header = true)");
  writeFileSync(join(pipelineDir, "from_many.sql"), "SELECT * FROM read_csv({{ upstream.many.path }}, header = true)");
  databases = new RunDatabases(join(tmp, "duckdb"));
  outputs = new OutputStore(join(tmp, "data"));
});

afterAll(async () => {
  await databases.closeAll();
  await outputs.close();
  rmSync(tmp, { recursive: true, force: true });
});

function request(name: string, inputs: BlockInput[] = []): BlockRunRequest {
  const block: BlockSpec = { name, type: "transformer", language: "sql", upstream: inputs.map((i) => i.name), retries: DEFAULT_RETRY_POLICY, timeoutMs: null, connection: null, queue: null };
  return {
    runId: RUN,
    pipelineName: "p",
    pipelineDir,
    projectDir: tmp,
    block,
    inputs,
    variables: {},
    logicalDate: "2020-10-01T00:00:00.000Z",
    dataInterval: { start: "2020-10-01T00:00:00.000Z", end: "2020-10-01T00:00:00.000Z" },
    attempt: 1,
    timeoutMs: 0,
    signal: new AbortController().signal,
    onLog: () => undefined,
    onProgress: () => undefined,
    outputs,
  };
}

const input = (name: string, result: BlockRunResult): BlockInput => {
  if (result.output === null) throw new Error(`${name} has no output`);
  return { name, output: result.output };
};

describe("{{ upstream.<block>.<column> }}", () => {
  let files: BlockInput;
  beforeAll(async () => {
    files = input("files", await runSqlBlock(request("files"), { databases }));
  });

  it("binds an upstream's column as a list: read_csv reads every file it names", async () => {
    const result = await runSqlBlock(request("trips", [files]), { databases });
    expect(result.output?.summary.rows).toBe(5);
    const db = await databases.get(RUN);
    const connection = await db.connect();
    try {
      const rows = (await connection.runAndReadAll("SELECT month, count(*)::INTEGER, sum(fare) FROM trips GROUP BY 1 ORDER BY 1")).getRows();
      expect(rows).toEqual([
        ["2020-10", 3, 9],
        ["2020-11", 2, 4.5],
      ]);
    } finally {
      db.release(connection);
    }
  });

  it("answers a misspelt column with the columns there are", async () => {
    await expect(runSqlBlock(request("misspelt", [files]), { databases })).rejects.toMatchObject({
      code: "unknown_variable",
      message: expect.stringMatching(/upstream\.files\.paths.*did you mean "path"\?.*month, path/s),
    });
  });

  it("refuses to bind a large upstream, naming the table to read instead", async () => {
    const many = input("many", await runSqlBlock(request("many"), { databases }));
    await expect(runSqlBlock(request("from_many", [many]), { databases })).rejects.toMatchObject({
      code: "upstream_too_large",
      message: expect.stringMatching(/many has 10,001.*read it as the table many instead/),
    });
  });
});
