/**
 * The run state machines, as pure functions. Every writer of run or block-run state (the
 * runner, the queue workers, the orphan sweeper, the cancel and retry endpoints) computes the next
 * state here, so an illegal move (success → running, a cancelled block starting) is a loud bug instead
 * of a silently corrupted run.
 *
 * Block run:
 * ```
 * pending ──queue──► queued ──start──► running ──succeed──► success
 *    │                 │                 │
 *    │                 │                 ├──fail (retryable, attempts left)──► up_for_retry ──retry_due──► queued
 *    │                 └──fail───────────┴──fail (otherwise)──► failed
 *    ├──upstream_failed──► upstream_failed
 *    └──skip (also from queued, running)──► skipped
 * cancel: pending | queued | running | up_for_retry → cancelled
 * clear:  any terminal state → pending (re-run inside the same run: "retry from here")
 * ```
 * A `mode: reschedule` sensor between pokes stays `running` (its attempt goes on, timeout included) while the
 * runner gives its parallel slot to other blocks: a separate state would add moves to every writer and to the
 * UI for what is, to the user, one sensor still waiting.
 *
 * Pipeline run: `queued ──start──► running ──succeed | fail | cancel──► success | failed | cancelled`
 * (fail and cancel also from queued; retry: terminal → queued).
 */
import { assertNever } from "./assert-never";
import { isRetryable, UnexpectedError } from "./errors";
import { isTerminalBlockRunState, type BlockRunState, type RunState } from "./run-model";

/** Something that happened to a block run. */
export type BlockRunEvent =
  /** Its upstreams succeeded (or were cached) and it was handed to an executor. */
  | { type: "queue" }
  /** A worker picked it up; the attempt number increments here. */
  | { type: "start" }
  | { type: "succeed" }
  /**
   * The attempt failed (or its worker died). `retryable` is the error's verdict (`isRetryable`) and
   * `attemptsLeft` the retries the block's policy still allows; both must hold to retry.
   */
  | { type: "fail"; retryable: boolean; attemptsLeft: number }
  /** The retry delay of an `up_for_retry` block has passed. */
  | { type: "retry_due" }
  /** Not to run: a sensor returned false, or an upstream was skipped. */
  | { type: "skip" }
  /** An upstream failed, so this block will not run. */
  | { type: "upstream_failed" }
  | { type: "cancel" }
  /** Reset a finished block so that it runs again within the same run. */
  | { type: "clear" };

/** The event names alone, e.g. for logs and metrics labels. */
export type BlockRunEventType = BlockRunEvent["type"];

/** Something that happened to a pipeline run. */
export type RunEvent = { type: "start" } | { type: "succeed" } | { type: "fail" } | { type: "cancel" } | { type: "retry" };

/** The event names alone, e.g. for logs and metrics labels. */
export type RunEventType = RunEvent["type"];

/** A run that has ended. */
export type TerminalRunState = Extract<RunState, "success" | "failed" | "cancelled">;

/**
 * The next state of a block run.
 *
 * @throws UnexpectedError code `illegal_transition` naming state and event when the event cannot
 *   happen in that state (a caller bug: check with `canTransitionBlockRun` when the event may race,
 *   e.g. a cancel arriving as the block finishes).
 */
export function transitionBlockRun(current: BlockRunState, event: BlockRunEvent): BlockRunState {
  const next = nextBlockRunState(current, event);
  if (next === null) {
    throw new UnexpectedError("illegal_transition", `block run cannot go from "${current}" on event "${event.type}"`);
  }
  return next;
}

/** Whether `transitionBlockRun(current, event)` would succeed. */
export function canTransitionBlockRun(current: BlockRunState, event: BlockRunEvent): boolean {
  return nextBlockRunState(current, event) !== null;
}

function nextBlockRunState(current: BlockRunState, event: BlockRunEvent): BlockRunState | null {
  switch (event.type) {
    case "queue":
      return current === "pending" ? "queued" : null;
    case "start":
      return current === "queued" ? "running" : null;
    case "succeed":
      return current === "running" ? "success" : null;
    case "fail":
      if (!Number.isSafeInteger(event.attemptsLeft) || event.attemptsLeft < 0) {
        throw new UnexpectedError("invalid_event", `fail event with attemptsLeft ${event.attemptsLeft}; expected a whole number ≥ 0`);
      }
      if (current !== "running" && current !== "queued") return null;
      return event.retryable && event.attemptsLeft > 0 ? "up_for_retry" : "failed";
    case "retry_due":
      return current === "up_for_retry" ? "queued" : null;
    case "skip":
      return current === "pending" || current === "queued" || current === "running" ? "skipped" : null;
    case "upstream_failed":
      return current === "pending" ? "upstream_failed" : null;
    case "cancel":
      return isTerminalBlockRunState(current) ? null : "cancelled";
    case "clear":
      return isTerminalBlockRunState(current) ? "pending" : null;
    default:
      return assertNever(event, "block run event");
  }
}

/**
 * The `fail` event for an error thrown by an attempt: the one place where the error kind
 * decides between retry and failure. User errors never retry; operational errors and plain errors from
 * block code retry while the policy allows.
 */
export function blockFailEvent(error: unknown, attemptsLeft: number): Extract<BlockRunEvent, { type: "fail" }> {
  return { type: "fail", retryable: isRetryable(error), attemptsLeft: Math.max(0, attemptsLeft) };
}

/**
 * The next state of a pipeline run.
 *
 * @throws UnexpectedError code `illegal_transition` naming state and event.
 */
export function transitionRun(current: RunState, event: RunEvent): RunState {
  const next = nextRunState(current, event);
  if (next === null) throw new UnexpectedError("illegal_transition", `run cannot go from "${current}" on event "${event.type}"`);
  return next;
}

/** Whether `transitionRun(current, event)` would succeed. */
export function canTransitionRun(current: RunState, event: RunEvent): boolean {
  return nextRunState(current, event) !== null;
}

function nextRunState(current: RunState, event: RunEvent): RunState | null {
  const active = current === "queued" || current === "running";
  switch (event.type) {
    case "start":
      return current === "queued" ? "running" : null;
    case "succeed":
      return current === "running" ? "success" : null;
    case "fail":
      return active ? "failed" : null;
    case "cancel":
      return active ? "cancelled" : null;
    case "retry":
      return active ? null : "queued";
    default:
      return assertNever(event, "run event");
  }
}
