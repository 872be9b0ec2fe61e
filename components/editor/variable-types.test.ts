import { convertVariable, formatVariableInput, parseVariableInput, variableTypeOf } from "./variable-types";

describe("variable types", () => {
  it("reads a type from each value, a secret from the pipeline's list", () => {
    expect(variableTypeOf("a", "x", [])).toBe("string");
    expect(variableTypeOf("a", 3, [])).toBe("number");
    expect(variableTypeOf("a", false, [])).toBe("boolean");
    expect(variableTypeOf("a", "2020-10-01", [])).toBe("date");
    expect(variableTypeOf("a", [10, 11], [])).toBe("list");
    expect(variableTypeOf("a", "x", ["a"])).toBe("secret");
    expect(variableTypeOf("a", { k: 1 }, [])).toBe("json");
  });

  it("parses what is typed into the value the file holds, and refuses what does not fit with the reason", () => {
    expect(parseVariableInput("number", "2021")).toEqual({ ok: true, value: 2021 });
    expect(parseVariableInput("number", "twenty")).toEqual({ ok: false, message: '"twenty" is not a number' });
    expect(parseVariableInput("number", "")).toMatchObject({ ok: false });
    expect(parseVariableInput("boolean", "true")).toEqual({ ok: true, value: true });
    expect(parseVariableInput("date", "2020-13-45")).toMatchObject({ ok: false });
    expect(parseVariableInput("date", "2020-10-01")).toEqual({ ok: true, value: "2020-10-01" });
    expect(parseVariableInput("list", "10, 11,12")).toEqual({ ok: true, value: [10, 11, 12] });
    expect(parseVariableInput("list", "green, yellow")).toEqual({ ok: true, value: ["green", "yellow"] });
    expect(parseVariableInput("list", "")).toEqual({ ok: true, value: [] });
  });

  it("shows a list as comma-separated text and never shows a secret", () => {
    expect(formatVariableInput("list", [10, 11])).toBe("10, 11");
    expect(formatVariableInput("secret", "[secret:key]")).toBe("");
    expect(parseVariableInput("list", formatVariableInput("list", ["a", "b"]))).toEqual({ ok: true, value: ["a", "b"] });
  });

  it("converts a value when its type changes", () => {
    expect(convertVariable("number", "42")).toBe(42);
    expect(convertVariable("number", "x")).toBe(0);
    expect(convertVariable("list", "a")).toEqual(["a"]);
    expect(convertVariable("string", [1, 2])).toBe("1, 2");
    expect(convertVariable("boolean", "true")).toBe(true);
  });
});
