/** The preview's pure display rules: one grid for header and rows, starting widths, how values and stats read. */
import { gridTemplate, gridWidth, initialColumnWidth, isNaiveTimestampType, naiveReading, statValue, truncated, valueText, CELL_MAX_CHARS, INDEX_WIDTH } from "./preview-format";

describe("preview display rules", () => {
  it("gives the header and the rows one template of fixed pixel tracks, whatever the column count", () => {
    const widths = Array.from({ length: 64 }, (_, i) => 100 + i);
    const template = gridTemplate(widths);
    expect(template.split(" ")).toHaveLength(65);
    expect(template).not.toMatch(/fr|minmax|auto/);
    expect(template.startsWith(`${INDEX_WIDTH}px 100px 101px`)).toBe(true);
    expect(gridWidth(widths)).toBe(INDEX_WIDTH + widths.reduce((a, b) => a + b, 0));
  });

  it("starts each column wide enough for its name and a typical value", () => {
    expect(initialColumnWidth("lpep_pickup_datetime", "Timestamp<MICROSECOND>")).toBeGreaterThanOrEqual(170);
    expect(initialColumnWidth("improvement_surcharge", "Float64")).toBeGreaterThanOrEqual(Math.ceil("improvement_surcharge".length * 7.5));
    expect(initialColumnWidth("x".repeat(500), "Utf8")).toBe(1200);
  });

  it("reads a naive timestamp's summary as the wall clock its cells show, a zoned one as an instant", () => {
    expect(isNaiveTimestampType("Timestamp<MICROSECOND>")).toBe(true);
    expect(isNaiveTimestampType("Timestamp<MICROSECOND, UTC>")).toBe(false);
    expect(naiveReading("2020-10-01T00:09:00.000Z")).toBe("2020-10-01 00:09:00");
    expect(naiveReading("2020-10-01T00:09:00.120Z")).toBe("2020-10-01 00:09:00.12");
    expect(statValue("2020-10-01T00:09:00.000Z", "Timestamp<MICROSECOND>")).toBe("2020-10-01 00:09:00");
    expect(statValue("2020-10-01T00:09:00.000Z", "Timestamp<MICROSECOND, UTC>")).toBe("2020-10-01T00:09:00.000Z");
    expect(statValue(null, "Int32")).toBe("—");
  });

  it("keeps text as is, JSON for nested values, and cuts only very long values", () => {
    expect(valueText("")).toBe("");
    expect(valueText("12345678901234567890.123456789")).toBe("12345678901234567890.123456789");
    expect(valueText({ a: [1, null] })).toBe('{"a":[1,null]}');
    expect(truncated("short")).toEqual({ text: "short", cut: false });
    const long = "y".repeat(CELL_MAX_CHARS + 5);
    expect(truncated(long)).toEqual({ text: `${"y".repeat(CELL_MAX_CHARS)}…`, cut: true });
  });
});
