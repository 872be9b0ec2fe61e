import type { BlockRunState } from "./run-model";
import { decideTrigger, runStateFromLeaves, TRIGGER_RULES, type TriggerDecision, type TriggerRule } from "./trigger-rules";

/**
 * Airflow's truth table (the trigger rules documentation and `TriggerRuleDep`), one row per case:
 * the rule, the upstream states (S success, K skipped, F failed, U upstream_failed, R running, P pending,
 * C cancelled), and what the block does.
 */
const TABLE: readonly [TriggerRule, string, TriggerDecision][] = [
  ["all_success", "SS", "run"],
  ["all_success", "SR", "wait"],
  ["all_success", "FR", "upstream_failed"], // gives up at the first failure, without waiting
  ["all_success", "SU", "upstream_failed"],
  ["all_success", "SK", "skip"],
  ["all_success", "KF", "upstream_failed"], // a failure outranks a skip
  ["all_success", "SC", "upstream_failed"],
  ["all_failed", "FF", "run"],
  ["all_failed", "FU", "run"],
  ["all_failed", "FR", "wait"],
  ["all_failed", "FS", "skip"],
  ["all_failed", "FK", "skip"],
  ["all_done", "SF", "run"],
  ["all_done", "KU", "run"],
  ["all_done", "SR", "wait"],
  ["all_done", "FP", "wait"],
  ["all_skipped", "KK", "run"],
  ["all_skipped", "KR", "wait"],
  ["all_skipped", "KS", "skip"],
  ["all_skipped", "KU", "skip"],
  ["one_success", "SR", "run"], // fires at the first success
  ["one_success", "FS", "run"],
  ["one_success", "FR", "wait"],
  ["one_success", "FK", "upstream_failed"],
  ["one_success", "KK", "skip"],
  ["one_failed", "FR", "run"], // fires at the first failure
  ["one_failed", "UP", "run"],
  ["one_failed", "SR", "wait"],
  ["one_failed", "SK", "skip"],
  ["one_done", "SR", "run"],
  ["one_done", "FR", "run"],
  ["one_done", "UR", "wait"], // upstream_failed is not done by the upstream itself
  ["one_done", "UK", "skip"],
  ["none_failed", "SK", "run"],
  ["none_failed", "KK", "run"],
  ["none_failed", "SR", "wait"],
  ["none_failed", "FR", "upstream_failed"],
  ["none_failed", "SU", "upstream_failed"],
  ["none_failed_min_one_success", "SK", "run"],
  ["none_failed_min_one_success", "KK", "skip"],
  ["none_failed_min_one_success", "KR", "wait"],
  ["none_failed_min_one_success", "KF", "upstream_failed"],
  ["none_skipped", "SS", "run"],
  ["none_skipped", "SF", "run"], // failures do not matter, skips do
  ["none_skipped", "SR", "wait"],
  ["none_skipped", "KR", "skip"],
  ["always", "PP", "run"],
  ["always", "FK", "run"],
];

const STATE: Record<string, BlockRunState> = { S: "success", K: "skipped", F: "failed", U: "upstream_failed", R: "running", P: "pending", C: "cancelled" };
const states = (code: string) => [...code].map((c) => STATE[c]);

describe("decideTrigger", () => {
  it.each(TABLE)("%s with upstreams %s → %s", (rule, upstream, expected) => {
    expect(decideTrigger(rule, states(upstream))).toBe(expected);
  });

  it("the table covers every rule", () => {
    expect(new Set(TABLE.map(([rule]) => rule))).toEqual(new Set(TRIGGER_RULES));
  });

  it("a block without upstreams runs under every rule", () => {
    for (const rule of TRIGGER_RULES) expect(decideTrigger(rule, [])).toBe("run");
  });

  it("decides the same whatever the order of the upstreams", () => {
    for (const [rule, upstream, expected] of TABLE) expect(decideTrigger(rule, states([...upstream].reverse().join("")))).toBe(expected);
  });
});

describe("skip propagation through trigger rules", () => {
  //   cond(false) ··► load ──► clean ──► report(none_failed_min_one_success)
  //                                        ▲
  //   other ───────────────────────────────┘
  it("a skip flows down all_success blocks and stops at a rule that tolerates it", () => {
    const load: BlockRunState = "skipped"; // its condition was false
    const clean = decideTrigger("all_success", [load]);
    expect(clean).toBe("skip");
    expect(decideTrigger("none_failed_min_one_success", ["skipped", "success"])).toBe("run");
    expect(decideTrigger("all_done", ["skipped"])).toBe("run");
    expect(decideTrigger("none_skipped", ["skipped"])).toBe("skip");
  });

  it("branching: of two paths gated by opposite conditions one runs, the join runs with none_failed_min_one_success", () => {
    const taken: BlockRunState = "success";
    const notTaken: BlockRunState = "skipped";
    expect(decideTrigger("all_success", [taken, notTaken])).toBe("skip");
    expect(decideTrigger("none_failed_min_one_success", [taken, notTaken])).toBe("run");
  });
});

describe("runStateFromLeaves", () => {
  //   extract ──► load(failed) ──► cleanup(all_done, success)
  it("a failure handled by a successful cleanup leaf does not fail the run (Airflow)", () => {
    expect(
      runStateFromLeaves([
        { state: "success", leaf: false },
        { state: "failed", leaf: false },
        { state: "success", leaf: true },
      ]),
    ).toBe("success");
  });

  it("a failed or upstream_failed leaf fails it; skipped leaves do not", () => {
    expect(runStateFromLeaves([{ state: "failed", leaf: true }, { state: "success", leaf: true }])).toBe("failed");
    expect(runStateFromLeaves([{ state: "failed", leaf: false }, { state: "upstream_failed", leaf: true }])).toBe("failed");
    expect(runStateFromLeaves([{ state: "success", leaf: false }, { state: "skipped", leaf: true }])).toBe("success");
    expect(runStateFromLeaves([{ state: "cancelled", leaf: false }, { state: "success", leaf: true }])).toBe("cancelled");
  });
});
