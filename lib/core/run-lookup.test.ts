import { latestMatchingRun, parseRunQuery } from "./run-lookup";

const OWN = "2024-01-31T00:00:00.000Z";

describe("parseRunQuery", () => {
  test("defaults the logical date to the asking run's and the state to any", () => {
    expect(parseRunQuery({ pipeline: "load" }, OWN)).toEqual({ pipeline: "load", logicalDate: OWN, state: null });
  });

  test("resolves a Date or ISO text to the same instant", () => {
    expect(parseRunQuery({ pipeline: "load", logicalDate: "2024-02-01" }, OWN).logicalDate).toBe("2024-02-01T00:00:00.000Z");
    expect(parseRunQuery({ pipeline: "load", logicalDate: new Date("2024-02-01T06:00:00+01:00"), state: "success" }, OWN)).toEqual({
      pipeline: "load",
      logicalDate: "2024-02-01T05:00:00.000Z",
      state: "success",
    });
  });

  test("names the bad field", () => {
    expect(() => parseRunQuery(null, OWN)).toThrow("expected an object");
    expect(() => parseRunQuery({ pipeline: "" }, OWN)).toThrow("pipeline must be a pipeline name");
    expect(() => parseRunQuery({ pipeline: "load", logicalDate: "yesterday" }, OWN)).toThrow('logicalDate "yesterday" is not a date');
    expect(() => parseRunQuery({ pipeline: "load", state: "succeeded" }, OWN)).toThrow('state "succeeded" is not one of queued, running, success, failed, cancelled');
  });
});

describe("latestMatchingRun", () => {
  // Newest first, as the store lists them.
  const runs = [
    { id: "r4", pipeline: "load", state: "failed" as const, logicalDate: "2024-01-31T00:00:00.000Z" },
    { id: "r3", pipeline: "load", state: "success" as const, logicalDate: "2024-02-01T00:00:00.000Z" },
    { id: "r2", pipeline: "other", state: "success" as const, logicalDate: "2024-01-31T00:00:00.000Z" },
    { id: "r1", pipeline: "load", state: "success" as const, logicalDate: "2024-01-31T00:00:00Z" },
  ];

  test("the newest run of the pipeline for that date, of the state asked", () => {
    expect(latestMatchingRun(runs, { pipeline: "load", logicalDate: OWN, state: null })).toEqual({ id: "r4", state: "failed", logicalDate: "2024-01-31T00:00:00.000Z" });
    // A later failed run does not hide the success before it; dates compare as instants whatever their spelling.
    expect(latestMatchingRun(runs, { pipeline: "load", logicalDate: OWN, state: "success" })?.id).toBe("r1");
  });

  test("null when no run of that pipeline has that date (or state)", () => {
    expect(latestMatchingRun(runs, { pipeline: "load", logicalDate: "2024-02-02T00:00:00.000Z", state: null })).toBeNull();
    expect(latestMatchingRun(runs, { pipeline: "other", logicalDate: "2024-02-01T00:00:00.000Z", state: "success" })).toBeNull();
    expect(latestMatchingRun(runs, { pipeline: "load", logicalDate: "2024-02-01T00:00:00.000Z", state: "running" })).toBeNull();
  });
});
