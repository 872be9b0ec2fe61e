import type { BlockRunRequest, BlockRunResult } from "../core/execution";

// The execution contract lives in lib/core so that the block runtime and the stores need not import executors.
export type { BlockInput, BlockRunRequest, BlockRunResult, LogLine, Progress } from "../core/execution";

/** Where a block runs: the local worker pool, or a queue of remote workers. */
export interface BlockExecutor {
  execute(request: BlockRunRequest): Promise<BlockRunResult>;
  close(): Promise<void>;
}

/** Runs-scoped resources (e.g. the run's DuckDB database that keeps SQL → SQL chains inside DuckDB). */
export interface RunScopedExecutor extends BlockExecutor {
  /** Called once when a run ends, whatever its state: frees what the run held. */
  endRun(runId: string): Promise<void>;
  /**
   * Gets ready for blocks soon to come (the local executor starts its block processes) without waiting:
   * called when runs are about to start, so the first block does not wait for processes to boot.
   */
  warm?(): void;
}
