/**
 * Runs a TypeScript block (`<name>.ts`) on the worker pool, from the main thread's side: compile (cached),
 * hand the worker its inputs as shared IPC bytes or file paths, answer its `ctx.sql` calls with the run's
 * DuckDB database, and persist what it returned through the output store.
 */
import { randomUUID } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { blockFileName } from "../core/model";
import type { BlockInput, BlockRunRequest, BlockRunResult } from "../executors/types";
import type { SqlParam } from "../sdk";
import { errorMessage } from "./block-errors";
import { compileBlock } from "./compile-block";
import { runWithParams } from "./duckdb-params";
import { copyQueryToParquet, duckdbToSharedIPC } from "./duckdb-to-arrow";
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

function toWorkerInput(input: BlockInput): WorkerInput {
  if (input.ipc !== undefined) return { name: input.name, ipc: input.ipc };
  return { name: input.name, path: input.output.ref.path, format: input.output.ref.format };
}

/**
 * `ctx.sql` on the main thread: load the block's upstreams into the run database if needed, then hand the
 * result over as shared IPC bytes built from DuckDB's chunks; for result types that path does not convert,
 * COPY it to a Parquet file the worker decodes (and deletes). When the job ends first (timeout, cancel), the
 * query is interrupted and any file removed.
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
    throw new Error(`block ${request.block.name} ctx.sql: ${errorMessage(error)}`, { cause: error });
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
  // The worker deletes each ctx.sql file after reading it; these are removed again in case it was killed first.
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
      // SQL upstreams go as their Parquet files, decoded in the worker: converting them from DuckDB chunks on
      // the main thread measured no faster (bench handoff) and would stall the server while it ran.
      inputs: request.inputs.map(toWorkerInput),
      io: deps.io,
    },
    {
      block: block.name,
      blockFile,
      onLog: request.onLog,
      onProgress: request.onProgress,
      onSql: (query, params, jobEnded) => answerSql(request, deps, query, params, jobEnded, handedOut),
    },
    { signal: request.signal, timeoutMs: request.timeoutMs },
  );
  const result = await running.finally(() => Promise.all([...handedOut].map((path) => rm(path, { force: true }))));
  switch (result.kind) {
    case "table": {
      const output = await request.outputs.writeArrow(request.runId, block.name, result.ipc);
      return { output, ipc: result.ipc };
    }
    case "sensor":
      return { output: null, sensorResult: result.value };
    case "none":
      return { output: null };
  }
}
