/**
 * LocalExecutor end to end: real block processes, real DuckDB, real files (the real OutputStore). Block
 * fixtures live in lib/blocks/__fixtures__/<pipeline>/.
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { tableFromIPC } from "apache-arrow";
import { OperationalError, UserError } from "../core/errors";
import { DEFAULT_RETRY_POLICY, type BlockLanguage, type BlockSpec, type BlockType, type Variables } from "../core/model";
import { OutputStore } from "../store/output-store";
import { BlockCodeError } from "../blocks/block-errors";
import { LocalExecutor } from "./local-executor";
import type { BlockInput, BlockRunRequest, BlockRunResult, LogLine, Progress } from "./types";

const FIXTURES = join(__dirname, "../blocks/__fixtures__");

let tmp: string;
let executor: LocalExecutor;
let outputs: OutputStore;
let runCounter = 0;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "sluice-local-executor-"));
  executor = new LocalExecutor({
    projectDir: FIXTURES,
    cacheDir: join(tmp, "cache"),
    poolSize: 2,
    defaultTimeoutMs: 60_000,
    env: { SLUICE_TEST_SECRET: "s3cret" },
  });
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

interface Captured {
  request: BlockRunRequest;
  logs: LogLine[];
  progress: Progress[];
}

function newRunId(): string {
  runCounter += 1;
  return `run_${Date.now()}_${runCounter}`;
}

function makeRequest(
  runId: string,
  block: BlockSpec,
  options: { pipeline?: string; pipelineDir?: string; inputs?: BlockInput[]; variables?: Variables; timeoutMs?: number; signal?: AbortSignal } = {},
): Captured {
  const logs: LogLine[] = [];
  const progress: Progress[] = [];
  const pipeline = options.pipeline ?? "taxi";
  const request: BlockRunRequest = {
    runId,
    pipelineName: pipeline,
    pipelineDir: options.pipelineDir ?? join(FIXTURES, pipeline),
    projectDir: FIXTURES,
    block,
    inputs: options.inputs ?? [],
    variables: options.variables ?? {},
    logicalDate: "2020-10-01T00:00:00.000Z",
    dataInterval: { start: "2020-09-30T00:00:00.000Z", end: "2020-10-01T00:00:00.000Z" },
    attempt: 1,
    timeoutMs: options.timeoutMs ?? 0,
    signal: options.signal ?? new AbortController().signal,
    onLog: (line) => logs.push(line),
    onProgress: (p) => progress.push(p),
    outputs,
  };
  return { request, logs, progress };
}

function inputOf(name: string, result: BlockRunResult): BlockInput {
  if (result.output === null) throw new Error(`${name} has no output`);
  return { name, output: result.output, ipc: result.ipc };
}

async function runBlock(captured: Captured): Promise<BlockRunResult> {
  return executor.execute(captured.request);
}

async function expectError(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`rejected with a non-Error: ${String(error)}`);
  }
  throw new Error("expected a rejection");
}

/** Reads a persisted Parquet output with a separate DuckDB, exactly (no JS number conversions). */
async function queryParquet(path: string, select: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    await connection.run("SET TimeZone = 'UTC'");
    const reader = await connection.runAndReadAll(`SELECT ${select} FROM read_parquet('${path.replace(/'/g, "''")}')`);
    return reader.getRowObjectsJS();
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

const LOADER = spec("load_trips", "loader", "ts");

describe("TypeScript blocks", () => {
  test("loader → transformer (array of objects) → exporter, with logs and progress", async () => {
    const runId = newRunId();
    const load = makeRequest(runId, LOADER);
    const loaded = await runBlock(load);
    expect(loaded.output?.summary.rows).toBe(6);
    expect(loaded.output?.ref.format).toBe("arrow");
    // The output comes back from the block process as IPC bytes downstream SQL blocks can read in memory.
    expect(loaded.ipc && tableFromIPC(loaded.ipc).numRows).toBe(6);
    expect(load.logs.map((l) => [l.level, l.message])).toEqual(
      expect.arrayContaining([
        ["info", "loading trips for 2020-10-01T00:00:00.000Z"],
        ["info", "rows 6"],
      ]),
    );
    expect(load.progress).toEqual([{ rows: 6, message: "generated" }]);
    const pickup = loaded.output?.summary.columns.find((c) => c.name === "pickup");
    expect(pickup).toMatchObject({ type: "Timestamp<MICROSECOND>", nulls: 1 });

    const toKm = makeRequest(runId, spec("to_km", "transformer", "ts", ["load_trips"]), { inputs: [inputOf("load_trips", loaded)] });
    const km = await runBlock(toKm);
    expect(km.output?.summary.rows).toBe(6);
    expect(km.output?.summary.columns.map((c) => [c.name, c.type, c.nulls])).toEqual([
      ["vendor", "Float64", 1],
      ["km", "Float64", 1],
      ["zone", "Utf8", 1],
      ["seen_at", "Timestamp<MICROSECOND>", 0],
    ]);
    expect(toKm.logs).toEqual([expect.objectContaining({ level: "debug", message: "upstreams: load_trips" })]);

    const outFile = join(tmp, `ts-chain-${runId}.json`);
    const save = makeRequest(runId, spec("save_json", "exporter", "ts", ["to_km"]), { inputs: [inputOf("to_km", km)], variables: { out_file: outFile } });
    const saved = await runBlock(save);
    expect(saved.output).toBeNull();
    const written = JSON.parse(readFileSync(outFile, "utf8")) as { types: Record<string, string>; rows: Record<string, unknown>[] };
    expect(written.rows).toHaveLength(6);
    expect(written.rows[0]).toEqual({ vendor: 1, km: 2.414, zone: "East Harlem North", seen_at: Date.parse("2021-01-01T00:00:00.000Z") });
    expect(written.rows[2]).toEqual({ vendor: null, km: null, zone: null, seen_at: Date.parse("2021-01-01T00:00:00.000Z") });
    expect(save.logs.map((l) => l.message)).toContain("saved 6 rows");
    await executor.endRun(runId);
  });

  test("an upstream read from its persisted Arrow file when no in-memory IPC is given", async () => {
    const runId = newRunId();
    const loaded = await runBlock(makeRequest(runId, LOADER));
    const { output } = loaded;
    if (output === null) throw new Error("no output");
    const km = await runBlock(makeRequest(runId, spec("to_km", "transformer", "ts", ["load_trips"]), { inputs: [{ name: "load_trips", output }] }));
    expect(km.output?.summary.rows).toBe(6);
  });

  test("ctx.sql runs DuckDB over the upstreams and returns an Arrow table", async () => {
    const runId = newRunId();
    const loaded = await runBlock(makeRequest(runId, LOADER));
    const counted = await runBlock(makeRequest(runId, spec("count_vendor", "transformer", "ts", ["load_trips"]), { inputs: [inputOf("load_trips", loaded)] }));
    expect(counted.output?.summary).toMatchObject({ rows: 1 });
    expect(counted.output?.summary.columns).toEqual([
      expect.objectContaining({ name: "vendor_id", type: "Int32", min: 2, max: 2 }),
      expect.objectContaining({ name: "trips", type: "Int32", min: 3, max: 3 }),
      expect.objectContaining({ name: "last_pickup", type: "Timestamp<MICROSECOND>", min: "2020-12-31T12:00:00.000Z" }),
    ]);
    await executor.endRun(runId);
  });

  test("a sensor returns its boolean", async () => {
    const result = await runBlock(makeRequest(newRunId(), spec("is_ready", "sensor", "ts"), { variables: { ready: true } }));
    expect(result).toEqual({ output: null, sensorResult: true });
  });

  test("console.warn/error, raw stdout and ctx.env are captured for the block", async () => {
    const captured = makeRequest(newRunId(), spec("stdout_writer", "loader", "ts"), { pipeline: "faulty" });
    const result = await runBlock(captured);
    expect(result.output?.summary.columns.find((c) => c.name === "env")).toMatchObject({ min: "s3cret" });
    expect(captured.logs.map((l) => [l.level, l.message])).toEqual(
      expect.arrayContaining([
        ["warn", "careful: { x: 1 }"],
        ["error", "bad thing 42"],
        ["info", "raw stdout line"],
      ]),
    );
  });
});

describe("TypeScript block failures", () => {
  test("a return value that is neither a Table nor rows is a UserError saying what came back", async () => {
    const error = await expectError(runBlock(makeRequest(newRunId(), spec("wrong_return", "loader", "ts"), { pipeline: "faulty" })));
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toBe('block wrong_return returned a string (not a table), expected an Arrow Table or an array of objects');
  });

  test("rows mixing types in one column are a UserError naming the column", async () => {
    const error = await expectError(runBlock(makeRequest(newRunId(), spec("mixed_rows", "loader", "ts"), { pipeline: "faulty" })));
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toContain('column "id" mixes number and string');
  });

  test("a throw keeps its message, and its stack points at the block's .ts line", async () => {
    const captured = makeRequest(newRunId(), spec("throws", "loader", "ts"), { pipeline: "faulty" });
    const error = await expectError(runBlock(captured));
    expect(error).toBeInstanceOf(BlockCodeError);
    expect(error.message).toBe("bad fare: abc");
    const file = join(FIXTURES, "faulty", "throws.ts");
    expect(error.stack).toContain(`${file}:6:`);
    expect(error.stack).toContain(`${file}:13:`);
    expect(error instanceof BlockCodeError && error.location).toMatchObject({ block: "throws", file, line: 6 });
    expect(captured.logs.map((l) => l.message)).toContain("about to fail");
  });

  test("test() failing fails the block with its message", async () => {
    const error = await expectError(runBlock(makeRequest(newRunId(), spec("failing_test", "loader", "ts"), { pipeline: "faulty" })));
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toBe("test failed: fares must not be negative");
    expect(error instanceof UserError && error.code).toBe("test_failed");
    expect(error.stack).toContain("failing_test.ts:10:");
  });

  test("a block without a default export", async () => {
    const error = await expectError(runBlock(makeRequest(newRunId(), spec("no_default", "loader", "ts"), { pipeline: "faulty" })));
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toContain("has no default export function");
  });

  test("a compile error is a UserError naming file:line", async () => {
    const dir = join(tmp, "broken_pipeline");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "bad_syntax.ts"), "export default async function load() {\n  return [{ a: 1 ];\n}\n");
    const error = await expectError(runBlock(makeRequest(newRunId(), spec("bad_syntax", "loader", "ts"), { pipeline: "broken_pipeline", pipelineDir: dir })));
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toMatch(/bad_syntax\.ts:2:\d+: Expected "}" but found "]"/);
    expect(error instanceof UserError && error.location).toMatchObject({ line: 2, block: "bad_syntax" });
  });

  test("hanging blocks (a never-settling promise, a busy loop) are killed at their timeout; the pool keeps working", async () => {
    const started = Date.now();
    const [promiseError, busyError] = await Promise.all([
      expectError(runBlock(makeRequest(newRunId(), spec("hang_promise", "loader", "ts"), { pipeline: "faulty", timeoutMs: 1500 }))),
      expectError(runBlock(makeRequest(newRunId(), spec("hang_busy", "loader", "ts"), { pipeline: "faulty", timeoutMs: 1500 }))),
    ]);
    expect(Date.now() - started).toBeLessThan(15_000);
    for (const [error, name] of [
      [promiseError, "hang_promise"],
      [busyError, "hang_busy"],
    ] as const) {
      expect(error).toBeInstanceOf(OperationalError);
      expect(error instanceof OperationalError && error.code).toBe("timeout");
      expect(error.message).toBe(`block ${name} timed out after 1500ms`);
    }
    const after = await runBlock(makeRequest(newRunId(), LOADER));
    expect(after.output?.summary.rows).toBe(6);
    const pool = await executor.pool();
    expect(pool.stats.workers).toBe(2);
  });

  test("cancel through the AbortSignal kills the block", async () => {
    const controller = new AbortController();
    const running = runBlock(makeRequest(newRunId(), spec("hang_promise", "loader", "ts"), { pipeline: "faulty", signal: controller.signal }));
    setTimeout(() => controller.abort(), 300);
    const error = await expectError(running);
    expect(error).toBeInstanceOf(UserError);
    expect(error instanceof UserError && error.code).toBe("cancelled");
    expect(error.message).toBe("block hang_promise was cancelled");
    expect((await runBlock(makeRequest(newRunId(), LOADER))).output?.summary.rows).toBe(6);
  });

  test("process.exit() in block code fails only that block", async () => {
    const error = await expectError(runBlock(makeRequest(newRunId(), spec("exits", "loader", "ts"), { pipeline: "faulty" })));
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toContain("exit code 3");
    expect((await runBlock(makeRequest(newRunId(), LOADER))).output?.summary.rows).toBe(6);
  });
});

describe("upstreams by reference", () => {
  test("an exporter writes its TS and SQL upstreams by reference (ctx.upstream): same rows and values, a precise error for a wrong name", async () => {
    const runId = newRunId();
    const loaded = await runBlock(makeRequest(runId, LOADER));
    const clean = await runBlock(makeRequest(runId, spec("clean_trips", "transformer", "sql", ["load_trips"]), { inputs: [inputOf("load_trips", loaded)], variables: { min_distance: 1 } }));
    const out = join(tmp, `by-reference-${runId}`);
    const save = makeRequest(runId, spec("write_by_reference", "exporter", "ts", ["load_trips", "clean_trips"]), {
      inputs: [inputOf("load_trips", loaded), inputOf("clean_trips", clean)],
      variables: { out_dir: out },
    });
    expect(await runBlock(save)).toMatchObject({ output: null });
    expect(save.logs.map((l) => [l.level, l.message])).toEqual(
      expect.arrayContaining([
        ["info", "arrow 6, parquet 4"],
        ["warn", 'ctx.upstream("missing"): not an upstream of block write_by_reference with an output (it has load_trips, clean_trips)'],
      ]),
    );
    const cleanPath = clean.output?.ref.path ?? "";
    const select = "vendor_id, epoch_us(pickup)::VARCHAR AS pickup_us, passenger_count::VARCHAR AS passengers, trip_distance, zone";
    const sorted = (rows: Record<string, unknown>[]) => rows.map((row) => JSON.stringify({ ...row, vendor_id: row.vendor_id === null ? null : Number(row.vendor_id) })).sort();
    const lake = await queryParquet(join(out, "lake", "**", "*.parquet"), select);
    // Every row lands in its partition, values unchanged (the partition column comes back from the path).
    expect(lake).toHaveLength(4);
    expect(sorted(lake)).toEqual(sorted(await queryParquet(cleanPath, select)));
    expect(await queryParquet(join(out, "load_trips.parquet"), "count(*)::INTEGER AS n")).toEqual([{ n: 6 }]);
    await executor.endRun(runId);
  });
});

describe("SQL blocks", () => {
  test("TS loader → SQL → SQL → TS exporter keeps values (nulls, instants to the microsecond, int64, dates)", async () => {
    const runId = newRunId();
    const loaded = await runBlock(makeRequest(runId, LOADER));
    const variables = { min_distance: 1 };
    const clean = await runBlock(makeRequest(runId, spec("clean_trips", "transformer", "sql", ["load_trips"]), { inputs: [inputOf("load_trips", loaded)], variables }));
    expect(clean.output?.ref.format).toBe("parquet");
    expect(clean.output?.summary.rows).toBe(4);
    expect(clean.ipc).toBeUndefined();

    // SQL → SQL stays inside DuckDB: the downstream block must not need clean_trips' file.
    const cleanOutput = clean.output;
    if (cleanOutput === null) throw new Error("no output");
    const parked = `${cleanOutput.ref.path}.parked`;
    writeFileSync(parked, readFileSync(cleanOutput.ref.path));
    rmSync(cleanOutput.ref.path);
    const sorted = await runBlock(makeRequest(runId, spec("trips_by_pickup", "transformer", "sql", ["clean_trips"]), { inputs: [inputOf("clean_trips", clean)], variables }));
    writeFileSync(cleanOutput.ref.path, readFileSync(parked));
    const sortedOutput = sorted.output;
    if (sortedOutput === null) throw new Error("no output");
    expect(sortedOutput.summary.rows).toBe(4);
    expect(sortedOutput.summary.columns.map((c) => [c.name, c.type, c.nulls])).toEqual([
      ["vendor_id", "Int32", 1],
      ["pickup", "Timestamp<MICROSECOND>", 1],
      ["store_and_fwd_flag", "Utf8", 1],
      ["passenger_count", "Int64", 0],
      ["trip_distance", "Float64", 1],
      ["pickup_date", "Date32<DAY>", 1],
      ["is_cash", "Bool", 1],
      ["zone", "Utf8", 1],
      ["double_distance", "Float64", 1],
    ]);
    expect(sortedOutput.summary.columns.find((c) => c.name === "pickup")).toMatchObject({ min: "1969-12-31T23:59:59.000Z", max: "2020-10-02T23:59:59.999Z" });
    expect(sortedOutput.summary.columns.find((c) => c.name === "passenger_count")).toMatchObject({ max: "9007199254740993" });

    const exact = await queryParquet(
      sortedOutput.ref.path,
      "vendor_id, epoch_us(pickup)::VARCHAR AS pickup_us, store_and_fwd_flag, passenger_count::VARCHAR AS passengers, trip_distance, strftime(pickup_date, '%Y-%m-%d') AS day, is_cash, zone, double_distance",
    );
    expect(exact).toEqual([
      { vendor_id: 1, pickup_us: "-1000000", store_and_fwd_flag: "N", passengers: "9007199254740993", trip_distance: 10, day: "1969-12-31", is_cash: false, zone: "JFK Airport — Terminal 4", double_distance: 20 },
      { vendor_id: 1, pickup_us: "1601511330123456", store_and_fwd_flag: "N", passengers: "1", trip_distance: 1.5, day: "2020-10-01", is_cash: true, zone: "East Harlem North", double_distance: 3 },
      { vendor_id: null, pickup_us: "1601683199999999", store_and_fwd_flag: null, passengers: "2", trip_distance: null, day: "2020-10-02", is_cash: null, zone: null, double_distance: null },
      { vendor_id: 2, pickup_us: null, store_and_fwd_flag: "Y", passengers: "3", trip_distance: 3.25, day: null, is_cash: true, zone: "Central Park", double_distance: 6.5 },
    ]);

    const outFile = join(tmp, `sql-chain-${runId}.json`);
    await runBlock(makeRequest(runId, spec("save_json", "exporter", "ts", ["trips_by_pickup"]), { inputs: [inputOf("trips_by_pickup", sorted)], variables: { out_file: outFile } }));
    const written = JSON.parse(readFileSync(outFile, "utf8")) as { types: Record<string, string>; rows: Record<string, unknown>[] };
    expect(written.types).toMatchObject({ vendor_id: "Int32", pickup: "Timestamp<MICROSECOND>", passenger_count: "Int64", pickup_date: "Date32<DAY>", is_cash: "Bool" });
    expect(written.rows.map((r) => [r.vendor_id, r.passenger_count, r.zone, r.trip_distance])).toEqual([
      [1, "9007199254740993", "JFK Airport — Terminal 4", 10],
      [1, "1", "East Harlem North", 1.5],
      [null, "2", null, null],
      [2, "3", "Central Park", 3.25],
    ]);
    expect(written.rows[1].pickup).toBeCloseTo(1601511330123.456, 3);
    expect(written.rows[3].pickup).toBeNull();
    await executor.endRun(runId);
  });

  test("templated variables are bound as parameters: an injection attempt stays a literal", async () => {
    const runId = newRunId();
    const loaded = await runBlock(makeRequest(runId, LOADER));
    const name = "x' AS name; DROP TABLE load_trips; --";
    const greet = await runBlock(makeRequest(runId, spec("greet", "transformer", "sql", ["load_trips"]), { inputs: [inputOf("load_trips", loaded)], variables: { name, limit: 5 } }));
    const path = greet.output?.ref.path ?? "";
    const rows = await queryParquet(path, "name, lim, epoch_ms(logical_date) AS ld, run_id, upstream_rows");
    expect(rows).toEqual([{ name, lim: 5, ld: BigInt(Date.parse("2020-10-01T00:00:00.000Z")), run_id: runId, upstream_rows: 6n }]);
    const stillThere = await executor.queryRun(runId, "SELECT count(*)::INTEGER AS n FROM load_trips");
    expect(stillThere.getChild("n")?.get(0)).toBe(6);
    await executor.endRun(runId);
  });

  test("a SQL syntax error is a UserError with DuckDB's message, prefixed by block and file", async () => {
    const runId = newRunId();
    const loaded = await runBlock(makeRequest(runId, LOADER));
    const error = await expectError(runBlock(makeRequest(runId, spec("broken", "transformer", "sql", ["load_trips"]), { inputs: [inputOf("load_trips", loaded)] })));
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toMatch(/^block broken \(taxi\/broken\.sql\): Parser Error: syntax error at or near "SELEC"/);
    await executor.endRun(runId);
  });

  test("more than one statement is refused before running", async () => {
    const error = await expectError(runBlock(makeRequest(newRunId(), spec("two_statements", "transformer", "sql"))));
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toContain("has 2 statements");
  });

  test("an unknown template variable names the file and line", async () => {
    const error = await expectError(runBlock(makeRequest(newRunId(), spec("clean_trips", "transformer", "sql", ["load_trips"]), { variables: {} })));
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toContain("taxi/clean_trips.sql:1:");
  });

  test("a long query is interrupted at its timeout and on cancel", async () => {
    const timeout = await expectError(runBlock(makeRequest(newRunId(), spec("slow", "transformer", "sql"), { timeoutMs: 500 })));
    expect(timeout).toBeInstanceOf(OperationalError);
    expect(timeout.message).toBe("block slow timed out after 500ms");

    const controller = new AbortController();
    const running = runBlock(makeRequest(newRunId(), spec("slow", "transformer", "sql"), { signal: controller.signal }));
    setTimeout(() => controller.abort(), 300);
    const cancelled = await expectError(running);
    expect(cancelled).toBeInstanceOf(UserError);
    expect(cancelled instanceof UserError && cancelled.code).toBe("cancelled");
  });

  test("upstreams from an earlier run: a persisted Parquet output becomes a view, a persisted Arrow output is loaded", async () => {
    const earlier = newRunId();
    const loaded = await runBlock(makeRequest(earlier, LOADER));
    const clean = await runBlock(makeRequest(earlier, spec("clean_trips", "transformer", "sql", ["load_trips"]), { inputs: [inputOf("load_trips", loaded)], variables: { min_distance: 1 } }));
    await executor.endRun(earlier);
    if (loaded.output === null || clean.output === null) throw new Error("no output");

    const later = newRunId();
    const sorted = await runBlock(makeRequest(later, spec("trips_by_pickup", "transformer", "sql", ["clean_trips"]), { inputs: [{ name: "clean_trips", output: clean.output }] }));
    expect(sorted.output?.summary.rows).toBe(4);
    const greet = await runBlock(
      makeRequest(later, spec("greet", "transformer", "sql", ["load_trips"]), { inputs: [{ name: "load_trips", output: loaded.output }], variables: { name: "n", limit: 1 } }),
    );
    expect(greet.output?.summary.columns.find((c) => c.name === "upstream_rows")).toMatchObject({ min: 6, max: 6 });
    const kinds = await executor.queryRun(later, "SELECT table_name, table_type FROM information_schema.tables WHERE table_name IN ('clean_trips', 'load_trips') ORDER BY 1");
    expect(kinds.toArray().map((row) => [row.table_name, row.table_type])).toEqual([
      ["clean_trips", "VIEW"],
      ["load_trips", "BASE TABLE"],
    ]);
    await executor.endRun(later);
  });

  test("endRun closes the run database and removes its temp folder", async () => {
    const runId = newRunId();
    const loaded = await runBlock(makeRequest(runId, LOADER));
    await runBlock(makeRequest(runId, spec("clean_trips", "transformer", "sql", ["load_trips"]), { inputs: [inputOf("load_trips", loaded)], variables: { min_distance: 0 } }));
    const folder = join(tmp, "cache", "duckdb", `run-${runId}`);
    expect(existsSync(folder)).toBe(true);
    await executor.endRun(runId);
    expect(existsSync(folder)).toBe(false);
  });
});
