import { formatDuration, parseDuration } from "./duration";
import { UserError } from "./errors";

describe("parseDuration", () => {
  it.each([
    ["500ms", 500],
    ["5s", 5000],
    ["10m", 600_000],
    ["1h", 3_600_000],
    ["1d", 86_400_000],
    ["1h30m", 5_400_000],
    ["1.5s", 1500],
    ["0s", 0],
    [" 2m ", 120_000],
    [1500, 1500],
    [0, 0],
  ] as const)("%p → %p ms", (input, expected) => {
    expect(parseDuration(input)).toBe(expected);
  });

  it.each(["", "5", "10 mins", "-5s", "5x", "s", "1.5.2s", "5s5s", "0.5ms", "1h 30m", "5S"])("rejects %p", (input) => {
    expect(() => parseDuration(input)).toThrow(UserError);
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])("rejects the number %p", (input) => {
    expect(() => parseDuration(input)).toThrow(UserError);
  });

  it("says what it expected and carries the location it was given", () => {
    try {
      parseDuration("10 mins", { file: "pipeline.yaml", line: 7, path: "blocks[0].timeout" });
      throw new Error("no error");
    } catch (error) {
      expect(error).toBeInstanceOf(UserError);
      if (!(error instanceof UserError)) return;
      expect(error.code).toBe("invalid_value");
      expect(error.message).toBe('"10 mins" is not a duration; write e.g. 500ms, 5s, 10m, 1h, 1d or 1h30m');
      expect(error.location).toEqual({ file: "pipeline.yaml", line: 7, path: "blocks[0].timeout" });
    }
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0s"],
    [500, "500ms"],
    [1500, "1500ms"],
    [5000, "5s"],
    [90_000, "90s"],
    [600_000, "10m"],
    [5_400_000, "90m"],
    [3_600_000, "1h"],
    [172_800_000, "2d"],
  ])("%p ms → %p", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it("round-trips through parseDuration", () => {
    for (const ms of [0, 1, 999, 1000, 61_000, 3_600_000, 86_400_001, 7 * 86_400_000]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });

  it("rejects what cannot be written exactly", () => {
    expect(() => formatDuration(1.5)).toThrow(UserError);
    expect(() => formatDuration(-1)).toThrow(UserError);
  });
});
