/**
 * Runs a TypeScript block (`<name>.ts`) on the worker pool, from the main thread's side: compile (cached),
 * hand the worker its inputs as shared IPC bytes or file paths, answer its `ctx.sql` calls with the run's
 * DuckDB database, and persist what it returned through the output store.
 */
import { randomUUID } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { blockFileName } from "../core/model";
import type { BlockInput, BlockRunRequest, BlockRunResult } from "../executors/types";
import type { SqlParam } from "../sdk";
import { compileBlock } from "./compile-block";
import { copyQueryToParquet } from "./duckdb-to-arrow";
import type { RunDatabases } from "./run-database";
import type { WorkerPool } from "./worker-pool";
import type { WorkerInput } from "./worker-protocol";

export interface TsBlockDeps {
  pool: WorkerPool;
  databases: RunDatabases;
  cacheDir: string;
}

function toWorkerInput(input: BlockInput): WorkerInput {
  if (input.ipc !== undefined) return { name: input.name, ipc: input.ipc };
  return { name: input.name, path: input.output.ref.path, format: input.output.ref.format };
}

/**
 * `ctx.sql` on the main thread: load the block's upstreams into the run database if needed, COPY the
 * query's result to a Parquet file the worker decodes (and deletes).
 */
async function answerSql(request: BlockRunRequest, deps: TsBlockDeps, query: string, params: SqlParam[]): Promise<string> {
  const db = await deps.databases.get(request.runId);
  await db.ensureInputs(request.inputs);
  const dir = join(deps.cacheDir, "tmp");
  await mkdir(dir, { recursive: true });
  const path = join(dir, `sql-${randomUUID()}.parquet`);
  const connection = await db.connect();
  const onAbort = (): void => connection.interrupt();
  request.signal.addEventListener("abort", onAbort, { once: true });
  try {
    await copyQueryToParquet(connection, query, params, path);
    return path;
  } catch (error) {
    throw new Error(`block ${request.block.name} ctx.sql: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  } finally {
    request.signal.removeEventListener("abort", onAbort);
    db.release(connection);
  }
}

export async function runTsBlock(request: BlockRunRequest, deps: TsBlockDeps): Promise<BlockRunResult> {
  const { block } = request;
  const blockFile = join(request.pipelineDir, blockFileName(block));
  const compiledFile = await compileBlock(blockFile, { cacheDir: deps.cacheDir, displayRoot: request.projectDir, block: block.name });
  const result = await deps.pool.run(
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
      inputs: request.inputs.map(toWorkerInput),
    },
    {
      block: block.name,
      blockFile,
      onLog: request.onLog,
      onProgress: request.onProgress,
      onSql: (query, params) => answerSql(request, deps, query, params),
    },
    { signal: request.signal, timeoutMs: request.timeoutMs },
  );
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
