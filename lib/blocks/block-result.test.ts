import { Table, tableFromArrays } from "apache-arrow";
import { UserError } from "../core/errors";
import { describeValue, interpretReturn, isTableLike, rowsToTable } from "./block-result";

describe("rowsToTable", () => {
  test("infers one type per column over all rows; missing keys and undefined are null", () => {
    const table = rowsToTable(
      [
        { n: null, s: "a", b: true, d: new Date("2020-10-01T00:00:00.123Z"), big: 1n, obj: { x: 1 } },
        { n: 1.5, s: undefined, b: false, d: null, big: 9007199254740993n, obj: [1, 2], late: "only here" },
      ],
      "blk",
    );
    expect(table.schema.fields.map((f) => [f.name, String(f.type)])).toEqual([
      ["n", "Float64"],
      ["s", "Utf8"],
      ["b", "Bool"],
      ["d", "Timestamp<MICROSECOND>"],
      ["big", "Int64"],
      ["obj", "Utf8"],
      ["late", "Utf8"],
    ]);
    expect(table.toArray().map((row) => row.toJSON())).toEqual([
      { n: null, s: "a", b: true, d: Date.parse("2020-10-01T00:00:00.123Z"), big: 1n, obj: '{"x":1}', late: null },
      { n: 1.5, s: null, b: false, d: null, big: 9007199254740993n, obj: "[1,2]", late: "only here" },
    ]);
  });

  test("a column of nulls only is Null; mixed kinds are a UserError naming the column", () => {
    expect(String(rowsToTable([{ x: null }, {}], "blk").schema.fields[0].type)).toBe("Null");
    expect(() => rowsToTable([{ id: 1 }, { id: "two" }], "blk")).toThrow(new UserError("bad_return", 'block blk returned rows whose column "id" mixes number and string values; return one type per column (or an Arrow Table)'));
  });
});

describe("interpretReturn", () => {
  const table = tableFromArrays({ a: Int32Array.from([1]) });

  test("by block type", () => {
    expect(interpretReturn("loader", "b", table)).toEqual({ kind: "table", table });
    expect(interpretReturn("transformer", "b", [{ a: 1 }])).toMatchObject({ kind: "table" });
    expect(interpretReturn("exporter", "b", undefined)).toEqual({ kind: "none" });
    expect(interpretReturn("sensor", "b", false)).toEqual({ kind: "sensor", value: false });
  });

  test.each([
    ["loader", undefined, "block b returned undefined, expected an Arrow Table or an array of objects"],
    ["transformer", 42, "block b returned a number (42), expected an Arrow Table or an array of objects"],
    ["loader", [{ a: 1 }, 3], "block b returned an array whose item 1 is a number (3), expected an Arrow Table or an array of objects"],
    ["loader", new Map(), "block b returned a Map, expected an Arrow Table or an array of objects"],
    ["exporter", "done", "block b returned a string (done), expected nothing (an exporter), an Arrow Table or an array of objects"],
    ["sensor", "yes", "block b returned a string (yes), expected a boolean (sensor)"],
  ] as const)("%s returning %p", (type, value, message) => {
    expect(() => interpretReturn(type, "b", value)).toThrow(new UserError("bad_return", message));
  });

  test("tables are recognised structurally (another apache-arrow copy)", () => {
    expect(isTableLike({ schema: { fields: [] }, batches: [] })).toBe(true);
    expect(isTableLike(new Table())).toBe(true);
    expect(isTableLike({ schema: {} })).toBe(false);
    expect(describeValue({ a: 1, b: 2 })).toBe("an object with keys a, b");
  });
});
