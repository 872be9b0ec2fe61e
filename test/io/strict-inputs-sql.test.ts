/**
 * Strict inputs in SQL blocks, run by the real `sluice run`: DuckDB's own read_csv / read_csv_auto /
 * read_parquet (and a quoted path in FROM) over damaged copies of the real taxi files must fail the block
 * naming the file — DuckDB alone loads a .csv.gz cut on a line boundary as success — while DuckDB's own
 * `ignore_errors = true` opts a call in and logs how many rows it dropped. A TS block's `ctx.io.files.read`
 * with `on_bad_rows` shows its warning in the block log the same way.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runSluice, type SluiceResult } from "../sluice-process";
import { writePipeline } from "../write-pipeline";
import { writeBadCopies, type BadCopies } from "./strict-inputs-fixtures";

jest.setTimeout(300_000);

function sluice(projectDir: string, args: string[]): Promise<SluiceResult> {
  return runSluice(projectDir, args);
}

const SQL_BLOCKS: Record<string, string> = {
  cut_on_line: "SELECT count(*) AS n FROM read_csv('data/green-cut-line.csv.gz')",
  cut_mid_line: "SELECT * FROM read_csv_auto('data/green-cut-mid.csv.gz')",
  cut_by_variable: "SELECT count(*) AS n FROM read_csv({{ variables.green }})",
  cut_in_glob: "SELECT count(*) AS n FROM read_csv('data/glob/*.csv.gz')",
  ragged_from_path: "SELECT * FROM 'data/green-ragged.csv'",
  ragged_in_cte: "WITH t AS (SELECT * FROM read_csv('data/green-ragged.csv', header = true)) SELECT count(*) AS n FROM t",
  wrong_type: "SELECT * FROM read_csv('data/green-typed.csv')",
  cut_parquet: "SELECT count(*) AS n FROM read_parquet('data/green-cut.parquet')",
  tolerant: "SELECT count(*) AS n FROM read_csv('data/green-ragged.csv', ignore_errors = true)",
  header_only: "SELECT * FROM read_csv('data/green-header-only.csv')",
};

const TS_TOLERANT = `import type { Table } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";

export default async function load(ctx: BlockContext): Promise<Table> {
  return ctx.io.files.read({ path: "data/green-ragged.csv", on_bad_rows: "skip" });
}
`;

const TS_CTX_SQL = `import type { Table } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";

export default async function load(ctx: BlockContext): Promise<Table> {
  return ctx.sql("SELECT count(*) AS n FROM read_csv('data/green-cut-line.csv.gz')");
}
`;

describe("SQL blocks read files strictly too", () => {
  let projectDir: string;
  let bad: BadCopies;

  beforeAll(async () => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-strict-sql-"));
    bad = await writeBadCopies(path.join(projectDir, "data"));
    fs.mkdirSync(path.join(projectDir, "data", "glob"));
    fs.copyFileSync(path.join(projectDir, "data", "green-cut-line.csv.gz"), path.join(projectDir, "data", "glob", "a.csv.gz"));
    fs.writeFileSync(path.join(projectDir, "sluice.yaml"), "connections:\n  local: { kind: files, root: . }\n");
    const names = [...Object.keys(SQL_BLOCKS), "ts_tolerant", "ts_ctx_sql"];
    const yaml =
      "version: 1\nname: strict\nblocks:\n" +
      names.map((name) => `  - { name: ${name}, type: loader, language: ${name.startsWith("ts_") ? "ts" : "sql"}, upstream: [], retries: { count: 0 } }\n`).join("");
    const files: Record<string, string> = { "ts_tolerant.ts": TS_TOLERANT, "ts_ctx_sql.ts": TS_CTX_SQL };
    for (const [name, sql] of Object.entries(SQL_BLOCKS)) files[`${name}.sql`] = `${sql}\n`;
    writePipeline(projectDir, "strict", yaml, files);
  });

  afterAll(() => {
    if (projectDir) fs.rmSync(projectDir, { recursive: true, force: true });
  });

  it("each damaged file fails its block naming the file; the tolerant reads succeed and log their rejects", async () => {
    const run = await sluice(projectDir, ["run", "strict", "--var", "green=data/green-cut-line.csv.gz"]);
    const lines = run.stdout.split("\n");
    const failure = (block: string): string => {
      const at = lines.findIndex((line) => line.startsWith(`${block}: failed`));
      if (at < 0) throw new Error(`no "${block}: failed" line in:\n${run.stdout}\n${run.stderr}`);
      return lines[at + 1].trim();
    };
    const where = (block: string): string => `block ${block} (pipelines/strict/${block}.sql): `;
    expect(failure("cut_on_line")).toBe(`${where("cut_on_line")}data/green-cut-line.csv.gz: the .gz file is truncated or damaged (unexpected end of file)`);
    expect(failure("cut_mid_line")).toMatch(/data\/green-cut-mid\.csv\.gz: the \.gz file is truncated or damaged/);
    expect(failure("cut_by_variable")).toContain("data/green-cut-line.csv.gz: the .gz file is truncated or damaged");
    expect(failure("cut_in_glob")).toContain("data/glob/a.csv.gz: the .gz file is truncated or damaged");
    expect(failure("ragged_from_path")).toContain(`data/green-ragged.csv: CSV line ${bad.shortLine}: expected 20 columns, found 17`);
    expect(failure("ragged_in_cte")).toContain(`data/green-ragged.csv: CSV line ${bad.shortLine}: expected 20 columns, found 17`);
    expect(failure("wrong_type")).toBe(`${where("wrong_type")}data/green-typed.csv: CSV line ${bad.typedLine}: column "PULocationID": cannot convert "abc" to BIGINT`);
    expect(failure("cut_parquet")).toMatch(/data\/green-cut\.parquet: not a complete Parquet file/);
    // ctx.sql in a TypeScript block checks the files its query reads the same way.
    expect(failure("ts_ctx_sql")).toContain("data/green-cut-line.csv.gz: the .gz file is truncated or damaged");

    const logged = (block: string): string[] => lines.filter((line) => line.startsWith(`  [${block}] `)).map((line) => line.slice(`  [${block}] `.length));
    expect(run.stdout).not.toMatch(/^tolerant: failed/m);
    expect(logged("tolerant")).toContainEqual(expect.stringMatching(new RegExp(`^data/green-ragged\\.csv: 2 bad rows skipped \\(ignore_errors = true; .*line ${bad.shortLine}: .*line ${bad.longLine}: `)));
    expect(logged("tolerant")).toContainEqual("tolerant: 1 rows, 1 columns");
    expect(logged("header_only")).toContainEqual("data/green-header-only.csv: the file has a header (20 columns) but no rows: the result is empty");
    expect(run.stdout).not.toMatch(/^ts_tolerant: failed/m);
    expect(logged("ts_tolerant")).toContainEqual(expect.stringMatching(/^data\/green-ragged\.csv: 2 bad rows skipped \(on_bad_rows: "skip"\)/));
  });
});
