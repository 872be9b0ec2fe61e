/**
 * A SQL block with `connection:` run by the real `sluice run`: the executor hands the project's
 * sluice.yaml profiles to the block, the query runs inside the real Postgres over a staged upstream,
 * and a downstream DuckDB block reads the result.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Client } from "pg";
import { writePipeline } from "./write-pipeline";
import { runSluiceSync, type SluiceResult } from "./sluice-process";

const PG_URL = "postgres://postgres@127.0.0.1:5432/test";

function sluice(projectDir: string, args: string[]): SluiceResult {
  return runSluiceSync(projectDir, args, { WAREHOUSE_URL: PG_URL });
}

describe("sluice run with a SQL block that names a Postgres connection", () => {
  let projectDir: string;
  const table = `sluice_cli_fares_${process.pid}`;
  const client = new Client({ connectionString: PG_URL });

  beforeAll(async () => {
    await client.connect();
    await client.query(`CREATE TABLE public.${table} (borough text PRIMARY KEY, base_fare double precision)`);
    await client.query(`INSERT INTO public.${table} VALUES ('Queens', 2.5), ('Bronx', 3)`);
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-sqlconn-cli-"));
    fs.writeFileSync(path.join(projectDir, "sluice.yaml"), "connections:\n  warehouse:\n    kind: postgres\n    url: \"{{ env_var('WAREHOUSE_URL') }}\"\n");
    writePipeline(
      projectDir,
      "elt",
      `version: 1
name: elt
blocks:
  - name: trips
    type: loader
    language: ts
    upstream: []
  - name: fares
    type: transformer
    language: sql
    upstream: [trips]
    connection: warehouse
  - name: totals
    type: transformer
    language: sql
    upstream: [fares]
`,
      {
        "trips.ts": `import { tableFromArrays } from "apache-arrow";
export default async function load() {
  return tableFromArrays({ borough: ["Queens", "Bronx", "Queens", "Brooklyn"], miles: Float64Array.from([1, 2, 3, 4]) });
}
`,
        "fares.sql": `SELECT t.borough, sum(t.miles) AS miles, max(f.base_fare) AS base_fare
FROM trips t LEFT JOIN public.${table} f ON f.borough = t.borough
GROUP BY t.borough ORDER BY t.borough
`,
        "totals.sql": "SELECT count(*) AS boroughs, sum(miles) AS miles, count(base_fare) AS priced FROM fares\n",
      },
    );
  });

  afterAll(async () => {
    await client.query(`DROP TABLE IF EXISTS public.${table}`);
    await client.end();
    fs.rmSync(projectDir, { recursive: true, force: true });
  });

  it("runs the query in Postgres, passes its rows downstream, and drops the staged upstream", async () => {
    const { code, stdout, stderr } = sluice(projectDir, ["run", "elt", "--json"]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    const summary = JSON.parse(stdout) as { run_id: string; status: string; blocks: { name: string; status: string; rows: number | null }[] };
    expect(summary.blocks.map((b) => [b.name, b.status, b.rows])).toEqual([
      ["trips", "success", 4],
      ["fares", "success", 3],
      ["totals", "success", 1],
    ]);
    const totals = JSON.parse(fs.readFileSync(path.join(projectDir, ".sluice", "outputs", summary.run_id, "totals.summary.json"), "utf8")) as {
      summary: { columns: { name: string; min: unknown }[] };
    };
    // Three boroughs, 10 miles in all, and Brooklyn has no fare in the Postgres table.
    expect(Object.fromEntries(totals.summary.columns.map((c) => [c.name, Number(c.min)]))).toEqual({ boroughs: 3, miles: 10, priced: 2 });
    const staged = await client.query(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'sluice_staging' AND table_name LIKE 'trips_%'`);
    expect(staged.rows[0].n).toBe(0);
  });
});
