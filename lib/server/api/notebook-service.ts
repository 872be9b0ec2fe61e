/**
 * The notebook as last run: what the editor shows when a pipeline opens, so that a reload keeps every
 * block's state, rows, tests, writes and preview. Each block's newest block run may come from a different
 * run (a block run alone, a pipeline run, a scheduled run), and its preview from an older one still.
 */
import type { InputOf, ResponseOf } from "@/lib/core/api-contract";
import { getServices } from "../global-services";
import { blockRunJson } from "./runs-service";

/** GET /api/pipelines/:p/latest-block-runs → {blocks, outputs}. A pipeline that never ran answers empty lists. */
export async function latestBlockRuns({ params }: InputOf<"latestBlockRuns">): Promise<ResponseOf<"latestBlockRuns">> {
  const { latest, withOutput } = await getServices().runs.latestBlockRuns(params.p);
  return {
    blocks: latest.map(({ run, blockRun }) => ({
      ...blockRunJson(blockRun),
      run: { id: run.id, state: run.state, mode: run.mode, block: run.block, trigger: run.trigger, created_at: run.createdAt },
    })),
    outputs: withOutput.map(({ run, blockRun }) => ({ block: blockRun.block, run_id: run.id, ended_at: blockRun.endedAt, rows: blockRun.rows })),
  };
}
