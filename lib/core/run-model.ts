/** Run and block-run states (Airflow's, with the same names). The transitions live in `run-state.ts`. */

export const RUN_STATES = ["queued", "running", "success", "failed", "cancelled"] as const;
export type RunState = (typeof RUN_STATES)[number];

export const BLOCK_RUN_STATES = [
  "pending",
  "queued",
  "running",
  "success",
  "failed",
  "up_for_retry",
  "skipped",
  "upstream_failed",
  "cancelled",
] as const;
export type BlockRunState = (typeof BLOCK_RUN_STATES)[number];

export const TERMINAL_RUN_STATES: readonly RunState[] = ["success", "failed", "cancelled"];
export const TERMINAL_BLOCK_RUN_STATES: readonly BlockRunState[] = ["success", "failed", "skipped", "upstream_failed", "cancelled"];

export function isTerminalRunState(state: RunState): boolean {
  return TERMINAL_RUN_STATES.includes(state);
}

export function isTerminalBlockRunState(state: BlockRunState): boolean {
  return TERMINAL_BLOCK_RUN_STATES.includes(state);
}
