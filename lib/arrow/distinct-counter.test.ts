import { DistinctCounter, hash64, hashBytes, hashString, mix32 } from "./distinct-counter";

function count(values: Iterable<number>): number {
  const counter = new DistinctCounter();
  for (const value of values) counter.add(mix32(value));
  return counter.estimate();
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

describe("DistinctCounter", () => {
  it("counts small cardinalities exactly, duplicates and zero hashes included", () => {
    expect(new DistinctCounter().estimate()).toBe(0);
    expect(count([1, 2, 2, 3, 3, 3])).toBe(3);
    const counter = new DistinctCounter();
    counter.add(0);
    counter.add(0);
    counter.add(7);
    expect(counter.estimate()).toBe(2);
    expect(count([...range(0, 8000), ...range(0, 8000)])).toBe(8000);
  });

  it.each([10_000, 50_000, 200_000, 1_000_000])("estimates %i distinct values within 1.5%%", (n) => {
    const estimate = count(range(0, n));
    expect(Math.abs(estimate - n) / n).toBeLessThan(0.015);
  });

  it("hashes bytes, strings and 64-bit words so that equal values collide and different ones do not", () => {
    const bytes = new TextEncoder().encode("xxhello");
    expect(hashBytes(bytes, 2, 7)).toBe(hashBytes(new TextEncoder().encode("hello"), 0, 5));
    expect(hashBytes(bytes, 2, 7)).not.toBe(hashBytes(bytes, 2, 6));
    expect(hashString("hello")).not.toBe(hashString("hellp"));
    expect(hash64(1, 0)).not.toBe(hash64(0, 1));
  });
});
