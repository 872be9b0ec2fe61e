import { readFileSync } from "node:fs";
import path from "node:path";
import { folderLayers, REPO_ROOT } from "./eslint-cli";

/**
 * The "may import" cell of each row of docs/ARCHITECTURE.md's folders table, as folder paths. Cells list
 * folders separated by commas; remarks in parentheses are prose; lib folders may be named without `lib/`.
 */
function mayImportColumn(markdown: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of markdown.split("\n")) {
    const row = /^\| `([^`]+)\/` \| .* \|\s*([^|]*?)\s*\|$/.exec(line);
    if (!row) continue;
    const [, folder, cell] = row;
    const names = cell
      .replace(/\([^)]*\)/g, "")
      .split(",")
      .map((name) => name.trim())
      .filter((name) => name !== "" && !name.startsWith("nothing"));
    rows.set(
      folder,
      names.map((name) => (name.startsWith("lib/") || name === "app" || name === "components" ? name : `lib/${name}`)),
    );
  }
  return rows;
}

describe("docs/ARCHITECTURE.md folders table", () => {
  test("its 'may import' column is the folder-boundaries lint rule", async () => {
    const table = mayImportColumn(readFileSync(path.join(REPO_ROOT, "docs/ARCHITECTURE.md"), "utf8"));
    const layers = await folderLayers("lib/core/errors.ts");
    const fromRule = Object.entries(layers).map(([folder, rule]) => [folder, [...rule.allow, ...(rule.typeOnly ?? [])].sort()]);
    const fromTable = Object.keys(layers).map((folder) => [folder, [...(table.get(folder) ?? ["(no row)"])].sort()]);
    expect(fromTable).toEqual(fromRule);
  });

  test("the table reader understands remarks, short lib names and 'nothing'", () => {
    const table = mayImportColumn(
      [
        "| `lib/core/` | pure | nothing but itself (eslint enforces it) |",
        "| `lib/store/` | files, outputs | arrow, core, io/cloud (the output mirror) |",
        "| `components/` | UI | lib/core, lib/server (types only: `import type`) |",
        "| `scripts/` | build helpers | |",
      ].join("\n"),
    );
    expect(table.get("lib/core")).toEqual([]);
    expect(table.get("lib/store")).toEqual(["lib/arrow", "lib/core", "lib/io/cloud"]);
    expect(table.get("components")).toEqual(["lib/core", "lib/server"]);
    expect(table.get("scripts")).toEqual([]);
  });
});
