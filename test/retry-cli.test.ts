/**
 * Run semantics through the real `sluice` command: a Postgres exporter as the upstream of a SQL block that
 * runs in Postgres over the exported table (dependency without data), and `sluice retry` re-running the
 * failed block inside the same run.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Client } from "pg";
import { taxiDataDir } from "./taxi-data";
import { writePipeline } from "./write-pipeline";
import { runSluiceSync, type SluiceResult } from "./sluice-process";

const PG_URL = "postgres://postgres@127.0.0.1:5432/test";

interface JsonSummary {
  run_id: string;
  status: string;
  blocks: { name: string; status: string; attempts: number; rows: number | null; error?: string }[];
}

function sluice(projectDir: string, args: string[]): SluiceResult {
  return runSluiceSync(projectDir, args, { WAREHOUSE_URL: PG_URL });
}

describe("sluice run / sluice retry: exporters as upstreams, retry in place", () => {
  let projectDir: string;
  const table = `sluice_retry_cli_trips_${process.pid}`;
  const flag = path.join(os.tmpdir(), `sluice-retry-cli-flag-${process.pid}`);
  const client = new Client({ connectionString: PG_URL });

  beforeAll(async () => {
    await client.connect();
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-retry-cli-"));
    fs.writeFileSync(path.join(projectDir, "sluice.yaml"), "connections:\n  warehouse:\n    kind: postgres\n    url: \"{{ env_var('WAREHOUSE_URL') }}\"\n");
    const csv = path.join(taxiDataDir(), "green_tripdata_2020-10.csv.gz");
    writePipeline(
      projectDir,
      "elt_in_pg",
      `version: 1
name: elt_in_pg
variables: { csv: ${JSON.stringify(csv)}, table: ${table}, flag: ${JSON.stringify(flag)} }
blocks:
  - { name: load_trips, type: loader, language: sql, upstream: [] }
  - { name: export_trips, type: exporter, language: ts, upstream: [load_trips] }
  - name: trips_by_payment
    type: transformer
    language: sql
    upstream: [export_trips]
    connection: warehouse
  - { name: needs_flag, type: transformer, language: ts, upstream: [trips_by_payment] }
`,
      {
        "load_trips.sql": "SELECT * FROM read_csv({{ variables.csv }}, header = true, sample_size = -1, types = {'ehail_fee': 'DOUBLE'}) LIMIT 5000",
        "export_trips.ts": `export default async function save(input, ctx) {
  const result = await ctx.io.postgres("warehouse").write(input, { schema: "public", table: String(ctx.variables.table) }, { mode: "replace" });
  ctx.log.info("exported " + result.rows + " rows with " + input.schema.fields.length + " columns");
}`,
        "trips_by_payment.sql": `SELECT payment_type, count(*) AS trips, round(sum(total_amount)::numeric, 2)::float8 AS total FROM public.${table} GROUP BY payment_type ORDER BY payment_type NULLS LAST`,
        "needs_flag.ts": `import fs from "node:fs";
export default async function t(input, ctx) {
  if (!fs.existsSync(String(ctx.variables.flag))) throw new Error("flag file missing");
  return [{ groups: input.numRows, logical_date: ctx.logicalDate.toISOString() }];
}`,
      },
    );
  });

  afterAll(async () => {
    await client.query(`DROP TABLE IF EXISTS public.${table}`);
    await client.end();
    fs.rmSync(flag, { force: true });
    fs.rmSync(projectDir, { recursive: true, force: true });
  });

  it("exports to Postgres, transforms the exported table there, and retries the failed block inside the same run", async () => {
    const first = sluice(projectDir, ["run", "elt_in_pg", "--json", "--logical-date", "2026-10-01T00:00:00Z"]);
    // The exit code of a failed `sluice run` is the run command's concern; this test reads its JSON.
    expect(first.stderr).toBe("");
    const failed = JSON.parse(first.stdout) as JsonSummary;
    expect(failed.blocks.map((b) => [b.name, b.status])).toEqual([
      ["load_trips", "success"],
      ["export_trips", "success"],
      ["trips_by_payment", "success"],
      ["needs_flag", "failed"],
    ]);
    expect(failed.blocks[0].rows).toBe(5000);
    expect(failed.blocks[1].rows).toBeNull(); // an exporter has no output
    const exported = await client.query(`SELECT count(*)::int AS n, count(*) FILTER (WHERE true) AS c FROM public.${table}`);
    expect(exported.rows[0].n).toBe(5000);
    const columns = await client.query(`SELECT count(*)::int AS n FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1`, [table]);
    expect(columns.rows[0].n).toBe(20);
    const expected = await client.query(`SELECT count(DISTINCT payment_type)::int + (CASE WHEN bool_or(payment_type IS NULL) THEN 1 ELSE 0 END) AS groups FROM public.${table}`);
    expect(failed.blocks[2].rows).toBe(expected.rows[0].groups);

    fs.writeFileSync(flag, "ok");
    const retried = sluice(projectDir, ["retry", failed.run_id, "--json"]);
    expect({ code: retried.code, stderr: retried.stderr }).toEqual({ code: 0, stderr: "" });
    const summary = JSON.parse(retried.stdout) as JsonSummary;
    expect(summary.run_id).toBe(failed.run_id);
    expect(summary.status).toBe("success");
    expect(summary.blocks.map((b) => [b.name, b.status, b.attempts])).toEqual([
      ["load_trips", "success", 1],
      ["export_trips", "success", 1],
      ["trips_by_payment", "success", 1],
      ["needs_flag", "success", 2],
    ]);
    expect(summary.blocks[3].error).toBeUndefined();
    const out = JSON.parse(fs.readFileSync(path.join(projectDir, ".sluice", "outputs", failed.run_id, "needs_flag.summary.json"), "utf8")) as {
      summary: { columns: { name: string; min: unknown }[] };
    };
    expect(out.summary.columns.find((c) => c.name === "logical_date")?.min).toBe("2026-10-01T00:00:00.000Z");

    const again = sluice(projectDir, ["retry", failed.run_id]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/no failed, upstream_failed or cancelled block to retry/);
  }, 300_000);
});
