import { newBlockSpec, newPipeline } from "./builders";
import { DEFAULT_RETRY_POLICY } from "./model";

describe("newBlockSpec / newPipeline", () => {
  it("fills defaults", () => {
    expect(newBlockSpec({ name: "a" })).toEqual({
      name: "a",
      type: "transformer",
      language: "ts",
      upstream: [],
      retries: DEFAULT_RETRY_POLICY,
      timeoutMs: null,
      connection: null,
      queue: null,
    });
    expect(newPipeline("p")).toEqual({ version: 1, name: "p", description: "", variables: {}, blocks: [] });
  });

  it("keeps given fields and copies the default retry policy", () => {
    const block = newBlockSpec({ name: "b", type: "loader", upstream: ["a"], retries: { ...DEFAULT_RETRY_POLICY, count: 2 } });
    expect(block).toMatchObject({ type: "loader", upstream: ["a"], retries: { count: 2 } });
    expect(newBlockSpec({ name: "c" }).retries).not.toBe(DEFAULT_RETRY_POLICY);
  });
});
