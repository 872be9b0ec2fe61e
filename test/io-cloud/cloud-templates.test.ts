import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startBigQueryServer, type BigQueryServer } from "../servers/bigquery-server";
import { startGcsServer, type GcsServer } from "../servers/gcs-server";
import { S3RVER_CREDENTIALS, startS3Server, type S3Server } from "../servers/s3-server";
import { REPO_ROOT } from "../taxi-data";
import { writePipeline } from "../write-pipeline";
import { runSluice, type SluiceResult } from "../sluice-process";

jest.setTimeout(600_000);

const TEMPLATES = path.join(REPO_ROOT, "templates", "io");

interface JsonSummary {
  status: string;
  blocks: { name: string; status: string; rows: number | null; error?: string }[];
}

function sluice(projectDir: string, args: string[]): Promise<SluiceResult> {
  return runSluice(projectDir, args, { S3_KEY: S3RVER_CREDENTIALS.accessKeyId, S3_SECRET: S3RVER_CREDENTIALS.secretAccessKey });
}

/** A template copied as a block file, unchanged: what a user gets from the "add block" menu. */
const template = (file: string) => fs.readFileSync(path.join(TEMPLATES, file), "utf8");

const VARIABLES = `variables:
  gcs_uri: templates/trips/
  s3_uri: s3://raw/templates/trips/
  bq_table: trips
  partition_by: pickup_day
  since: "2020-10-02"
`;

describe("the GCS, S3 and BigQuery templates run unchanged once the profile is filled (local servers)", () => {
  let projectDir: string;
  let gcsServer: GcsServer;
  let bqServer: BigQueryServer;
  let s3Server: S3Server;

  beforeAll(async () => {
    gcsServer = await startGcsServer();
    gcsServer.createBucket("lake");
    bqServer = await startBigQueryServer({ readGcsObject: gcsServer.readObject, listGcsObjects: gcsServer.listObjects });
    s3Server = await startS3Server(["raw"]);
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-cloud-templates-"));
    fs.writeFileSync(
      path.join(projectDir, "sluice.yaml"),
      [
        "connections:",
        `  lake: { kind: gcs, bucket: lake, project_id: local-project, api_endpoint: "${gcsServer.url}" }`,
        `  raw: { kind: s3, region: us-east-1, endpoint: "${s3Server.url}", access_key_id: "{{ env_var('S3_KEY') }}", secret_access_key: "{{ env_var('S3_SECRET') }}" }`,
        `  warehouse: { kind: bigquery, project_id: local-project, dataset: zoomcamp, location: US, api_endpoint: "${bqServer.url}" }`,
        "",
      ].join("\n"),
    );
    const block = (name: string, type: string, upstream: string[]) => `  - { name: ${name}, type: ${type}, language: ts, upstream: [${upstream.join(", ")}] }\n`;
    writePipeline(
      projectDir,
      "cloud_export",
      `version: 1\nname: cloud_export\n${VARIABLES}blocks:\n  - { name: trips, type: loader, language: sql, upstream: [] }\n` +
        block("to_gcs", "exporter", ["trips"]) +
        block("to_s3", "exporter", ["trips"]) +
        block("to_bigquery", "exporter", ["trips"]),
      {
        "trips.sql":
          "SELECT range AS id, TIMESTAMP '2020-10-01 00:00:00' + to_hours(range) AS lpep_pickup_datetime,\n" +
          "  CAST(TIMESTAMP '2020-10-01 00:00:00' + to_hours(range) AS DATE) AS pickup_day, CASE WHEN range % 7 = 0 THEN NULL ELSE range * 1.25 END AS fare\nFROM range(72)\n",
        "to_gcs.ts": template("gcs_exporter.ts"),
        "to_s3.ts": template("s3_exporter.ts"),
        "to_bigquery.ts": template("bigquery_exporter.ts"),
      },
    );
    writePipeline(
      projectDir,
      "cloud_load",
      `version: 1\nname: cloud_load\n${VARIABLES}blocks:\n` + block("from_gcs", "loader", []) + block("from_s3", "loader", []) + block("from_bigquery", "loader", []),
      { "from_gcs.ts": template("gcs_loader.ts"), "from_s3.ts": template("s3_loader.ts"), "from_bigquery.ts": template("bigquery_loader.ts") },
    );
  });

  afterAll(async () => {
    await Promise.all([gcsServer?.close(), bqServer?.close(), s3Server?.close()]);
    if (projectDir) fs.rmSync(projectDir, { recursive: true, force: true });
  });

  it("the exporters write 72 rows to GCS (partitioned by day), S3 and BigQuery; the loaders read them back", async () => {
    const exported = await sluice(projectDir, ["run", "cloud_export", "--json"]);
    expect(exported.code).toBe(0);
    expect((JSON.parse(exported.stdout) as JsonSummary).blocks.map((b) => [b.name, b.status])).toEqual([
      ["trips", "success"],
      ["to_gcs", "success"],
      ["to_s3", "success"],
      ["to_bigquery", "success"],
    ]);
    const days = gcsServer.listObjects("lake", "templates/trips/").map((name) => name.split("/")[2]);
    expect([...new Set(days)].sort()).toEqual(["pickup_day=2020-10-01", "pickup_day=2020-10-02", "pickup_day=2020-10-03"]);

    const loaded = await sluice(projectDir, ["run", "cloud_load", "--json"]);
    expect(loaded.code).toBe(0);
    const summary = JSON.parse(loaded.stdout) as JsonSummary;
    // The BigQuery loader keeps pickups since 2020-10-02: 48 of the 72 hours.
    expect(summary.blocks.map((b) => [b.name, b.status, b.rows])).toEqual([
      ["from_gcs", "success", 72],
      ["from_s3", "success", 72],
      ["from_bigquery", "success", 48],
    ]);
  });
});
