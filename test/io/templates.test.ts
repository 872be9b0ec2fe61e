import { readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { compileBlock } from "../../lib/blocks/compile-block";
import { trimStatement } from "../../lib/arrow/sql-text";
import { renderSql } from "../../lib/core/sql-template";

const TEMPLATES = resolve(__dirname, "../../templates/io");
const tsTemplates = readdirSync(TEMPLATES).filter((f) => f.endsWith(".ts"));
const sqlTemplates = readdirSync(TEMPLATES).filter((f) => f.endsWith(".sql"));

describe("connector block templates", () => {
  let cacheDir: string;
  beforeAll(async () => {
    const cacheRoot = resolve(__dirname, "../../node_modules/.cache");
    await mkdir(cacheRoot, { recursive: true });
    cacheDir = await mkdtemp(join(cacheRoot, "sluice-templates-"));
  });
  afterAll(() => rm(cacheDir, { recursive: true, force: true }));

  it("has a loader and an exporter for every connector", () => {
    for (const connector of ["http_csv", "parquet_file", "duckdb", "postgres", "gcs", "s3", "bigquery"]) {
      expect(tsTemplates).toContain(`${connector}_loader.ts`);
      if (connector !== "http_csv") expect(tsTemplates).toContain(`${connector}_exporter.ts`);
    }
  });

  it.each(tsTemplates)("%s compiles with the block compiler and exports a default function", async (file) => {
    const compiled = await compileBlock(join(TEMPLATES, file), { cacheDir, block: file });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod: unknown = require(compiled);
    // The block compiler wraps the module in a factory (compile-block.ts FACTORY_BANNER): call it as the worker does.
    if (typeof mod !== "function") throw new Error("compiled block is not a factory");
    const module = { exports: {} as Record<string, unknown> };
    Reflect.apply(mod, undefined, [require, module, module.exports, compiled, cacheDir]);
    expect(typeof module.exports.default).toBe("function");
  });

  it.each(sqlTemplates)("%s is one templated statement", (file) => {
    const text = readFileSync(join(TEMPLATES, file), "utf8");
    expect(trimStatement(text).statements).toBe(1);
    expect(() => renderSql(text, { variables: { since: "2020-10-01" } })).not.toThrow();
  });
});
