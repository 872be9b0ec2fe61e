import { Int32, Int64, makeData, Table, TimestampMicrosecond, TimestampMillisecond, Vector, tableFromArrays, vectorFromArray } from "apache-arrow";
import { firstDifference } from "./compare-tables";

describe("firstDifference", () => {
  it("compares by meaning across widths and units", () => {
    const a = new Table({
      n: vectorFromArray([1, null, 3], new Int32()),
      t: new Vector([makeData({ type: new TimestampMillisecond(), length: 2, data: new BigInt64Array([1n, 2n]) })]).concat(new Vector([makeData({ type: new TimestampMillisecond(), length: 1, data: new BigInt64Array([3n]) })])),
    });
    const b = new Table({
      n: vectorFromArray([1n, null, 3n], new Int64()),
      t: new Vector([makeData({ type: new TimestampMicrosecond(), length: 3, data: new BigInt64Array([1000n, 2000n, 3000n]) })]),
    });
    expect(firstDifference(a, b)).toBeNull();
  });

  it("reports the first differing column and row", () => {
    const a = tableFromArrays({ s: ["NA", "N/A", "x"], f: new Float64Array([0.1, NaN, 3]) });
    expect(firstDifference(a, tableFromArrays({ s: ["NA", "N/A", "x"], f: new Float64Array([0.1, NaN, 3]) }))).toBeNull();
    expect(firstDifference(a, tableFromArrays({ s: ["NA", "N/A", "x"], f: new Float64Array([0.1, NaN, 3.0000000000000004]) }))).toBe('column "f" row 2: expected 3, got 3.0000000000000004');
    expect(firstDifference(a, new Table({ s: vectorFromArray(["NA", null, "x"]), f: vectorFromArray([0.1, NaN, 3]) }))).toBe('column "s" row 1: expected "N/A", got null');
    expect(firstDifference(a, tableFromArrays({ s: ["NA"], f: new Float64Array([1]) }))).toBe("row count: expected 3, got 1");
    expect(firstDifference(a, tableFromArrays({ s: new Int32Array([1, 2, 3]), f: new Float64Array([1, 2, 3]) }))).toMatch(/column "s": expected string values/);
    expect(firstDifference(a, a, { order: [2, 1, 0] })).toBe('column "s" row 0: expected "NA", got "x"');
  });
});
