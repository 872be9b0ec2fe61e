import { closestMatch, didYouMean, editDistance } from "./suggest";

describe("editDistance", () => {
  it.each([
    ["", "", 0],
    ["abc", "abc", 0],
    ["upstrem", "upstream", 1],
    ["retires", "retries", 1],
    ["kitten", "sitting", 3],
    ["", "abc", 3],
  ])("%s ↔ %s = %d", (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
  });
});

describe("closestMatch / didYouMean", () => {
  const keys = ["name", "type", "language", "upstream", "retries", "timeout", "connection", "queue"];

  it("suggests the likely key for a typo", () => {
    expect(closestMatch("upstrem", keys)).toBe("upstream");
    expect(closestMatch("Timeout", keys)).toBe("timeout");
    expect(didYouMean("retires", keys)).toBe(' (did you mean "retries"?)');
  });

  it("stays quiet when nothing is close", () => {
    expect(closestMatch("schedule", keys)).toBeUndefined();
    expect(didYouMean("xyz", keys)).toBe("");
  });
});
