import { quoteIdentifier, quoteLiteral, trimStatement } from "./sql-text";

describe("trimStatement", () => {
  test.each([
    ["SELECT 1", "SELECT 1", 1],
    ["SELECT 1;", "SELECT 1", 1],
    ["SELECT 1 ; -- done\n", "SELECT 1", 1],
    ["SELECT 1 -- trailing comment", "SELECT 1", 1],
    ["SELECT 1 /* block\ncomment */ ;;  ", "SELECT 1", 1],
    ["SELECT ';' AS a, '--' AS b", "SELECT ';' AS a, '--' AS b", 1],
    ["SELECT 'it''s' AS a;", "SELECT 'it''s' AS a", 1],
    ['SELECT 1 AS ";"', 'SELECT 1 AS ";"', 1],
    ["SELECT 1; SELECT 2", "SELECT 1", 2],
    ["-- only a comment", "", 0],
    ["", "", 0],
  ])("%j", (sql, body, statements) => {
    expect(trimStatement(sql)).toEqual({ body, statements });
  });
});

test("quoting", () => {
  expect(quoteIdentifier('we"ird')).toBe('"we""ird"');
  expect(quoteLiteral("/tmp/it's.parquet")).toBe("'/tmp/it''s.parquet'");
});
