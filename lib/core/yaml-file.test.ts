import { z } from "zod";
import { UserError } from "./errors";
import { describeValue, loadYaml, locatedError, schemaErrors, yamlErrorMap } from "./yaml-file";

function catchError(fn: () => unknown): UserError {
  try {
    fn();
  } catch (error) {
    if (error instanceof UserError) return error;
    throw error;
  }
  throw new Error("expected a UserError");
}

describe("loadYaml", () => {
  const text = ["top: 1", "list:", "  - a", "  - key: value", "    other: [x, y]", ""].join("\n");

  it("returns the plain value", () => {
    expect(loadYaml(text, "f.yaml").value).toEqual({ top: 1, list: ["a", { key: "value", other: ["x", "y"] }] });
  });

  it("locates values and keys by path, 1-based", () => {
    const loaded = loadYaml(text, "f.yaml");
    expect(loaded.locate(["top"])).toEqual({ line: 1, column: 6 });
    expect(loaded.locate(["list", 1, "other"], "key")).toEqual({ line: 5, column: 5 });
    expect(loaded.locate(["list", 1, "other", 1])).toEqual({ line: 5, column: 16 });
  });

  it("falls back to the nearest existing ancestor for a missing path", () => {
    const loaded = loadYaml(text, "f.yaml");
    expect(loaded.locate(["list", 1, "missing"])).toEqual({ line: 4, column: 5 });
    expect(loaded.locate(["list", 7])).toEqual({ line: 3, column: 3 });
  });

  it("reports a syntax error with line and column", () => {
    const error = catchError(() => loadYaml("a: 1\nb: [1, 2\nc: 3\n", "f.yaml"));
    expect(error.code).toBe("invalid_yaml");
    expect(error.location.file).toBe("f.yaml");
    expect(error.location.line).toBeGreaterThanOrEqual(2);
    expect(error.location.column).toBeGreaterThanOrEqual(1);
    expect(error.message).toMatch(/^f\.yaml:\d+:\d+: invalid YAML: /);
  });

  it("treats a duplicate key as invalid YAML at the second key", () => {
    const error = catchError(() => loadYaml("name: a\nname: b\n", "f.yaml"));
    expect(error.code).toBe("invalid_yaml");
    expect(error.location).toMatchObject({ line: 2, column: 1 });
  });

  it("refuses several documents in one file", () => {
    expect(catchError(() => loadYaml("a: 1\n---\nb: 2\n", "f.yaml")).code).toBe("invalid_yaml");
  });

  it("refuses keys that are lists or maps", () => {
    const error = catchError(() => loadYaml("ok: 1\n? [x, y]\n: 2\n", "f.yaml"));
    expect(error.code).toBe("invalid_yaml");
    expect(error.location.line).toBe(2);
  });

  it("reads an empty file as null", () => {
    expect(loadYaml("", "f.yaml").value).toBeNull();
  });
});

describe("schemaErrors", () => {
  const schema = z.strictObject({ name: z.string(), size: z.int().min(0), kind: z.enum(["small", "large"]) });
  const parse = (text: string) => {
    const loaded = loadYaml(text, "f.yaml");
    const result = schema.safeParse(loaded.value, { error: yamlErrorMap });
    if (result.success) throw new Error("expected issues");
    return schemaErrors(result.error.issues, loaded, { knownKeys: () => ["name", "size", "kind"] });
  };

  it("names unknown keys with a suggestion, at the key", () => {
    const [error] = parse("name: a\nsize: 1\nkind: small\nsise: 2\n");
    expect(error.code).toBe("unknown_key");
    expect(error.message).toBe('f.yaml:4:1: sise: unknown key "sise" (did you mean "size"?)');
    expect(error.location).toEqual({ file: "f.yaml", line: 4, column: 1, path: "sise" });
  });

  it("reports every issue in file order", () => {
    const errors = parse("kind: medium\nsize: -1\nextra: 1\n");
    expect(errors.map((e) => [e.code, e.location.line, e.location.path])).toEqual([
      ["invalid_value", 1, "name"], // missing: points at the map that lacks it (1:1)
      ["invalid_value", 1, "kind"],
      ["invalid_value", 2, "size"],
      ["unknown_key", 3, "extra"],
    ]);
    expect(errors[0].message).toBe("f.yaml:1:1: name: missing required key");
    expect(errors[1].message).toBe('f.yaml:1:7: kind: expected one of small, large, got the text "medium"');
    expect(errors[2].message).toBe("f.yaml:2:7: size: must be ≥ 0");
  });

  it("says what type was expected and what was found", () => {
    const [error] = parse("name: [a]\nsize: 1\nkind: small\n");
    expect(error.message).toBe("f.yaml:1:7: name: expected a string, got a list");
  });
});

describe("locatedError / describeValue", () => {
  it("builds file:line:col: path: detail", () => {
    const loaded = loadYaml("a:\n  b: 1\n", "x.yaml");
    const error = locatedError(loaded, "invalid_value", ["a", "b"], "too big", { blockAt: () => "blk" });
    expect(error.message).toBe("x.yaml:2:6: a.b: too big");
    expect(error.location).toEqual({ file: "x.yaml", line: 2, column: 6, path: "a.b", block: "blk" });
  });

  it.each([
    [undefined, "nothing"],
    [null, "null (an empty value)"],
    [[1], "a list"],
    [{ a: 1 }, "a mapping"],
    [true, "true"],
    [3.5, "3.5"],
    ["hi", 'the text "hi"'],
    ["x".repeat(60), `the text "${"x".repeat(36)}…`],
  ])("describeValue(%p) = %p", (value, text) => {
    expect(describeValue(value)).toBe(text);
  });
});

describe("loadYaml aliases", () => {
  it("refuses a file that expands aliases exponentially", () => {
    const lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 0; i < 8; i++) {
      const prev = String.fromCharCode(97 + i);
      const next = String.fromCharCode(98 + i);
      lines.push(`${next}: &${next} [${Array(10).fill(`*${prev}`).join(", ")}]`);
    }
    const error = catchError(() => loadYaml(lines.join("\n"), "bomb.yaml"));
    expect(error.code).toBe("invalid_yaml");
  });
});
