import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Client } from "pg";
import { BigQueryConnector } from "../../lib/io/cloud/bigquery";
import { startBigQueryServer, type BigQueryServer } from "../servers/bigquery-server";
import { startGcsServer, type GcsServer } from "../servers/gcs-server";
import { REPO_ROOT, taxiDataDir } from "../taxi-data";
import { nativeBigQueryDeps } from "./native-modules";
import { runSluice, type SluiceResult } from "../sluice-process";

// The whole example pipeline on the real TLC files, three times, on a machine shared with other test runs.
jest.setTimeout(900_000);

const PG_URL = "postgres://postgres@127.0.0.1:5432/test";
const CLEANED_ROWS = 139_370;

interface JsonSummary {
  status: string;
  blocks: { name: string; status: string; rows: number | null; error?: string }[];
}

function sluice(projectDir: string, args: string[]): Promise<SluiceResult> {
  return runSluice(projectDir, args, { PG_URL });
}

/** stderr without Node's warning that newer AWS SDKs will need Node 22 (printed when the S3 client loads). */
function realErrors(stderr: string): string {
  return stderr.includes("NodeVersionSupportWarning") ? "" : stderr;
}

describe("green_taxi_etl to Postgres, a GCS lake and BigQuery (real files, real Postgres, local GCS + BigQuery servers)", () => {
  let projectDir: string;
  let gcsServer: GcsServer;
  let bqServer: BigQueryServer;
  let bq: BigQueryConnector;
  let pg: Client;
  const schema = `green_cloud_${process.pid}_${Date.now()}`;
  let vars: string[];

  beforeAll(async () => {
    gcsServer = await startGcsServer();
    gcsServer.createBucket("zoomcamp-lake");
    bqServer = await startBigQueryServer({ readGcsObject: gcsServer.readObject, listGcsObjects: gcsServer.listObjects });
    bq = new BigQueryConnector({ name: "check", projectId: "local-project", apiEndpoint: bqServer.url }, nativeBigQueryDeps());
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-green-cloud-"));
    fs.cpSync(path.join(REPO_ROOT, "pipelines", "green_taxi_etl"), path.join(projectDir, "pipelines", "green_taxi_etl"), { recursive: true });
    fs.writeFileSync(
      path.join(projectDir, "sluice.yaml"),
      [
        "connections:",
        "  pg: { kind: postgres, url: \"{{ env_var('PG_URL') }}\" }",
        `  lake: { kind: gcs, bucket: zoomcamp-lake, project_id: local-project, api_endpoint: "${gcsServer.url}" }`,
        `  warehouse: { kind: bigquery, project_id: local-project, dataset: zoomcamp, location: US, api_endpoint: "${bqServer.url}" }`,
        "",
      ].join("\n"),
    );
    vars = [
      ["base_url", pathToFileURL(taxiDataDir()).href],
      ["lake_dir", path.join(projectDir, "lake")],
      ["export_postgres", "true"],
      ["pg_connection", "pg"],
      ["pg_schema", schema],
      ["pg_table", "trips_clean"],
      ["export_gcs", "true"],
      ["gcs_connection", "lake"],
      ["gcs_uri", "green_taxi/"],
      ["load_bigquery", "true"],
      ["bq_connection", "warehouse"],
      ["bq_table", "green_trips"],
    ].flatMap(([k, v]) => ["--var", `${k}=${v}`]);
    pg = new Client({ connectionString: PG_URL });
    await pg.connect();
  });

  afterAll(async () => {
    await pg?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pg?.end();
    await bq?.close();
    await bqServer?.close();
    await gcsServer?.close();
    if (projectDir) fs.rmSync(projectDir, { recursive: true, force: true });
  });

  const bqValue = async (sql: string): Promise<unknown> => (await bq.read({ query: sql, defaultDataset: "zoomcamp" })).get(0)?.toJSON();
  const lakeObjects = () => gcsServer.listObjects("zoomcamp-lake", "green_taxi/");

  it("runs every exporter green; the same rows and values arrive in Postgres, GCS and BigQuery", async () => {
    const run = await sluice(projectDir, ["run", "green_taxi_etl", ...vars, "--json"]);
    expect(realErrors(run.stderr)).toBe("");
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as JsonSummary;
    expect(Object.fromEntries(summary.blocks.map((b) => [b.name, b.status]))).toEqual({
      months: "success",
      "green_files[2020-10]": "success",
      "green_files[2020-11]": "success",
      "green_files[2020-12]": "success",
      green_files: "success",
      load_green_taxi: "success",
      clean_trips: "success",
      export_lake: "success",
      to_postgres: "success",
      to_gcs: "success",
      to_bigquery: "success",
    });
    expect(summary.blocks.find((b) => b.name === "clean_trips")?.rows).toBe(CLEANED_ROWS);

    // GCS: one object per pickup date (hive style), and the manifest to_gcs returned lists exactly them.
    const objects = lakeObjects();
    expect(objects.every((name) => /^green_taxi\/lpep_pickup_date=\d{4}-\d{2}-\d{2}\/source_month=\d{4}-\d{2}\/part-.*\.parquet$/.test(name))).toBe(true);
    expect(summary.blocks.find((b) => b.name === "to_gcs")?.rows).toBe(objects.length);
    // One object per (pickup day, source file) partition.
    const partitions = (await pg.query(`SELECT count(DISTINCT (lpep_pickup_date, source_month)) AS n FROM "${schema}".trips_clean`)).rows[0] as { n: string };
    expect(objects.length).toBe(Number(partitions.n));

    // Postgres and BigQuery hold the same rows: counts, nulls, sums, and the pickup instants at both ends.
    const fromPg = (
      await pg.query(
        `SELECT count(*) AS n, count(*) FILTER (WHERE ehail_fee IS NULL) AS null_ehail, count(*) FILTER (WHERE vendor_id IS NULL) AS null_vendor,
                round(sum(total_amount)::numeric, 2)::text AS total, sum(pu_location_id)::text AS pu_sum,
                extract(epoch FROM min(lpep_pickup_datetime))::bigint::text AS first_pickup, extract(epoch FROM max(lpep_pickup_datetime))::bigint::text AS last_pickup
         FROM "${schema}".trips_clean`,
      )
    ).rows[0] as Record<string, string>;
    expect(Number(fromPg.n)).toBe(CLEANED_ROWS);
    expect(Number(fromPg.null_ehail)).toBe(CLEANED_ROWS);
    const fromBq = await bqValue(
      `SELECT count(*) AS n, count(*) FILTER (WHERE ehail_fee IS NULL) AS null_ehail, count(*) FILTER (WHERE vendor_id IS NULL) AS null_vendor,
              CAST(round(sum(total_amount), 2) AS VARCHAR) AS total, CAST(sum(pu_location_id) AS VARCHAR) AS pu_sum,
              CAST(epoch(min(lpep_pickup_datetime)) AS BIGINT) AS first_pickup, CAST(epoch(max(lpep_pickup_datetime)) AS BIGINT) AS last_pickup
       FROM green_trips`,
    );
    expect(fromBq).toEqual({
      n: BigInt(CLEANED_ROWS),
      null_ehail: BigInt(CLEANED_ROWS),
      null_vendor: BigInt(fromPg.null_vendor),
      total: fromPg.total,
      pu_sum: fromPg.pu_sum,
      first_pickup: BigInt(fromPg.first_pickup),
      last_pickup: BigInt(fromPg.last_pickup),
    });
  });

  it("re-running the exporters replaces: same object count in GCS, same rows in Postgres and BigQuery", async () => {
    const before = lakeObjects();
    const gcsAndBq = await sluice(projectDir, ["run", "green_taxi_etl", "--block", "to_gcs", "--downstream", ...vars, "--json"]);
    expect(realErrors(gcsAndBq.stderr)).toBe("");
    expect(gcsAndBq.code).toBe(0);
    expect((JSON.parse(gcsAndBq.stdout) as JsonSummary).blocks.map((b) => [b.name, b.status])).toEqual([
      ["to_gcs", "success"],
      ["to_bigquery", "success"],
    ]);
    const after = lakeObjects();
    expect(after.length).toBe(before.length);
    expect(after.filter((name) => before.includes(name))).toEqual([]);
    expect(await bqValue("SELECT count(*) AS n FROM green_trips")).toEqual({ n: BigInt(CLEANED_ROWS) });

    const pgAgain = await sluice(projectDir, ["run", "green_taxi_etl", "--block", "to_postgres", ...vars, "--json"]);
    expect(pgAgain.code).toBe(0);
    expect(Number((await pg.query(`SELECT count(*) AS n FROM "${schema}".trips_clean`)).rows[0].n)).toBe(CLEANED_ROWS);
  });

  it("with the cloud variables off (the default), the cloud blocks skip and need no connection", async () => {
    fs.renameSync(path.join(projectDir, "sluice.yaml"), path.join(projectDir, "sluice.yaml.off"));
    try {
      const run = await sluice(projectDir, ["run", "green_taxi_etl", "--block", "to_gcs", "--downstream", "--var", `base_url=${pathToFileURL(taxiDataDir()).href}`, "--json"]);
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      const blocks = (JSON.parse(run.stdout) as JsonSummary).blocks;
      expect(blocks.map((b) => [b.name, b.status, b.rows])).toEqual([
        ["to_gcs", "success", 0],
        ["to_bigquery", "success", null],
      ]);
    } finally {
      fs.renameSync(path.join(projectDir, "sluice.yaml.off"), path.join(projectDir, "sluice.yaml"));
    }
  });
});
