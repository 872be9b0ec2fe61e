import { formatElapsed } from "./duration";

describe("formatElapsed", () => {
  it("shows milliseconds, then seconds with one decimal", () => {
    expect(formatElapsed(0)).toBe("0 ms");
    expect(formatElapsed(849.6)).toBe("850 ms");
    expect(formatElapsed(1000)).toBe("1.0 s");
    expect(formatElapsed(4_249)).toBe("4.2 s");
    expect(formatElapsed(59_949)).toBe("59.9 s");
  });

  it("shows minutes and seconds in words for the UI, compact for the CLI's fixed-width column", () => {
    expect(formatElapsed(125_000)).toBe("2 min 5 s");
    expect(formatElapsed(125_000, "compact")).toBe("2m05s");
    expect(formatElapsed(60_000, "compact")).toBe("1m00s");
    expect(formatElapsed(59 * 60_000 + 59_000, "compact")).toHaveLength(6);
  });
});
