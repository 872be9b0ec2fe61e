import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import pg from "pg";
import { REPO_ROOT, taxiDataDir } from "../test/taxi-data";
import { mb, median, type BenchRow } from "./report";

/**
 * The Zoomcamp module-2 homework both ways, each as a process of its own, interleaved, 3 runs each: the
 * near-limit path (bench/homework-limit.cjs: DuckDB read_csv → filter/rename/date → COPY PARTITION_BY →
 * CSV → `psql \copy`) and `sluice run green_taxi_etl --var export_postgres=true`, at 1× (the real green
 * 2020-10..12 files) and 4× (each month's rows four times, built once into a scratch folder). Before each
 * run the target tables and lakes are dropped, Postgres CHECKPOINTs and the page cache is synced; after it
 * both must have written the expected rows and 95 partitions. Printed: process wall and the peak RSS of the
 * process tree (summed over the command and its children, polled from /proc), and their ratios.
 */

const PG_URL = process.env.SLUICE_BENCH_PG ?? "postgres://postgres@127.0.0.1:5432/test";
const RUNS = 3;
const LIMIT_SCHEMA = "homework_limit";
const SLUICE_SCHEMA = "homework_sluice";
const MONTHS = ["2020-10", "2020-11", "2020-12"];

interface Measured {
  wallMs: number;
  peakRss: number;
  /** The Postgres leg: the near-limit path's CSV + `psql \copy`, Sluice's to_postgres block. */
  postgresMs: number;
}

/** The Postgres leg's duration from a command's output (`{"postgres_ms": …}`, or `sluice run --json`'s to_postgres). */
function postgresMsOf(output: string): number {
  for (const line of output.split("\n").reverse()) {
    if (!line.startsWith("{")) continue;
    const parsed = JSON.parse(line) as { postgres_ms?: number; blocks?: { name: string; duration_ms?: number }[] };
    if (typeof parsed.postgres_ms === "number") return parsed.postgres_ms;
    const block = parsed.blocks?.find((b) => b.name === "to_postgres");
    if (block?.duration_ms !== undefined) return block.duration_ms;
  }
  return Number.NaN;
}

/**
 * The `sluice` command as a user runs it: bin/sluice.cjs, which runs the engine built into dist/ when there
 * is one (rebuilt here first when the sources changed), else the TypeScript sources through tsx.
 */
function sluiceEntry(): { file: string; built: boolean } {
  const build = path.join(REPO_ROOT, "scripts", "build-engine.cjs");
  if (fs.existsSync(build)) {
    const result = spawnSync(process.execPath, [build, "--if-stale"], { cwd: REPO_ROOT, encoding: "utf8" });
    if (result.status !== 0) throw new Error(`building dist/ failed: ${result.stderr}`);
  }
  return { file: path.join(REPO_ROOT, "bin", "sluice.cjs"), built: fs.existsSync(path.join(REPO_ROOT, "dist", "cli.cjs")) };
}

/** Resident set sizes of `root` and every descendant, summed (one /proc scan). */
function treeRss(root: number): number {
  const parents = new Map<number, number>();
  const rss = new Map<number, number>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      // Fields after the command name (which may hold spaces and parentheses): state ppid … rss is field 24.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      parents.set(Number(entry), Number(fields[1]));
      rss.set(Number(entry), Number(fields[21]) * 4096);
    } catch {
      // the process ended between readdir and read
    }
  }
  let total = 0;
  for (const [pid, bytes] of rss) {
    let p: number | undefined = pid;
    for (let depth = 0; p !== undefined && p > 1 && depth < 32; depth++) {
      if (p === root) {
        total += bytes;
        break;
      }
      p = parents.get(p);
    }
  }
  return total;
}

/** Runs a command to its end; process wall from spawn to exit, peak RSS of its process tree. */
function measure(command: string, args: string[], cwd: string): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, SLUICE_PROJECT_DIR: cwd } });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    let peak = 0;
    const timer = setInterval(() => {
      if (child.pid !== undefined) peak = Math.max(peak, treeRss(child.pid));
    }, 20);
    child.once("error", reject);
    child.once("exit", (code) => {
      const wallMs = performance.now() - started;
      clearInterval(timer);
      if (code !== 0) reject(new Error(`${path.basename(args[0] ?? command)} exited with ${code}:\n${output.slice(-3000)}`));
      else resolve({ wallMs, peakRss: peak, postgresMs: postgresMsOf(output) });
    });
  });
}

/** Each month's file with its rows repeated `times` times (built once, kept in the OS temp folder). */
async function scaledData(times: number): Promise<string> {
  if (times === 1) return taxiDataDir();
  const dir = path.join(os.tmpdir(), `sluice-homework-${times}x`);
  const done = path.join(dir, ".complete");
  if (fs.existsSync(done)) return dir;
  fs.mkdirSync(dir, { recursive: true });
  const { DuckDBInstance } = await import("@duckdb/node-api");
  const db = await DuckDBInstance.create(":memory:");
  const con = await db.connect();
  for (const month of MONTHS) {
    const source = path.join(taxiDataDir(), `green_tripdata_${month}.csv.gz`);
    // Every value as the text it was, so both paths parse exactly what the real files hold.
    await con.run(
      `COPY (SELECT t.* FROM read_csv('${source}', header = true, all_varchar = true) AS t, range(${times})) ` +
        `TO '${path.join(dir, `green_tripdata_${month}.csv.gz`)}' (FORMAT csv, HEADER, COMPRESSION gzip)`,
    );
  }
  con.closeSync();
  db.closeSync();
  fs.writeFileSync(done, "");
  return dir;
}

/** Pickup-date partitions (`lpep_pickup_date=…/`) holding at least one Parquet file. */
function partitions(lake: string): number {
  if (!fs.existsSync(lake)) return 0;
  const days = new Set<string>();
  for (const entry of fs.readdirSync(lake, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".parquet")) continue;
    const day = path.relative(lake, entry.parentPath).split(path.sep)[0];
    if (day.startsWith("lpep_pickup_date=")) days.add(day);
  }
  return days.size;
}

async function reset(admin: pg.Client, lakes: string[]): Promise<void> {
  await admin.query(`DROP SCHEMA IF EXISTS ${LIMIT_SCHEMA} CASCADE`);
  await admin.query(`DROP SCHEMA IF EXISTS ${SLUICE_SCHEMA} CASCADE`);
  await admin.query("CHECKPOINT");
  for (const lake of lakes) fs.rmSync(lake, { recursive: true, force: true });
  spawnSync("sync");
}

async function check(admin: pg.Client, schema: string, lake: string, rows: number, who: string): Promise<void> {
  const counted = Number((await admin.query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.green_trips`)).rows[0]?.n);
  const parts = partitions(lake);
  if (counted !== rows || parts !== 95) throw new Error(`${who}: ${counted} rows in Postgres (want ${rows}), ${parts} lake partitions (want 95)`);
}

const seconds = (values: number[]) => `${(median(values) / 1000).toFixed(2)} s (${values.map((v) => (v / 1000).toFixed(2)).join(", ")})`;
const mibs = (values: number[]) => `${mb(median(values))} (${values.map(mb).join(", ")})`;

export async function benchHomework(): Promise<BenchRow[]> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-bench-homework-"));
  const project = path.join(scratch, "project");
  fs.cpSync(path.join(REPO_ROOT, "pipelines", "green_taxi_etl"), path.join(project, "pipelines", "green_taxi_etl"), { recursive: true });
  fs.writeFileSync(path.join(project, "sluice.yaml"), `connections:\n  default: { kind: postgres, url: "${PG_URL}" }\n`);
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  const rows: BenchRow[] = [];
  const entry = sluiceEntry();
  console.error(`sluice: ${entry.built ? "the built engine (dist/)" : "the TypeScript sources through tsx (no dist/)"}`);
  try {
    for (const [times, expected] of [
      [1, 139_370],
      [4, 557_480],
    ] as const) {
      const data = await scaledData(times);
      const limitLake = path.join(scratch, "limit-lake");
      const sluiceLake = path.join(scratch, "sluice-lake");
      const limit: Measured[] = [];
      const sluice: Measured[] = [];
      for (let run = 0; run < RUNS; run++) {
        await reset(admin, [limitLake, sluiceLake]);
        limit.push(await measure(process.execPath, [path.join(REPO_ROOT, "bench", "homework-limit.cjs"), data, limitLake, scratch, PG_URL, LIMIT_SCHEMA], scratch));
        await check(admin, LIMIT_SCHEMA, limitLake, expected, "near-limit path");
        await reset(admin, [limitLake, sluiceLake]);
        sluice.push(
          await measure(
            process.execPath,
            [
              entry.file,
              "run",
              "green_taxi_etl",
              "--json",
              ...["--var", `base_url=${pathToFileURL(data).href}`, "--var", `lake_dir=${sluiceLake}`, "--var", "export_postgres=true", "--var", `pg_schema=${SLUICE_SCHEMA}`],
            ],
            project,
          ),
        );
        await check(admin, SLUICE_SCHEMA, sluiceLake, expected, "sluice run");
        const last = (list: Measured[]) => list[list.length - 1];
        console.error(`  ${times}× run ${run + 1}: near-limit ${(last(limit).wallMs / 1000).toFixed(2)} s ${mb(last(limit).peakRss)}, sluice ${(last(sluice).wallMs / 1000).toFixed(2)} s ${mb(last(sluice).peakRss)}`);
      }
      const bench = `homework ${times}× (${expected.toLocaleString("en-US")} rows, 95 partitions)`;
      const wallRatio = median(sluice.map((m) => m.wallMs)) / median(limit.map((m) => m.wallMs));
      const rssRatio = median(sluice.map((m) => m.peakRss)) / median(limit.map((m) => m.peakRss));
      rows.push(
        { bench, metric: "process wall, median (runs)", value: seconds(sluice.map((m) => m.wallMs)), baseline: `${seconds(limit.map((m) => m.wallMs))} near-limit`, target: "" },
        { bench, metric: "wall ratio sluice / near-limit", value: `${wallRatio.toFixed(2)}×`, baseline: "1.00×", target: "≤ 1.0×" },
        { bench, metric: "peak RSS of the process tree, median", value: mibs(sluice.map((m) => m.peakRss)), baseline: `${mibs(limit.map((m) => m.peakRss))} near-limit`, target: "" },
        { bench, metric: "peak RSS ratio sluice / near-limit", value: `${rssRatio.toFixed(2)}×`, baseline: "1.00×", target: "≤ 1.5×" },
        {
          bench,
          metric: "Postgres leg: to_postgres block / COPY csv + psql \\copy",
          value: seconds(sluice.map((m) => m.postgresMs)),
          baseline: `${seconds(limit.map((m) => m.postgresMs))} near-limit`,
          target: `psql / sluice ${(median(limit.map((m) => m.postgresMs)) / median(sluice.map((m) => m.postgresMs))).toFixed(2)}× (≥ 1.5×)`,
        },
      );
    }
  } finally {
    await reset(admin, []).catch(() => undefined);
    await admin.end();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  return rows;
}
