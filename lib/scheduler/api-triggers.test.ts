import type { VariableValue } from "../core/model";
import type { Trigger } from "../core/triggers-schema";
import type { MetadataStore } from "../store/metadata/run-store";
import { SqliteRunStore } from "../store/metadata/sqlite-run-store";
import { ApiTriggers, bearerToken, generateToken, hashToken, parsePublicTriggerId, publicTriggerId, tokenMatches } from "./api-triggers";
import { apiTrigger, recordingStartRun, scheduleTrigger } from "./test-helpers";

describe("API trigger tokens", () => {
  it("generates distinct prefixed tokens and checks them against their hash only", () => {
    const a = generateToken();
    const b = generateToken();
    expect(a).toMatch(/^slk_[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(hashToken(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(tokenMatches(a, hashToken(a))).toBe(true);
    expect(tokenMatches(b, hashToken(a))).toBe(false);
    expect(tokenMatches(a, "not-hex")).toBe(false);
  });

  it("parses ids and bearer headers", () => {
    expect(parsePublicTriggerId(publicTriggerId("green_taxi", "hook_1"))).toEqual({ pipeline: "green_taxi", triggerId: "hook_1" });
    expect(() => parsePublicTriggerId("nodot")).toThrow(/no trigger/);
    expect(() => parsePublicTriggerId("../x.y")).toThrow(/no trigger/);
    expect(bearerToken("Bearer slk_abc")).toBe("slk_abc");
    expect(bearerToken("bearer   slk_abc ")).toBe("slk_abc");
    expect(bearerToken("Basic abc")).toBeNull();
    expect(bearerToken(undefined)).toBeNull();
  });
});

describe("ApiTriggers", () => {
  let store: MetadataStore;
  let triggers: Trigger[];
  let api: ApiTriggers;
  let requests: ReturnType<typeof recordingStartRun>["requests"];

  beforeEach(async () => {
    store = await SqliteRunStore.open(":memory:");
    triggers = [apiTrigger("hook", { variables: { a: 1, b: 1 }, variablesAllowed: ["b"], maxActiveRuns: 2 }), scheduleTrigger("daily", { kind: "interval", everyMs: 86_400_000, startMs: null, endMs: null })];
    const recorder = recordingStartRun(store);
    requests = recorder.requests;
    api = new ApiTriggers({
      store: store.triggers,
      startRun: recorder.startRun,
      findTrigger: async (pipeline, id) => (pipeline === "etl" ? (triggers.find((t) => t.name === id) ?? null) : null),
      pipelineVariables: async () => ({ b: 0, months: [10], region: "eu", dry_run: false, output_dir: "lake", anything: null }),
      now: () => Date.parse("2024-05-01T10:00:00Z"),
    });
  });
  afterEach(() => store.close());

  it("issues a token shown once (only its hash stored), fires with it, refuses without it, rotates", async () => {
    expect(await api.hasToken("etl", "hook")).toBe(false);
    const token = await api.issueToken("etl", "hook");
    expect(await store.triggers.getTokenHash("etl", "hook")).toBe(hashToken(token));
    expect(await api.verify("etl", "hook", token)).toBe(true);
    const { runId } = await api.fire("etl", "hook", token, { b: 2 });
    expect(requests).toEqual([
      { pipeline: "etl", trigger: "api", triggerId: "hook", logicalDate: "2024-05-01T10:00:00.000Z", dataInterval: { start: "2024-05-01T10:00:00.000Z", end: "2024-05-01T10:00:00.000Z" }, variables: { a: 1, b: 2 } },
    ]);
    expect((await store.getRun(runId))?.run).toMatchObject({ trigger: "api", triggerId: "hook" });
    await expect(api.fire("etl", "hook", null)).rejects.toMatchObject({ code: "unauthorized" });
    await expect(api.fire("etl", "hook", "slk_wrong")).rejects.toMatchObject({ code: "unauthorized" });
    await expect(api.fire("etl", "daily", token)).rejects.toMatchObject({ code: "unauthorized" });
    await expect(api.fire("other", "hook", token)).rejects.toMatchObject({ code: "unauthorized" });
    const rotated = await api.issueToken("etl", "hook");
    await expect(api.fire("etl", "hook", token)).rejects.toMatchObject({ code: "unauthorized" });
    await api.fire("etl", "hook", rotated);
    await expect(api.fire("etl", "hook", rotated)).rejects.toMatchObject({ code: "max_active_runs", kind: "operational" });
    expect(await api.revoke("etl", "hook")).toBe(true);
    await expect(api.fire("etl", "hook", rotated)).rejects.toMatchObject({ code: "unauthorized" });
  });

  it("lets a caller set only the variables its trigger lists (none by default), each of its declared type", async () => {
    const token = await api.issueToken("etl", "hook");
    await expect(api.fire("etl", "hook", token, { output_dir: "/etc" })).rejects.toMatchObject({
      code: "variable_not_allowed",
      kind: "user",
      message: 'trigger hook does not let callers set variable "output_dir"; it allows b',
      details: { variable: "output_dir", allowed: ["b"] },
    });
    const hook = apiTrigger("hook", { variables: { a: 1, b: 1 }, maxActiveRuns: 2 });
    triggers[0] = { ...hook, variablesAllowed: [] };
    await expect(api.fire("etl", "hook", token, { b: 2 })).rejects.toMatchObject({ code: "variable_not_allowed", message: expect.stringContaining("it allows none") });
    // No variables at all is always fine: the trigger's own apply.
    await api.fire("etl", "hook", token);
    triggers[0] = { ...hook, variablesAllowed: ["b", "months", "region", "dry_run", "anything", "extra"], maxActiveRuns: null };
    const wrong: [Record<string, VariableValue>, string, string][] = [
      [{ b: "2" }, "b", "number"],
      [{ months: 10 }, "months", "array"],
      [{ region: ["eu"] }, "region", "string"],
      [{ dry_run: "false" }, "dry_run", "boolean"],
      [{ months: null }, "months", "array"],
    ];
    for (const [variables, variable, expected] of wrong) {
      await expect(api.fire("etl", "hook", token, variables)).rejects.toMatchObject({ code: "invalid_variable_type", details: { variable, expected } });
    }
    await expect(api.fire("etl", "hook", token, { months: "10" })).rejects.toThrow('variable "months" must be an array, got string');
    expect(requests).toHaveLength(1);
    // A variable declared null, or allowed but not declared, takes any value.
    await api.fire("etl", "hook", token, { b: 3, months: [11, 12], region: "us", dry_run: true, anything: { x: 1 }, extra: "yes" });
    expect(requests[1].variables).toEqual({ a: 1, b: 3, months: [11, 12], region: "us", dry_run: true, anything: { x: 1 }, extra: "yes" });
  });

  it("issues tokens for API triggers only and refuses disabled ones", async () => {
    await expect(api.issueToken("etl", "daily")).rejects.toMatchObject({ code: "trigger_not_found" });
    const token = await api.issueToken("etl", "hook");
    triggers[0] = { ...triggers[0], enabled: false };
    await expect(api.fire("etl", "hook", token)).rejects.toMatchObject({ code: "trigger_disabled" });
  });
});
