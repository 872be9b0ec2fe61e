import {
  bigintToJson,
  decimalToString,
  epochDaysToDate,
  epochMsToDate,
  epochToWallClock,
  makeTimestampText,
  numberToJson,
  timeOfDayToString,
  timestampToIso,
  zoneOffsetOf,
  zonedTimestampToText,
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

  describe("preview timestamps", () => {
    // 2020-10-01 00:09:00 as the TLC files write it: a local reading with no zone.
    const TAXI_PICKUP_US = 1_601_510_940_000_000n;

    it("shows a timestamp without a zone as its wall-clock reading: no Z, no shift", () => {
      expect(epochToWallClock(TAXI_PICKUP_US, 2)).toBe("2020-10-01 00:09:00");
      expect(makeTimestampText(2, null)(TAXI_PICKUP_US)).toBe("2020-10-01 00:09:00");
      expect(makeTimestampText(2, "")(TAXI_PICKUP_US)).toBe("2020-10-01 00:09:00");
    });

    it("keeps every sub-second digit of the unit, dropping only trailing zeros", () => {
      expect(epochToWallClock(1_700_000_000_123_456_789n, 3)).toBe("2023-11-14 22:13:20.123456789");
      expect(epochToWallClock(1_700_000_000_120_000n, 2)).toBe("2023-11-14 22:13:20.12");
      expect(epochToWallClock(1_700_000_000n, 0)).toBe("2023-11-14 22:13:20");
      expect(epochToWallClock(-1n, 3)).toBe("1969-12-31 23:59:59.999999999");
    });

    it("handles leap days, far years and the whole 64-bit range without Date", () => {
      expect(epochToWallClock(BigInt(Date.UTC(2024, 1, 29, 23, 59, 59)), 1)).toBe("2024-02-29 23:59:59");
      expect(epochToWallClock(BigInt(Date.UTC(1900, 2, 1)) / 1000n, 0)).toBe("1900-03-01 00:00:00");
      expect(epochToWallClock(253_402_300_800n, 0)).toBe("+010000-01-01 00:00:00");
      expect(epochToWallClock(9_223_372_036_854_775_807n, 2)).toBe("+294247-01-10 04:00:54.775807");
      expect(epochToWallClock(-62_135_596_800n - 1n, 0)).toBe("0000-12-31 23:59:59");
    });

    it("shows a zoned timestamp in its zone with the offset in force at that instant", () => {
      const newYork = zoneOffsetOf("America/New_York");
      expect(zonedTimestampToText(TAXI_PICKUP_US, 2, newYork)).toBe("2020-09-30 20:09:00-04:00");
      // After the end of daylight saving time the offset changes.
      expect(zonedTimestampToText(BigInt(Date.UTC(2020, 11, 1, 12)), 1, newYork)).toBe("2020-12-01 07:00:00-05:00");
      expect(makeTimestampText(2, "UTC")(TAXI_PICKUP_US)).toBe("2020-10-01 00:09:00+00:00");
      expect(makeTimestampText(2, "+05:30")(TAXI_PICKUP_US)).toBe("2020-10-01 05:39:00+05:30");
      expect(makeTimestampText(0, "-0130")(1_601_510_940n)).toBe("2020-09-30 22:39:00-01:30");
      expect(makeTimestampText(1, "Asia/Kathmandu")(1_601_510_940_000n)).toBe("2020-10-01 05:54:00+05:45");
    });

    it("falls back to the UTC instant, marked Z, for a zone it cannot resolve", () => {
      expect(makeTimestampText(2, "Not/AZone")(TAXI_PICKUP_US)).toBe("2020-10-01 00:09:00Z");
    });
  });
});
