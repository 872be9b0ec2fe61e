/**
 * docs/reference/ is generated from the code (scripts/gen-reference.ts). This suite fails while it is stale,
 * naming the file, so a change to the SDK types or a YAML schema cannot land without its documentation; and
 * it checks that the pages hold what a newcomer looks up there.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { connectionProfileSchema } from "../../lib/io/profiles";
import { REPO_ROOT } from "../taxi-data";

jest.setTimeout(180_000);

const REFERENCE = path.join(REPO_ROOT, "docs", "reference");

function generator(...args: string[]): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [path.join(REPO_ROOT, "bin", "run-ts.cjs"), path.join(REPO_ROOT, "scripts", "gen-reference.ts"), ...args], {
    cwd: REPO_ROOT,
    encoding: "utf8",
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

function page(file: string): string {
  return fs.readFileSync(path.join(REFERENCE, file), "utf8");
}

/** The row of a Markdown key table whose first cell is `key`. */
function row(markdown: string, key: string): string {
  const found = markdown.split("\n").find((line) => line.startsWith(`| \`${key}\` |`));
  if (!found) throw new Error(`no row for ${key}`);
  return found;
}

/** The Markdown between a heading and the next heading of the same or a higher level. */
function section(markdown: string, heading: string): string {
  const level = /^#+/.exec(heading)?.[0].length ?? 0;
  const start = markdown.indexOf(`${heading}\n`);
  if (start === -1) throw new Error(`no section "${heading}"`);
  const rest = markdown.slice(start + heading.length + 1);
  const end = rest.search(new RegExp(`^#{1,${level}} `, "m"));
  return end === -1 ? rest : rest.slice(0, end);
}

describe("docs/reference (generated from the code)", () => {
  it("is up to date: regenerating it changes nothing (run `npm run docs:reference` when this fails)", () => {
    const { status, output } = generator("--check");
    if (status !== 0) throw new Error(output);
    expect(output).toMatch(/up to date \(6 files\)/);
  });

  it("names every stale, missing and extra file of a reference that drifted from the code", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-reference-"));
    try {
      fs.cpSync(REFERENCE, dir, { recursive: true });
      fs.appendFileSync(path.join(dir, "io.md"), "\nA hand edit.\n");
      fs.rmSync(path.join(dir, "triggers-yaml.md"));
      fs.writeFileSync(path.join(dir, "old-page.md"), "# gone\n");
      const { status, output } = generator("--check", dir);
      expect(status).toBe(1);
      expect(output).toMatch(/io\.md is stale/);
      expect(output).toMatch(/triggers-yaml\.md is missing/);
      expect(output).toMatch(/old-page\.md is not generated any more/);
      expect(output).toContain("npm run docs:reference");
      expect(output).not.toMatch(/block-context\.md|pipeline-yaml\.md/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("documents ctx.io.http.read with its target's options, inherited ones included, and their TSDoc", () => {
    const io = page("io.md");
    expect(section(io, "#### ctx.io.http.read")).toContain("ctx.io.http.read(target: string | UrlRef, options?: IoCallOptions): Promise<Table>");
    const urlRef = section(io, "### UrlRef");
    expect(row(urlRef, "url")).toContain("base_url");
    expect(row(urlRef, "columns?")).toMatch(/DuckDB type.*\(from `CsvParseOptions`\)/);
    expect(row(urlRef, "on_bad_rows?")).toMatch(/skip them, or pad short rows with NULLs/);
    // A generic base's type parameters are filled in as block code sees them.
    expect(section(io, "#### ctx.io.files.write")).toContain("target: string | FileRef, options?: IoWriteOptions");
    expect(row(section(io, "### PostgresWriteOptions"), "replaceWhere?")).toMatch(/in one transaction/);
  });

  it("lists every ctx.io connector and every BlockContext member", () => {
    const io = page("io.md");
    for (const connector of ["postgres(name?)", "duckdb(name?)", "files", "http", "gcs(name?)", "s3(name?)", "bigquery(name?)"]) {
      expect(io).toContain(`### ctx.io.${connector}\n`);
    }
    const context = page("block-context.md");
    for (const member of ["runId", "logicalDate", "dataInterval", "variables", "env", "log", "signal", "inputs", "progress", "sql", "io"]) {
      expect(context).toContain(`### ctx.${member}\n`);
    }
    expect(section(context, "### ctx.sql")).toContain("ctx.sql(query: string, params?: readonly SqlParam[]): Promise<Table>");
  });

  it("has a section of keys for every connection kind sluice.yaml accepts", () => {
    const sluiceYaml = page("sluice-yaml.md");
    const kinds = connectionProfileSchema.options.map((option) => option.shape.kind.value);
    expect(kinds.length).toBeGreaterThanOrEqual(7);
    for (const kind of kinds) expect(sluiceYaml).toContain(`## kind: ${kind}\n`);
    expect(row(section(sluiceYaml, "## kind: postgres"), "port")).toMatch(/\| integer \| no \| `5432` \|/);
    expect(row(section(sluiceYaml, "## kind: http"), "retries")).toMatch(/\| `4` \|/);
  });

  it("gives pipeline.yaml and triggers.yaml keys with their types, defaults and descriptions", () => {
    const pipeline = page("pipeline-yaml.md");
    expect(row(pipeline, "retries.count")).toMatch(/\| integer \| no \| `0` \| Extra attempts after the first one\. \|/);
    expect(row(pipeline, "timeout")).toMatch(/duration/);
    expect(row(pipeline, "type")).toContain("loader \\| transformer \\| exporter \\| sensor");
    expect(row(pipeline, "version")).toMatch(/\| yes \|/);
    const triggers = page("triggers-yaml.md");
    const schedule = section(triggers, "## A trigger with `type: schedule`");
    expect(row(schedule, "timezone")).toMatch(/\| `UTC` \|/);
    expect(row(schedule, "missed_run_policy")).toMatch(/none \\\| latest \\\| all \| no \| `latest` \|/);
    expect(row(section(triggers, "## A trigger with `type: api`"), "variables_allowed")).toMatch(/refused/);
  });
});
