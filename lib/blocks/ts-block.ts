/**
 * Runs a TypeScript block (`<name>.ts`) on the pool of block processes, from the server's side: compile
 * (cached), hand the process its inputs as the files the output store persisted, answer its `ctx.sql` calls
 * with the run's DuckDB database, and persist what it returned through the output store.
 */
import { randomUUID } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { messageOf } from "../core/errors";
import { blockFileName } from "../core/model";
import type { BlockInput, BlockRunRequest, BlockRunResult } from "../core/execution";
import type { SqlParam } from "../sdk";
import { compileBlock } from "./compile-block";
import { runWithParams } from "../arrow/duckdb-params";
import { copyQueryToParquet, duckdbToSharedIPC } from "../arrow/duckdb-to-arrow";
import { verifyFileReads } from "../io/sql-file-reads";
import type { RunDatabases } from "./run-database";
import type { WorkerPool } from "./worker-pool";
import type { RunBlockJob, SqlAnswer, WorkerInput } from "./worker-protocol";

/** What runTsBlock needs from the executor: its pool, the run databases (for ctx.sql), the cache folder. */
export interface TsBlockDeps {
  pool: WorkerPool;
  databases: RunDatabases;
  cacheDir: string;
  io: RunBlockJob["io"];
}

/**
 * Every upstream goes as its persisted file, even one still in memory here: memory cannot be shared with
 * another process without a copy, and the file is already written (the page cache usually still holds it).
 */
function toWorkerInput(input: BlockInput): WorkerInput {
  return { name: input.name, path: input.output.ref.path, format: input.output.ref.format };
}

/**
 * `ctx.sql` in the server: load the block's upstreams into the run database if needed, then hand the result
 * over as IPC bytes built from DuckDB's chunks (the pool passes them on inline or through a file); for
 * result types that path does not convert, COPY it to a Parquet file the block process decodes (and
 * deletes). When the job ends first (timeout, cancel, memory limit), the query is interrupted and any file removed.
 */
async function answerSql(
  request: BlockRunRequest,
  deps: TsBlockDeps,
  query: string,
  params: SqlParam[],
  jobEnded: AbortSignal,
  handedOut: Set<string>,
): Promise<SqlAnswer> {
  const db = await deps.databases.get(request.runId);
  await db.ensureInputs(request.inputs);
  const dir = join(deps.cacheDir, "tmp");
  const path = join(dir, `sql-${randomUUID()}.parquet`);
  const connection = await db.connect();
  const onEnd = (): void => connection.interrupt();
  jobEnded.addEventListener("abort", onEnd, { once: true });
  try {
    if (jobEnded.aborted) throw new Error("the block ended");
    // The files a query reads are checked first, as for SQL blocks: DuckDB alone loads half of a truncated
    // `.csv.gz` and turns a ragged CSV into one text column, both as success.
    await verifyFileReads(connection, query, params, (message) => request.onLog({ at: new Date().toISOString(), level: "warn", message }));
    let rowQuery = query;
    let rowParams: readonly unknown[] = params;
    if (!isRowQuery(query)) {
      // COPY … TO, CREATE, INSERT…: run as is; the block gets one row saying how many rows it changed.
      const result = await runWithParams(connection, query, params);
      rowQuery = `SELECT ${Number(result.rowsChanged)}::BIGINT AS rows_changed`;
      rowParams = [];
    }
    const ipc = await duckdbToSharedIPC(connection, rowQuery, rowParams);
    if (jobEnded.aborted) throw new Error("the block ended");
    if (ipc !== null) return { ipc };
    await mkdir(dir, { recursive: true });
    handedOut.add(path);
    await copyQueryToParquet(connection, rowQuery, rowParams, path);
    if (jobEnded.aborted) throw new Error("the block ended");
    return { path };
  } catch (error) {
    await rm(path, { force: true });
    throw new Error(`block ${request.block.name} ctx.sql: ${messageOf(error)}`, { cause: error });
  } finally {
    jobEnded.removeEventListener("abort", onEnd);
    db.release(connection);
  }
}

/** Whether a statement returns rows (and so can be wrapped in `COPY (…) TO`), judged by its first keyword. */
function isRowQuery(query: string): boolean {
  const first = query
    .replace(/^(\s|--[^\n]*\n|\/\*[\s\S]*?\*\/)*/, "")
    .match(/^\(|^[A-Za-z]+/)?.[0]
    ?.toUpperCase();
  return first === undefined || ["(", "SELECT", "WITH", "FROM", "VALUES", "TABLE", "SUMMARIZE", "DESCRIBE", "SHOW", "PIVOT", "UNPIVOT"].includes(first);
}

/** Runs one TypeScript block run on the pool and persists its output; see the file comment. */
export async function runTsBlock(request: BlockRunRequest, deps: TsBlockDeps): Promise<BlockRunResult> {
  const { block } = request;
  const blockFile = join(request.pipelineDir, blockFileName(block));
  const compiledFile = await compileBlock(blockFile, { cacheDir: deps.cacheDir, displayRoot: request.projectDir, block: block.name });
  // The block process deletes each ctx.sql file after reading it; these are removed again in case it was killed first.
  const handedOut = new Set<string>();
  const running = deps.pool.run(
    {
      kind: "run-block",
      compiledFile,
      blockFile,
      runId: request.runId,
      pipeline: request.pipelineName,
      block: block.name,
      blockType: block.type,
      attempt: request.attempt,
      logicalDate: request.logicalDate,
      dataInterval: request.dataInterval,
      variables: request.variables,
      // SQL upstreams go as their Parquet files, decoded in the block process: converting them from DuckDB
      // chunks in the server measured no faster (bench handoff) and would stall the server while it ran.
      inputs: request.inputs.map(toWorkerInput),
      ...(request.item !== undefined ? { item: request.item } : {}),
      io: deps.io,
    },
    {
      block: block.name,
      blockFile,
      onLog: request.onLog,
      onProgress: request.onProgress,
      onSql: (query, params, jobEnded) => answerSql(request, deps, query, params, jobEnded, handedOut),
      ...(request.findRun ? { onRuns: request.findRun } : {}),
    },
    { signal: request.signal, timeoutMs: request.timeoutMs, memoryBytes: block.memoryBytes },
  );
  const result = await running.finally(() => Promise.all([...handedOut].map((path) => rm(path, { force: true }))));
  const feedback = { ...(result.feedback?.writes?.length ? { writes: result.feedback.writes } : {}), ...(result.feedback?.tests ? { tests: result.feedback.tests } : {}) };
  switch (result.kind) {
    case "table": {
      const output = await request.outputs.writeArrow(request.runId, block.name, result.ipc);
      return { output, ipc: result.ipc, ...feedback };
    }
    case "sensor":
      return { output: null, sensorResult: result.value, ...feedback };
    case "none":
      return { output: null, ...feedback };
  }
}
