import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { tableToIPC } from "apache-arrow";
import { DuckDBInstance } from "@duckdb/node-api";
import { createServices } from "../lib/server/services";
import { mb, ms, rssSampler, type BenchRow } from "./report";

const ROWS = 1_000_000;

/** 1M rows × 20 columns (8 int32, 6 float64, 3 utf8, 2 timestamps, 1 bool), deterministic. */
const GENERATOR = `import { tableFromArrays, vectorFromArray, makeTable, Table, TimestampMicrosecond, Utf8, Bool } from "apache-arrow";
export default async function load(ctx) {
  const n = ${ROWS};
  const columns = {};
  for (let c = 0; c < 8; c++) columns["i" + c] = Int32Array.from({ length: n }, (_, i) => (i * (c + 7)) % 100003);
  for (let c = 0; c < 6; c++) columns["f" + c] = Float64Array.from({ length: n }, (_, i) => (i % 9973) * (c + 0.25));
  const base = tableFromArrays(columns);
  const words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"];
  const extra = {
    s0: vectorFromArray(Array.from({ length: n }, (_, i) => words[i % 7]), new Utf8()),
    s1: vectorFromArray(Array.from({ length: n }, (_, i) => "zone-" + (i % 263)), new Utf8()),
    s2: vectorFromArray(Array.from({ length: n }, (_, i) => (i % 11 === 0 ? null : "v" + i)), new Utf8()),
    t0: vectorFromArray(Array.from({ length: n }, (_, i) => 1601510400000 + i * 1000), new TimestampMicrosecond()),
    t1: vectorFromArray(Array.from({ length: n }, (_, i) => 1601510400000 + i * 1500), new TimestampMicrosecond()),
    b0: vectorFromArray(Array.from({ length: n }, (_, i) => i % 3 === 0), new Bool()),
  };
  return new Table({ ...Object.fromEntries(base.schema.fields.map((f) => [f.name, base.getChild(f.name)])), ...extra });
}`;

const PIPELINE = `version: 1
name: handoff
description: 1M × 20 hand-offs
blocks:
  - { name: gen, type: loader, language: ts, upstream: [] }
  - { name: ts_reader, type: exporter, language: ts, upstream: [gen] }
  - { name: sql_over_arrow, type: transformer, language: sql, upstream: [gen] }
  - { name: sql_copy, type: transformer, language: sql, upstream: [gen] }
  - { name: ts_over_sql, type: exporter, language: ts, upstream: [sql_copy] }
`;

const AGGREGATE = "SELECT i0 % 100 AS k, count(*) AS n, sum(f0) AS s, max(t0) AS t, count(DISTINCT s0) AS d FROM {src} GROUP BY k";

/**
 * Arrow hand-offs between blocks on 1M rows × 20 columns: TS → TS, TS → SQL, SQL → TS, with peak RSS.
 * Baselines from the same run: DuckDB reading the same data from Parquet natively.
 */
export async function benchHandoff(): Promise<BenchRow[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-bench-handoff-"));
  const pipelineDir = path.join(dir, "pipelines", "handoff");
  fs.mkdirSync(pipelineDir, { recursive: true });
  fs.writeFileSync(path.join(pipelineDir, "pipeline.yaml"), PIPELINE);
  fs.writeFileSync(path.join(pipelineDir, "gen.ts"), GENERATOR);
  fs.writeFileSync(path.join(pipelineDir, "ts_reader.ts"), `export default async function s(input, ctx) { let x = 0; const col = input.getChild("f0"); for (let i = 0; i < input.numRows; i += 1000) x += col.get(i); ctx.log.info(String(x)); }`);
  fs.writeFileSync(path.join(pipelineDir, "sql_over_arrow.sql"), AGGREGATE.replace("{src}", "gen"));
  fs.writeFileSync(path.join(pipelineDir, "sql_copy.sql"), "SELECT * FROM gen");
  fs.writeFileSync(path.join(pipelineDir, "ts_over_sql.ts"), `export default async function s(input, ctx) { ctx.log.info(String(input.numRows)); }`);
  const services = await createServices({ projectDir: dir, maxParallelBlocks: 1 });
  try {
    await services.runner.run({ pipeline: "handoff" }); // warm-up: compile caches
    const rssBefore = process.memoryUsage.rss();
    const rss = rssSampler();
    const outcome = await services.runner.run({ pipeline: "handoff" });
    const peak = rss.stop();
    if (outcome.state !== "success") throw new Error(`handoff run ${outcome.state}: ${JSON.stringify(outcome.blocks.map((b) => b.error))}`);
    const duration = (name: string) => outcome.blocks.find((b) => b.name === name)?.durationMs ?? NaN;

    const genOutput = await services.outputs.read(outcome.runId, "gen");
    if (!genOutput) throw new Error("gen output missing");
    const table = await services.outputs.readArrowTable(genOutput.ref);
    const ipc = tableToIPC(table, "file");
    const arrowBytes = ipc.byteLength;
    const writeStart = performance.now();
    await services.outputs.writeArrow("bench-write", "gen", ipc);
    const writeMs = performance.now() - writeStart;

    // Baseline: DuckDB natively on the same data as Parquet.
    const parquet = path.join(dir, "same.parquet");
    const instance = await DuckDBInstance.create(":memory:");
    const connection = await instance.connect();
    const sqlCopy = await services.outputs.read(outcome.runId, "sql_copy");
    await connection.run(`COPY (SELECT * FROM read_parquet('${sqlCopy!.ref.path}')) TO '${parquet}' (FORMAT parquet)`);
    let started = performance.now();
    await connection.run(`CREATE TABLE agg AS ${AGGREGATE.replace("{src}", `read_parquet('${parquet}')`)}`);
    const nativeAggregate = performance.now() - started;
    started = performance.now();
    await connection.run(`CREATE TABLE copy AS SELECT * FROM read_parquet('${parquet}')`);
    const nativeCopy = performance.now() - started;
    connection.closeSync();

    const bench = "1M rows × 20 cols";
    return [
      { bench, metric: "Arrow size of the table (IPC)", value: mb(arrowBytes), baseline: "", target: "" },
      { bench, metric: "TS → TS: downstream block (reads input)", value: ms(duration("ts_reader")), baseline: "", target: "no copy (≈ 0 ms)" },
      { bench, metric: "persist Arrow output", value: `${((arrowBytes / 1024 / 1024) / (writeMs / 1000)).toFixed(0)} MB/s`, baseline: "", target: "≥ 500 MB/s" },
      { bench, metric: "TS → SQL: aggregate block over Arrow upstream", value: ms(duration("sql_over_arrow")), baseline: `${ms(nativeAggregate)} (DuckDB on Parquet)`, target: "≤ 2× baseline" },
      { bench, metric: "TS → SQL: SELECT * block (load + persist)", value: ms(duration("sql_copy")), baseline: `${ms(nativeCopy)} (CTAS from Parquet)`, target: "≤ 2× baseline" },
      { bench, metric: "SQL → TS: block reading a SQL output", value: ms(duration("ts_over_sql")), baseline: `${ms(nativeCopy)} (CTAS from Parquet)`, target: "≤ 2× baseline" },
      { bench, metric: "loader (generate + hand back)", value: ms(duration("gen")), baseline: "", target: "" },
      { bench, metric: "peak RSS growth during the run (process total)", value: `${mb(peak - rssBefore)} (${mb(peak)})`, baseline: `${mb(arrowBytes)} (table)`, target: "≤ 2× table" },
    ];
  } finally {
    await services.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
