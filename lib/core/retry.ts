/**
 * When a failed block is tried again (`retries: { count, delay, backoff, max_delay }` in pipeline.yaml).
 * Pure arithmetic on the policy, so the runner, the queue workers and the runs page (which shows
 * "next attempt in …") agree.
 */
import { assertNever } from "./assert-never";
import { UnexpectedError } from "./errors";
import type { RetryPolicy } from "./model";

/**
 * Milliseconds to wait before retry number `attempt` (1 = the first retry, i.e. the second attempt).
 * `constant`: always `delayMs`; `exponential`: `delayMs × 2^(attempt−1)`. Both capped at `maxDelayMs`
 * so that a long retry series never waits for hours.
 *
 * @throws UnexpectedError when `attempt` is not a whole number ≥ 1 (a caller bug).
 */
export function retryDelayMs(policy: RetryPolicy, attempt: number): number {
  if (!Number.isSafeInteger(attempt) || attempt < 1) {
    throw new UnexpectedError("invalid_argument", `retry attempt must be a whole number ≥ 1, got ${attempt}`);
  }
  const cap = Math.max(0, policy.maxDelayMs);
  switch (policy.backoff) {
    case "constant":
      return Math.min(policy.delayMs, cap);
    case "exponential":
      // 2^(attempt−1) overflows to Infinity for large attempts; min() then returns the cap.
      return Math.min(policy.delayMs * 2 ** (attempt - 1), cap);
    default:
      return assertNever(policy.backoff, "retry backoff");
  }
}

/**
 * How many more attempts the policy allows after `attemptsMade` attempts (the first one included):
 * the `attemptsLeft` of a `fail` event.
 */
export function attemptsLeft(policy: RetryPolicy, attemptsMade: number): number {
  return Math.max(0, policy.count + 1 - attemptsMade);
}
