import { UserError } from "./errors";
import { renderSql, scanSqlTemplate, type SqlScope } from "./sql-template";

const logicalDate = new Date("2024-03-01T00:00:00Z");
const scope: SqlScope = {
  variables: { month: 11, months: [10, 11, 12], name: "O'Brien'; DROP TABLE trips; --", nested: { a: { b: "deep" } }, none: null },
  logical_date: logicalDate,
  data_interval_start: "2024-03-01",
  data_interval_end: "2024-03-02",
  run_id: "run_1",
};

function renderError(sql: string, file?: string): UserError {
  try {
    renderSql(sql, scope, file);
  } catch (error) {
    if (error instanceof UserError) return error;
    throw error;
  }
  throw new Error("expected a UserError");
}

describe("renderSql", () => {
  it("replaces placeholders with $n and binds the values", () => {
    expect(renderSql("SELECT * FROM trips WHERE month = {{ variables.month }} AND day >= {{logical_date}}", scope)).toEqual({
      sql: "SELECT * FROM trips WHERE month = $1 AND day >= $2",
      params: [11, logicalDate],
    });
  });

  it("never pastes values into the SQL", () => {
    const { sql, params } = renderSql("SELECT * FROM people WHERE name = {{ variables.name }}", scope);
    expect(sql).toBe("SELECT * FROM people WHERE name = $1");
    expect(params).toEqual(["O'Brien'; DROP TABLE trips; --"]);
  });

  it("reuses the number of a repeated placeholder, however it is spaced", () => {
    expect(renderSql("{{ run_id }} {{ variables.month }} {{run_id}} {{ variables . month }}", scope)).toEqual({ sql: "$1 $2 $1 $2", params: ["run_1", 11] });
  });

  it("reads nested keys, null and arrays (bound as one list parameter)", () => {
    expect(renderSql("SELECT {{ variables.nested.a.b }}, {{ variables.none }} WHERE list_contains({{ variables.months }}, m)", scope)).toEqual({
      sql: "SELECT $1, $2 WHERE list_contains($3, m)",
      params: ["deep", null, [10, 11, 12]],
    });
  });

  it("returns a template without placeholders unchanged", () => {
    expect(renderSql("SELECT 1 -- { not a template }", scope)).toEqual({ sql: "SELECT 1 -- { not a template }", params: [] });
  });

  it("templates inside string literals and comments too (documented)", () => {
    expect(renderSql("SELECT '{{ run_id }}' -- {{ variables.month }}", scope)).toEqual({ sql: "SELECT '$1' -- $2", params: ["run_1", 11] });
  });

  it("reports an unknown name with line, column and a suggestion", () => {
    const error = renderError("SELECT *\nFROM trips\nWHERE m = {{ variables.mnth }}", "clean_trips.sql");
    expect(error.code).toBe("unknown_variable");
    expect(error.location).toEqual({ file: "clean_trips.sql", line: 3, column: 11 });
    expect(error.message).toBe(
      'clean_trips.sql:3:11: {{ variables.mnth }}: unknown name "variables.mnth" (did you mean "month"?) (variables has month, months, name, nested, none)',
    );
  });

  it("reports an unknown top-level name", () => {
    const error = renderError("SELECT {{ logical_dat }}");
    expect(error.code).toBe("unknown_variable");
    expect(error.message).toBe('line 1:8: {{ logical_dat }}: unknown name "logical_dat" (did you mean "logical_date"?)');
  });

  it("reports a key under something that is not a map", () => {
    expect(renderError("{{ variables.month.x }}").message).toContain("(variables.month is not a map)");
  });

  it("refuses to bind a map", () => {
    const error = renderError("{{ variables.nested }}");
    expect(error.code).toBe("invalid_value");
    expect(error.message).toContain("is a map and cannot be bound; name one of its keys (a)");
  });

  it("refuses expressions and filters", () => {
    expect(renderError("SELECT {{ variables.month + 1 }}").code).toBe("invalid_template");
    expect(renderError("SELECT {{ variables.name | upper }}").code).toBe("invalid_template");
    expect(renderError("SELECT {{ }}").code).toBe("invalid_template");
  });

  it("refuses an unclosed placeholder, at its line", () => {
    const error = renderError("SELECT 1,\n  {{ variables.month");
    expect(error.code).toBe("invalid_template");
    expect(error.location).toMatchObject({ line: 2, column: 3 });
  });
});

describe("scanSqlTemplate", () => {
  it("lists placeholders with positions", () => {
    expect(scanSqlTemplate("a {{ x }}\n{{y.z}}")).toEqual([
      { expression: "x", start: 2, end: 9, line: 1, column: 3 },
      { expression: "y.z", start: 10, end: 17, line: 2, column: 1 },
    ]);
  });
});

describe("{{ item.x }} in a dynamic instance", () => {
  it("binds the instance's row, and outside an instance says where item exists", () => {
    expect(renderSql("SELECT {{ item.month }}", { variables: {}, item: { month: "2020-10" } }, "f.sql")).toEqual({ sql: "SELECT $1", params: ["2020-10"] });
    expect(() => renderSql("SELECT {{ item.month }}", { variables: {} }, "f.sql")).toThrow(/unknown name "item" \(item is the row of a dynamic instance/);
    expect(() => renderSql("SELECT {{ item.mont }}", { variables: {}, item: { month: "2020-10" } }, "f.sql")).toThrow(/unknown name "item.mont".*item has month/);
  });
});
