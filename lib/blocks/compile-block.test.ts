import { mkdtempSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UserError } from "../core/errors";
import { compileBlock } from "./compile-block";

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "sluice-compile-"));
  mkdirSync(join(dir, "p"));
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

test("bundles local imports, keeps packages external, aliases @sluice/sdk; caches by content", async () => {
  writeFileSync(join(dir, "p", "helper.ts"), "export const factor: number = 2;\n");
  const block = join(dir, "p", "b.ts");
  writeFileSync(
    block,
    'import { tableFromArrays } from "apache-arrow";\nimport { check } from "@sluice/sdk";\nimport { factor } from "./helper";\nexport default async function load() { check(factor > 0, "x"); return tableFromArrays({ a: [factor] }); }\n',
  );
  const cacheDir = join(dir, "cache");
  const first = await compileBlock(block, { cacheDir });
  const code = readFileSync(first, "utf8");
  expect(code).toContain('require("apache-arrow")');
  expect(code).toContain("var factor = 2;");
  expect(code).toContain("function check(");
  expect(code).toContain("sourceMappingURL=data:application/json;base64,");
  const mtime = statSync(first).mtimeMs;

  expect(await compileBlock(block, { cacheDir })).toBe(first);
  expect(statSync(first).mtimeMs).toBe(mtime);

  // A change in an imported local file invalidates the cached bundle even though the block did not change.
  writeFileSync(join(dir, "p", "helper.ts"), "export const factor: number = 3;\n");
  const again = await compileBlock(block, { cacheDir });
  expect(readFileSync(again, "utf8")).toContain("var factor = 3;");
});

test("a syntax error is a UserError at file:line:column, relative to the display root", async () => {
  const block = join(dir, "p", "bad.ts");
  writeFileSync(block, "export default function () {\n  const x = ;\n}\n");
  const error = await compileBlock(block, { cacheDir: join(dir, "cache"), displayRoot: dir, block: "bad" }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(UserError);
  expect(error instanceof UserError && error.message).toBe('p/bad.ts:2:13: Unexpected ";"\n  const x = ;');
  expect(error instanceof UserError && error.location).toMatchObject({ file: block, line: 2, column: 13, block: "bad" });
});
