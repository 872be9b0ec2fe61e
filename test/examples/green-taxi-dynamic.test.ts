/**
 * green_taxi_etl's fan-out through the real CLI: the dynamic block `months` lists the slice's monthly files and
 * each becomes one `green_files[<month>]` instance downloading its file from a real local HTTP server (the real
 * TLC files of test/data/nyc-taxi); the reduce gathers their rows into `green_files`, which the rest of the
 * pipeline reads. A month that fails fails alone and is retried alone; a slice without months skips the rest.
 */
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { REPO_ROOT, taxiDataDir } from "../taxi-data";
import { runSluice } from "../sluice-process";

jest.setTimeout(600_000);

interface JsonSummary {
  run_id: string;
  status: string;
  blocks: { name: string; status: string; attempts: number; rows: number | null; error?: string }[];
}

describe("green_taxi_etl: one download per month, from a dynamic block", () => {
  let projectDir: string;
  let server: http.Server;
  let baseUrl: string;
  const requests: string[] = [];
  const missing = new Set<string>();

  beforeAll(async () => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-dynmonths-"));
    fs.cpSync(path.join(REPO_ROOT, "pipelines", "green_taxi_etl"), path.join(projectDir, "pipelines", "green_taxi_etl"), { recursive: true });
    server = http.createServer((req, res) => {
      const name = path.basename(req.url ?? "");
      requests.push(name);
      const file = path.join(taxiDataDir(), name);
      if (missing.has(name) || !fs.existsSync(file)) {
        res.writeHead(404).end("not found");
        return;
      }
      res.writeHead(200, { "content-type": "application/gzip", "content-length": fs.statSync(file).size });
      fs.createReadStream(file).pipe(res);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/green`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    if (projectDir) fs.rmSync(projectDir, { recursive: true, force: true });
  });

  const vars = (name: string, extra: string[] = []) => [
    "--var",
    `base_url=${baseUrl}`,
    "--var",
    `download_dir=${path.join(projectDir, name, "downloads")}`,
    "--var",
    `lake_dir=${path.join(projectDir, name, "lake")}`,
    ...extra,
  ];
  const byName = (summary: JsonSummary) => Object.fromEntries(summary.blocks.map((b) => [b.name, b]));

  it("downloads each month in its own instance and lands the same 139,370 cleaned rows in 95 lake partitions", async () => {
    requests.length = 0;
    const run = await runSluice(projectDir, ["run", "green_taxi_etl", ...vars("all"), "--json"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const blocks = byName(JSON.parse(run.stdout) as JsonSummary);
    expect(blocks.months).toMatchObject({ status: "success", rows: 3 });
    for (const month of ["2020-10", "2020-11", "2020-12"]) expect(blocks[`green_files[${month}]`]).toMatchObject({ status: "success", rows: 1, attempts: 1 });
    expect(blocks.green_files).toMatchObject({ status: "success", rows: 3 });
    expect(blocks.load_green_taxi.rows).toBe(266_855);
    expect(blocks.clean_trips.rows).toBe(139_370);
    expect(requests.sort()).toEqual(["green_tripdata_2020-10.csv.gz", "green_tripdata_2020-11.csv.gz", "green_tripdata_2020-12.csv.gz"]);
    // Each instance renamed its finished download into place: no partial files are left behind.
    expect(fs.readdirSync(path.join(projectDir, "all", "downloads")).sort()).toEqual(["green_tripdata_2020-10.csv.gz", "green_tripdata_2020-11.csv.gz", "green_tripdata_2020-12.csv.gz"]);
    const partitions = fs.readdirSync(path.join(projectDir, "all", "lake")).filter((d) => d.startsWith("lpep_pickup_date="));
    expect(partitions).toHaveLength(95);
  });

  it("a month whose download fails fails alone; retrying that instance alone finishes the run", async () => {
    missing.add("green_tripdata_2020-11.csv.gz");
    const run = await runSluice(projectDir, ["run", "green_taxi_etl", ...vars("retry"), "--json"]);
    expect(run.code).toBe(1);
    const summary = JSON.parse(run.stdout) as JsonSummary;
    const blocks = byName(summary);
    expect(summary.status).toBe("failed");
    expect(blocks["green_files[2020-11]"]).toMatchObject({ status: "failed", attempts: 3 });
    expect(blocks["green_files[2020-11]"].error).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/green\/green_tripdata_2020-11\.csv\.gz: HTTP 404/);
    expect(blocks["green_files[2020-10]"]).toMatchObject({ status: "success", attempts: 1 });
    expect(blocks["green_files[2020-12]"]).toMatchObject({ status: "success", attempts: 1 });
    expect(blocks.green_files.status).toBe("upstream_failed");
    expect(blocks.clean_trips.status).toBe("upstream_failed");

    missing.clear();
    requests.length = 0;
    const retry = await runSluice(projectDir, ["retry", summary.run_id, "--from", "green_files[2020-11]", "--json"]);
    expect(retry.code).toBe(0);
    // Only the failed month is fetched again; its siblings keep their outputs.
    expect(requests).toEqual(["green_tripdata_2020-11.csv.gz"]);
    const retried = byName(JSON.parse(retry.stdout) as JsonSummary);
    expect(retried.clean_trips).toMatchObject({ status: "success", rows: 139_370 });
  });

  it("a slice without months runs no download and skips everything after it, and says why", async () => {
    requests.length = 0;
    const run = await runSluice(projectDir, ["run", "green_taxi_etl", ...vars("none", ["--var", "months=[]"]), "--json"]);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as JsonSummary;
    expect(summary.status).toBe("success");
    const blocks = byName(summary);
    expect(blocks.months).toMatchObject({ status: "success", rows: 0 });
    expect(blocks.green_files).toMatchObject({ status: "skipped", error: "dynamic block months returned no rows" });
    for (const name of ["load_green_taxi", "clean_trips", "export_lake", "to_postgres", "to_gcs", "to_bigquery"]) expect(blocks[name].status).toBe("skipped");
    expect(Object.keys(blocks).filter((name) => name.startsWith("green_files["))).toEqual([]);
    expect(requests).toEqual([]);
    expect(fs.existsSync(path.join(projectDir, "none", "lake"))).toBe(false);
  });
});
