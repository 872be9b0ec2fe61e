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
    triggers = [apiTrigger("hook", { variables: { a: 1, b: 1 }, maxActiveRuns: 2 }), scheduleTrigger("daily", { kind: "interval", everyMs: 86_400_000, startMs: null, endMs: null })];
    const recorder = recordingStartRun(store);
    requests = recorder.requests;
    api = new ApiTriggers({
      store: store.triggers,
      startRun: recorder.startRun,
      findTrigger: async (pipeline, id) => (pipeline === "etl" ? (triggers.find((t) => t.name === id) ?? null) : null),
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

  it("issues tokens for API triggers only and refuses disabled ones", async () => {
    await expect(api.issueToken("etl", "daily")).rejects.toMatchObject({ code: "trigger_not_found" });
    const token = await api.issueToken("etl", "hook");
    triggers[0] = { ...triggers[0], enabled: false };
    await expect(api.fire("etl", "hook", token)).rejects.toMatchObject({ code: "trigger_disabled" });
  });
});
