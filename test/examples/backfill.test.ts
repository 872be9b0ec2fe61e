/**
 * The shipped examples backfilled for real: a `sluice start` over a project holding `hello` and
 * `green_taxi_etl`, backfills started through its HTTP API with concurrency 4 (12 logical dates each), the
 * scheduler's backfill machinery running every run to the end. Every run succeeds, each date lands in its own
 * partition (files) or slice (Postgres), and a re-run of one date leaves every other date byte-identical.
 *
 * green_taxi_etl reads the real TLC files of test/data/nyc-taxi (Oct–Dec 2020 only), so its trigger is daily
 * over 12 days across the October/November boundary: each run loads its day's trips from that month's file.
 */
import { createHash, randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { DuckDBInstance } from "@duckdb/node-api";
import { Client } from "pg";
import { startSluice, type StartedServer } from "../../e2e/server";
import { REPO_ROOT, taxiDataDir } from "../taxi-data";

jest.setTimeout(900_000);

const PG_URL = "postgres://postgres@127.0.0.1:5432/test";

interface BackfillJson {
  id: string;
  state: string;
  total: number;
  success: number;
  failed: number;
  cancelled: number;
}

interface RunJson {
  id: string;
  state: string;
  trigger: string;
  logical_date: string;
  error: string | null;
}

/** Every file under `dir`: relative path → sha256 and inode (an untouched file keeps both). */
function snapshot(dir: string): Map<string, { hash: string; inode: number }> {
  const out = new Map<string, { hash: string; inode: number }>();
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    out.set(path.relative(dir, full), { hash: createHash("sha256").update(fs.readFileSync(full)).digest("hex"), inode: fs.statSync(full).ino });
  }
  return out;
}

/** The 12 UTC days a daily backfill from 2020-10-27 to 2020-11-07 covers. */
const GREEN_DAYS = Array.from({ length: 12 }, (_, i) => new Date(Date.UTC(2020, 9, 27 + i)).toISOString().slice(0, 10));
/** The monthly trigger's logical dates over 2019 (the 2nd of each month). */
const HELLO_DATES = Array.from({ length: 12 }, (_, i) => `2019-${String(i + 1).padStart(2, "0")}-02`);

describe("backfilling the shipped examples (real server, real scheduler, real Postgres)", () => {
  let projectDir: string;
  let server: StartedServer;
  let pg: Client;
  const schema = `backfill_${process.pid}_${randomUUID().slice(0, 8)}`;
  let helloOut: string;
  let lake: string;

  const api = async <T>(method: "GET" | "POST", route: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${server.url}${route}`, {
      method,
      headers: body === undefined ? {} : { "Content-Type": "application/json", Origin: server.url },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${route}: HTTP ${response.status} ${text}`);
    return JSON.parse(text) as T;
  };

  /** Starts a backfill through the API and waits until it has ended; returns its final progress. */
  const backfill = async (pipeline: string, trigger: string, start: string, end: string): Promise<BackfillJson> => {
    const created = await api<{ backfill: BackfillJson }>("POST", `/api/pipelines/${pipeline}/triggers/${trigger}/backfills`, { start, end, concurrency: 4 });
    const route = `/api/pipelines/${pipeline}/triggers/${trigger}/backfills/${created.backfill.id}`;
    const deadline = Date.now() + 600_000;
    for (;;) {
      const { backfill: progress } = await api<{ backfill: BackfillJson }>("GET", route);
      if (progress.state !== "running") return progress;
      if (Date.now() > deadline) throw new Error(`backfill ${pipeline}/${trigger} still running: ${JSON.stringify(progress)}\n${server.output().slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  };

  const runsOf = async (pipeline: string): Promise<RunJson[]> => (await api<{ runs: RunJson[] }>("GET", `/api/runs?pipeline=${pipeline}&limit=100`)).runs;

  /** Postgres rows per pickup day: count and total fare, as text (what a re-run must not change elsewhere). */
  const pgPerDay = async (): Promise<Record<string, string>> => {
    const result = await pg.query<{ day: string; n: string; total: string; sources: string }>(
      `SELECT to_char(lpep_pickup_date, 'YYYY-MM-DD') AS day, count(*) AS n, round(sum(total_amount)::numeric, 2)::text AS total,
              string_agg(DISTINCT source_month, ',') AS sources
       FROM "${schema}".green_trips GROUP BY 1 ORDER BY 1`,
    );
    return Object.fromEntries(result.rows.map((r) => [r.day, `${r.n} rows, ${r.total}, from ${r.sources}`]));
  };

  beforeAll(async () => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-backfill-"));
    helloOut = path.join(projectDir, "out", "hello");
    lake = path.join(projectDir, "out", "green_lake");
    for (const name of ["hello", "green_taxi_etl"]) {
      fs.cpSync(path.join(REPO_ROOT, "pipelines", name), path.join(projectDir, "pipelines", name), { recursive: true });
    }
    // Disabled: the scheduler must not start today's runs on its own; a backfill runs a disabled trigger all the same.
    fs.writeFileSync(
      path.join(projectDir, "pipelines", "hello", "triggers.yaml"),
      `version: 1\ntriggers:\n  - name: monthly\n    type: schedule\n    schedule: "0 0 2 * *"\n    timezone: UTC\n    enabled: false\n    variables: { output_dir: ${JSON.stringify(helloOut)} }\n`,
    );
    fs.writeFileSync(
      path.join(projectDir, "pipelines", "green_taxi_etl", "triggers.yaml"),
      [
        "version: 1",
        "triggers:",
        "  - name: daily",
        "    type: schedule",
        '    schedule: "@daily"',
        "    timezone: UTC",
        "    enabled: false",
        "    variables:",
        `      base_url: ${JSON.stringify(pathToFileURL(taxiDataDir()).href)}`,
        `      lake_dir: ${JSON.stringify(lake)}`,
        "      export_postgres: true",
        `      pg_schema: ${schema}`,
        "",
      ].join("\n"),
    );
    fs.writeFileSync(path.join(projectDir, "sluice.yaml"), `connections:\n  default: { kind: postgres, url: "${PG_URL}" }\n`);
    pg = new Client({ connectionString: PG_URL });
    await pg.connect();
    server = await startSluice(projectDir);
  }, 900_000);

  afterAll(async () => {
    await server?.stop();
    await pg?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pg?.end();
    if (projectDir) fs.rmSync(projectDir, { recursive: true, force: true });
  });

  it("hello: a monthly backfill over 2019 makes 12 successful runs, one Parquet file per logical date", async () => {
    const progress = await backfill("hello", "monthly", "2019-01-01T00:00:00Z", "2019-12-31T00:00:00Z");
    const runs = await runsOf("hello");
    const failures = runs.filter((r) => r.state !== "success").map((r) => `${r.logical_date}: ${r.state} ${r.error ?? ""}`);
    expect(failures).toEqual([]);
    expect(progress).toMatchObject({ state: "success", total: 12, success: 12, failed: 0, cancelled: 0 });
    expect(runs.map((r) => r.logical_date.slice(0, 10)).sort()).toEqual(HELLO_DATES);
    expect([...snapshot(helloOut).keys()].sort()).toEqual(HELLO_DATES.map((d) => path.join("fares_by_borough", `date=${d}`, "part.parquet")));
  });

  it("hello: re-running one date replaces that file only; the other 11 stay byte-identical", async () => {
    const before = snapshot(helloOut);
    const progress = await backfill("hello", "monthly", "2019-06-02T00:00:00Z", "2019-06-02T00:00:00Z");
    expect(progress).toMatchObject({ state: "success", total: 1, success: 1 });
    const after = snapshot(helloOut);
    const rerun = path.join("fares_by_borough", "date=2019-06-02", "part.parquet");
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [file, was] of before) {
      if (file === rerun) continue;
      expect({ file, ...after.get(file) }).toEqual({ file, ...was });
    }
    // Rewritten (a new file renamed into place) with the same content: the same date makes the same trips.
    expect(after.get(rerun)?.inode).not.toBe(before.get(rerun)?.inode);
    expect(after.get(rerun)?.hash).toBe(before.get(rerun)?.hash);
  });

  it("green_taxi_etl: a daily backfill over 12 days lands each day's trips in its own lake partition and Postgres slice", async () => {
    const progress = await backfill("green_taxi_etl", "daily", "2020-10-27T00:00:00Z", "2020-11-07T00:00:00Z");
    const runs = await runsOf("green_taxi_etl");
    const failures = runs.filter((r) => r.state !== "success").map((r) => `${r.logical_date}: ${r.state} ${r.error ?? ""}`);
    expect(failures).toEqual([]);
    expect(progress).toMatchObject({ state: "success", total: 12, success: 12, failed: 0 });
    expect(runs.map((r) => r.logical_date.slice(0, 10)).sort()).toEqual(GREEN_DAYS);

    // The oracle: DuckDB straight over the TLC files, the same cleaning rule, each day from its month's file.
    const duck = await (await DuckDBInstance.create(":memory:")).connect();
    const expected: Record<string, string> = {};
    for (const day of GREEN_DAYS) {
      const file = path.join(taxiDataDir(), `green_tripdata_${day.slice(0, 7)}.csv.gz`);
      const reader = await duck.runAndReadAll(
        `SELECT count(*)::VARCHAR, CAST(round(sum(total_amount), 2) AS DECIMAL(18, 2))::VARCHAR FROM read_csv('${file}', header = true, timestampformat = '%Y-%m-%d %H:%M:%S')
         WHERE passenger_count > 0 AND trip_distance > 0 AND CAST(lpep_pickup_datetime AS DATE) = DATE '${day}'`,
      );
      const [n, total] = reader.getRows()[0].map(String);
      expected[day] = `${n} rows, ${total}, from ${day.slice(0, 7)}`;
    }
    duck.closeSync();
    expect(await pgPerDay()).toEqual(expected);
    const partitions = [...snapshot(lake).keys()].sort();
    expect(partitions).toEqual(GREEN_DAYS.map((d) => path.join(`lpep_pickup_date=${d}`, `source_month=${d.slice(0, 7)}`, "data_0.parquet")));
  });

  it("green_taxi_etl: re-running one day changes nothing of the other 11 days, in the lake or in Postgres", async () => {
    const lakeBefore = snapshot(lake);
    const pgBefore = await pgPerDay();
    const progress = await backfill("green_taxi_etl", "daily", "2020-11-02T00:00:00Z", "2020-11-02T00:00:00Z");
    expect(progress).toMatchObject({ state: "success", total: 1, success: 1 });
    const lakeAfter = snapshot(lake);
    const rerun = path.join("lpep_pickup_date=2020-11-02", "source_month=2020-11", "data_0.parquet");
    expect([...lakeAfter.keys()].sort()).toEqual([...lakeBefore.keys()].sort());
    for (const [file, was] of lakeBefore) {
      if (file === rerun) continue;
      expect({ file, ...lakeAfter.get(file) }).toEqual({ file, ...was });
    }
    expect(lakeAfter.get(rerun)?.inode).not.toBe(lakeBefore.get(rerun)?.inode);
    // Postgres: the same rows per day, and the re-run day was rewritten rather than added to.
    expect(await pgPerDay()).toEqual(pgBefore);
  });
});
