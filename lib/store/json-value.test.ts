import {
  bigintToJson,
  decimalToString,
  epochDaysToDate,
  epochMsToDate,
  numberToJson,
  timeOfDayToString,
  timestampToIso,
} from "./json-value";

describe("json-value", () => {
  it("keeps bigints as numbers only when exact", () => {
    expect(bigintToJson(42n)).toBe(42);
    expect(bigintToJson(-(2n ** 53n) + 1n)).toBe(-(2 ** 53) + 1);
    expect(bigintToJson(2n ** 53n)).toBe("9007199254740992");
    expect(bigintToJson(-(2n ** 63n))).toBe("-9223372036854775808");
  });

  it("renders non-finite floats as strings", () => {
    expect(numberToJson(1.5)).toBe(1.5);
    expect(numberToJson(NaN)).toBe("NaN");
    expect(numberToJson(Infinity)).toBe("Infinity");
    expect(numberToJson(-Infinity)).toBe("-Infinity");
  });

  it("renders timestamps of every unit with millisecond precision, flooring (also before 1970)", () => {
    expect(timestampToIso(1_700_000_000n, 0)).toBe("2023-11-14T22:13:20.000Z");
    expect(timestampToIso(1_700_000_000_123n, 1)).toBe("2023-11-14T22:13:20.123Z");
    expect(timestampToIso(1_700_000_000_123_999n, 2)).toBe("2023-11-14T22:13:20.123Z");
    expect(timestampToIso(1_700_000_000_123_000_000n, 3)).toBe("2023-11-14T22:13:20.123Z");
    expect(timestampToIso(1_700_000_000_122_999_999n, 3)).toBe("2023-11-14T22:13:20.122Z");
    expect(timestampToIso(-1n, 3)).toBe("1969-12-31T23:59:59.999Z");
    expect(timestampToIso(-1_000_001n, 2)).toBe("1969-12-31T23:59:58.999Z");
    expect(timestampToIso(9_223_372_036_854_775_807n, 2)).toBe("9223372036854775807");
  });

  it("renders dates, times and decimals", () => {
    expect(epochDaysToDate(19_782)).toBe("2024-02-29");
    expect(epochDaysToDate(-1)).toBe("1969-12-31");
    expect(epochMsToDate(86_400_000n * 3n + 5n)).toBe("1970-01-04");
    expect(timeOfDayToString(45_296_789_012n, 2)).toBe("12:34:56.789012");
    expect(timeOfDayToString(45_296n, 0)).toBe("12:34:56");
    expect(timeOfDayToString(45_296_001n, 1)).toBe("12:34:56.001");
    expect(decimalToString(12_345n, 2)).toBe("123.45");
    expect(decimalToString(-5n, 2)).toBe("-0.05");
    expect(decimalToString(0n, 3)).toBe("0.000");
    expect(decimalToString(7n, 0)).toBe("7");
    expect(decimalToString(7n, -2)).toBe("700");
  });
});
