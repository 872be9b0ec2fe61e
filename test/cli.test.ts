import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Client } from "pg";
import { REPO_ROOT, taxiDataDir } from "./taxi-data";

/** Runs the real `sluice` command in a project folder, as a user would. */
function sluice(projectDir: string, args: string[]) {
  const result = spawnSync(process.execPath, [path.join(REPO_ROOT, "bin", "sluice.cjs"), ...args], {
    cwd: projectDir,
    env: { ...process.env, SLUICE_PROJECT_DIR: projectDir },
    encoding: "utf8",
    timeout: 240_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface JsonSummary {
  run_id: string;
  status: string;
  blocks: { name: string; status: string; rows: number | null; duration_ms: number | null; error?: string }[];
}

describe("sluice run (the CLI, end to end)", () => {
  let projectDir: string;

  beforeAll(() => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-cli-"));
    fs.cpSync(path.join(REPO_ROOT, "pipelines"), path.join(projectDir, "pipelines"), { recursive: true });
  });

  afterAll(() => fs.rmSync(projectDir, { recursive: true, force: true }));

  it("runs hello with no network and no database server, and writes its Parquet file for today's logical date", () => {
    const { code, stdout, stderr } = sluice(projectDir, ["run", "hello", "--json"]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const summary = JSON.parse(stdout) as JsonSummary;
    expect(summary.status).toBe("success");
    expect(summary.blocks.map((b) => [b.name, b.status, b.rows])).toEqual([
      ["load_trips", "success", 1000],
      ["fares_by_borough", "success", 5],
      ["export_parquet", "success", null],
    ]);
    // A run started by hand stands for now: its file is the partition of today's UTC date (checked on both sides of a midnight).
    const days = fs.readdirSync(path.join(projectDir, ".sluice", "lake", "hello", "fares_by_borough"));
    expect(days).toHaveLength(1);
    expect(days[0]).toMatch(/^date=\d{4}-\d{2}-\d{2}$/);
    expect(Math.abs(Date.parse(days[0].slice(5)) - Date.now())).toBeLessThan(2 * 86_400_000);
    expect(fs.readdirSync(path.join(projectDir, ".sluice", "lake", "hello", "fares_by_borough", days[0]))).toEqual(["part.parquet"]);
  });

  it("runs green_taxi_etl on the real TLC files: 266,855 rows loaded, a lake partitioned by pickup date", () => {
    const lake = path.join(projectDir, "lake");
    const { code, stdout, stderr } = sluice(projectDir, [
      "run",
      "green_taxi_etl",
      "--var",
      `base_url=${pathToFileURL(taxiDataDir()).href}`,
      "--var",
      `lake_dir=${lake}`,
      "--json",
    ]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const summary = JSON.parse(stdout) as JsonSummary;
    const rows = Object.fromEntries(summary.blocks.map((b) => [b.name, b.rows]));
    expect(rows.load_green_taxi).toBe(266_855);
    expect(rows.clean_trips).toBeGreaterThan(100_000);
    expect(rows.clean_trips).toBeLessThan(266_855);
    const partitions = fs.readdirSync(lake).filter((d) => d.startsWith("lpep_pickup_date="));
    expect(partitions).toContain("lpep_pickup_date=2020-10-01");
    expect(partitions.length).toBeGreaterThan(90);
  });

  it("exports green_taxi_etl to the real Postgres through ctx.io, and a re-run of the exporter replaces the table", async () => {
    const schema = `cli_${process.pid}_${Date.now()}`;
    fs.writeFileSync(path.join(projectDir, "sluice.yaml"), "connections:\n  default: { kind: postgres, url: \"{{ env_var('SLUICE_TEST_PG', 'postgres://postgres@127.0.0.1:5432/test') }}\" }\n");
    const client = new Client({ connectionString: "postgres://postgres@127.0.0.1:5432/test" });
    await client.connect();
    try {
      const vars = ["--var", `base_url=${pathToFileURL(taxiDataDir()).href}`, "--var", "export_postgres=true", "--var", `pg_schema=${schema}`, "--var", `lake_dir=${path.join(projectDir, "lake2")}`];
      const first = sluice(projectDir, ["run", "green_taxi_etl", ...vars, "--json"]);
      expect(first.stderr).toBe("");
      expect(first.code).toBe(0);
      const count = async () => Number((await client.query(`SELECT count(*) AS n FROM "${schema}".green_trips`)).rows[0].n);
      expect(await count()).toBe(139_370);
      // ehail_fee is empty in every row of the source: nulls must arrive as nulls, not zeros.
      const nulls = await client.query(`SELECT count(*) AS n FROM "${schema}".green_trips WHERE ehail_fee IS NULL`);
      expect(Number(nulls.rows[0].n)).toBe(139_370);
      const again = sluice(projectDir, ["run", "green_taxi_etl", "--block", "to_postgres", ...vars, "--json"]);
      expect(again.code).toBe(0);
      expect((JSON.parse(again.stdout) as JsonSummary).blocks.map((b) => b.name)).toEqual(["to_postgres"]);
      expect(await count()).toBe(139_370);
    } finally {
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
      fs.rmSync(path.join(projectDir, "sluice.yaml"), { force: true });
    }
  }, 600_000);

  it("prints live progress lines when not on a terminal, and exits 1 when a block fails", () => {
    const dir = path.join(projectDir, "pipelines", "throws");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, "pipeline.yaml"),
      "version: 1\nname: throws\ndescription: fails\nblocks:\n  - { name: bad, type: loader, language: ts, upstream: [] }\n",
    );
    fs.writeFileSync(path.join(dir, "bad.ts"), 'export default async function load() {\n  throw new Error("no such table: trips");\n}\n');
    const { code, stdout } = sluice(projectDir, ["run", "throws"]);
    expect(code).toBe(1);
    expect(stdout).toContain("bad: running");
    expect(stdout).toContain("bad: failed");
    expect(stdout).toContain("no such table: trips");
    expect(stdout).toMatch(/bad\.ts:2/);
  });

  it("rejects invalid YAML with the file and line, exit code 2, and records no run", () => {
    const dir = path.join(projectDir, "pipelines", "bad_yaml");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "pipeline.yaml"), "version: 1\nname: bad_yaml\nblocks:\n  - name: a\n    type: [loader\n");
    const { code, stderr } = sluice(projectDir, ["run", "bad_yaml"]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/pipeline\.yaml:\d+/);
  });

  it("explains usage errors", () => {
    const { code, stderr } = sluice(projectDir, ["run"]);
    expect(code).toBe(2);
    expect(stderr).toContain("usage: sluice run <pipeline>");
  });
});
