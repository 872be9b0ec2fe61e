import { OperationalError, UnexpectedError, UserError } from "./errors";
import { BLOCK_RUN_STATES, RUN_STATES, type BlockRunState, type RunState } from "./run-model";
import {
  blockFailEvent,
  canTransitionBlockRun,
  canTransitionRun,
  transitionBlockRun,
  transitionRun,
  type BlockRunEvent,
  type RunEvent,
} from "./run-state";

const retryableFail: BlockRunEvent = { type: "fail", retryable: true, attemptsLeft: 2 };
const lastFail: BlockRunEvent = { type: "fail", retryable: true, attemptsLeft: 0 };
const userFail: BlockRunEvent = { type: "fail", retryable: false, attemptsLeft: 2 };

const BLOCK_EVENTS: BlockRunEvent[] = [
  { type: "queue" },
  { type: "start" },
  { type: "succeed" },
  retryableFail,
  lastFail,
  userFail,
  { type: "retry_due" },
  { type: "skip" },
  { type: "upstream_failed" },
  { type: "cancel" },
  { type: "clear" },
];

const label = (event: BlockRunEvent) => (event.type === "fail" ? `fail(retryable=${event.retryable}, left=${event.attemptsLeft})` : event.type);

/** Every legal block-run transition: [from, event, to]. */
const LEGAL_BLOCK: Array<[BlockRunState, BlockRunEvent, BlockRunState]> = [
  ["pending", { type: "queue" }, "queued"],
  ["queued", { type: "start" }, "running"],
  ["running", { type: "succeed" }, "success"],
  ["running", retryableFail, "up_for_retry"],
  ["running", lastFail, "failed"],
  ["running", userFail, "failed"],
  ["queued", retryableFail, "up_for_retry"],
  ["queued", lastFail, "failed"],
  ["queued", userFail, "failed"],
  ["up_for_retry", { type: "retry_due" }, "queued"],
  ["pending", { type: "skip" }, "skipped"],
  ["queued", { type: "skip" }, "skipped"],
  ["running", { type: "skip" }, "skipped"],
  ["pending", { type: "upstream_failed" }, "upstream_failed"],
  ["pending", { type: "cancel" }, "cancelled"],
  ["queued", { type: "cancel" }, "cancelled"],
  ["running", { type: "cancel" }, "cancelled"],
  ["up_for_retry", { type: "cancel" }, "cancelled"],
  ["success", { type: "clear" }, "pending"],
  ["failed", { type: "clear" }, "pending"],
  ["skipped", { type: "clear" }, "pending"],
  ["upstream_failed", { type: "clear" }, "pending"],
  ["cancelled", { type: "clear" }, "pending"],
];

describe("transitionBlockRun", () => {
  it.each(LEGAL_BLOCK.map(([from, event, to]) => [from, label(event), to, event] as const))("%s --%s--> %s", (from, _, to, event) => {
    expect(transitionBlockRun(from, event)).toBe(to);
    expect(canTransitionBlockRun(from, event)).toBe(true);
  });

  const legal = new Set(LEGAL_BLOCK.map(([from, event]) => `${from}|${label(event)}`));
  const illegal = BLOCK_RUN_STATES.flatMap((from) => BLOCK_EVENTS.filter((event) => !legal.has(`${from}|${label(event)}`)).map((event) => [from, label(event), event] as const));

  it("has illegal transitions to test", () => {
    expect(illegal.length).toBe(BLOCK_RUN_STATES.length * BLOCK_EVENTS.length - LEGAL_BLOCK.length);
  });

  it.each(illegal)("refuses %s on %s", (from, _, event) => {
    expect(canTransitionBlockRun(from, event)).toBe(false);
    expect(() => transitionBlockRun(from, event)).toThrow(UnexpectedError);
    expect(() => transitionBlockRun(from, event)).toThrow(`block run cannot go from "${from}" on event "${event.type}"`);
  });

  it("refuses a fail event with a nonsense attempt count", () => {
    expect(() => transitionBlockRun("running", { type: "fail", retryable: true, attemptsLeft: -1 })).toThrow(UnexpectedError);
    expect(() => transitionBlockRun("running", { type: "fail", retryable: true, attemptsLeft: 0.5 })).toThrow(UnexpectedError);
  });

  it("walks a retried block to success", () => {
    const events: BlockRunEvent[] = [{ type: "queue" }, { type: "start" }, retryableFail, { type: "retry_due" }, { type: "start" }, { type: "succeed" }];
    const states = events.reduce<BlockRunState[]>((acc, event) => [...acc, transitionBlockRun(acc[acc.length - 1], event)], ["pending"]);
    expect(states).toEqual(["pending", "queued", "running", "up_for_retry", "queued", "running", "success"]);
  });
});

describe("blockFailEvent", () => {
  it("retries operational errors and plain errors while attempts are left, never user errors", () => {
    expect(blockFailEvent(new OperationalError("db_down", "connection refused"), 2)).toEqual({ type: "fail", retryable: true, attemptsLeft: 2 });
    expect(blockFailEvent(new Error("boom"), 1)).toEqual({ type: "fail", retryable: true, attemptsLeft: 1 });
    expect(blockFailEvent(new UserError("bad_sql", "syntax error"), 3)).toEqual({ type: "fail", retryable: false, attemptsLeft: 3 });
    expect(transitionBlockRun("running", blockFailEvent(new UserError("bad_sql", "x"), 3))).toBe("failed");
    expect(blockFailEvent(new Error("x"), -2).attemptsLeft).toBe(0);
  });
});

const RUN_EVENTS: RunEvent[] = [{ type: "start" }, { type: "succeed" }, { type: "fail" }, { type: "cancel" }, { type: "retry" }];

const LEGAL_RUN: Array<[RunState, RunEvent["type"], RunState]> = [
  ["queued", "start", "running"],
  ["running", "succeed", "success"],
  ["queued", "fail", "failed"],
  ["running", "fail", "failed"],
  ["queued", "cancel", "cancelled"],
  ["running", "cancel", "cancelled"],
  ["success", "retry", "queued"],
  ["failed", "retry", "queued"],
  ["cancelled", "retry", "queued"],
];

describe("transitionRun", () => {
  it.each(LEGAL_RUN)("%s --%s--> %s", (from, type, to) => {
    const event = RUN_EVENTS.find((e) => e.type === type);
    if (!event) throw new Error(`no event ${type}`);
    expect(transitionRun(from, event)).toBe(to);
    expect(canTransitionRun(from, event)).toBe(true);
  });

  const legal = new Set(LEGAL_RUN.map(([from, type]) => `${from}|${type}`));
  const illegal = RUN_STATES.flatMap((from) => RUN_EVENTS.filter((e) => !legal.has(`${from}|${e.type}`)).map((e) => [from, e.type, e] as const));

  it.each(illegal)("refuses %s on %s", (from, type, event) => {
    expect(canTransitionRun(from, event)).toBe(false);
    expect(() => transitionRun(from, event)).toThrow(`run cannot go from "${from}" on event "${type}"`);
  });
});

