/**
 * docs/tutorial-zoomcamp.md, walked in real Chromium against a real `sluice start`: the Data Engineering
 * Zoomcamp module-2 homework on the `green_taxi_etl` example, block by block, then scheduled and backfilled.
 * Each step writes the screenshot the tutorial shows (docs/tutorial/*.png) and asserts what that screenshot
 * is there to show: the row counts, the homework's answers, the block states. The project is a temp copy of
 * the example with the hand edits the tutorial asks for (base_url → the local taxi files, Postgres on).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import pg from "pg";
import type { Browser, Page } from "playwright-core";
import { REPO_ROOT, taxiDataDir } from "../test/taxi-data";
import { closeEditorSession, openEditorSession, type StartedServer } from "./server";

jest.setTimeout(240_000);

const SHOTS = path.join(REPO_ROOT, "docs", "tutorial");
/** Unique per test process, so runs beside other tests never share a table. */
const PG_SCHEMA = `tutorial_zoomcamp_${process.pid}`;
const PG_URL = "postgres://postgres@127.0.0.1:5432/test";

/** Rows of the three Q4-2020 green taxi files with passengers and distance: the homework's answer. */
const CLEANED_ROWS = 139_370;

async function shot(page: Page, name: string, cell?: string): Promise<void> {
  const target = path.join(SHOTS, `${name}.png`);
  if (cell) {
    const element = page.getByTestId(`cell-${cell}`);
    await element.scrollIntoViewIfNeeded();
    await element.screenshot({ path: target });
  } else {
    await page.screenshot({ path: target });
  }
}

/** Clicks a cell's "Run block" and waits for the block to finish in that state. */
async function runBlock(page: Page, block: string, state = "success"): Promise<void> {
  const cell = page.getByTestId(`cell-${block}`);
  await cell.scrollIntoViewIfNeeded();
  await cell.getByRole("button", { name: "Run block" }).click();
  await page.getByTestId("run-bar").getByText(`${block} (block)`).waitFor();
  await page.locator('[data-testid="run-bar"]:not([data-state="queued"]):not([data-state="running"])').waitFor({ timeout: 120_000 });
  await page.locator(`[data-testid="cell-${block}"][data-state="${state}"]`).waitFor();
}

async function openLogs(page: Page, block: string): Promise<string> {
  const cell = page.getByTestId(`cell-${block}`);
  await cell.locator("details.logs summary").click();
  return page.getByTestId(`logs-${block}`).innerText();
}

async function pgRows(client: pg.Client, where = "TRUE"): Promise<number> {
  const result = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${PG_SCHEMA}.green_trips WHERE ${where}`);
  return Number(result.rows[0].n);
}

function partitionFolders(lake: string): { days: string[]; slices: string[] } {
  const days = fs.readdirSync(lake).filter((d) => d.startsWith("lpep_pickup_date="));
  const slices = days.flatMap((day) => fs.readdirSync(path.join(lake, day)).map((month) => `${day}/${month}`));
  return { days, slices };
}

describe("the Zoomcamp module-2 tutorial (real server, real Chromium)", () => {
  let projectDir: string;
  let server: StartedServer;
  let browser: Browser;
  let page: Page;
  let postgres: pg.Client;
  let lake: string;

  beforeAll(async () => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-e2e-tutorial-"));
    const example = path.join(projectDir, "pipelines", "green_taxi_etl");
    fs.cpSync(path.join(REPO_ROOT, "pipelines", "green_taxi_etl"), example, { recursive: true });
    fs.rmSync(path.join(example, "triggers.yaml"), { force: true });
    // The tutorial's hand edits: the local copy of the files, and Postgres on.
    const yamlFile = path.join(example, "pipeline.yaml");
    const edited = fs
      .readFileSync(yamlFile, "utf8")
      .replace(/^(\s+base_url:).*$/m, `$1 ${pathToFileURL(taxiDataDir()).href}`)
      .replace(/^(\s+export_postgres:).*$/m, "$1 true")
      .replace(/^(\s+pg_schema:).*$/m, `$1 ${PG_SCHEMA}`);
    expect(edited).toContain(`pg_schema: ${PG_SCHEMA}`);
    expect(edited).toContain("export_postgres: true");
    fs.writeFileSync(yamlFile, edited);
    fs.writeFileSync(path.join(projectDir, "sluice.yaml"), "connections:\n  default:\n    kind: postgres\n    host: 127.0.0.1\n    port: 5432\n    database: test\n    user: postgres\n");
    lake = path.join(projectDir, ".sluice", "lake", "green_taxi");
    fs.mkdirSync(SHOTS, { recursive: true });
    postgres = new pg.Client({ connectionString: PG_URL });
    await postgres.connect();
    ({ server, browser, page } = await openEditorSession(projectDir));
  }, 400_000);

  afterAll(async () => {
    await postgres?.query(`DROP SCHEMA IF EXISTS ${PG_SCHEMA} CASCADE`);
    await postgres?.end();
    await closeEditorSession({ server, browser }, projectDir);
  });

  it("1. opens green_taxi_etl from the pipelines list: eight blocks, from the month list to the exporters", async () => {
    await page.goto(server.url);
    const row = page.getByTestId("pipeline-row").filter({ hasText: "green_taxi_etl" });
    await row.waitFor({ timeout: 60_000 });
    await shot(page, "01-pipelines");
    await row.getByRole("link", { name: "green_taxi_etl" }).first().click();
    await page.waitForURL(/\/pipelines\/green_taxi_etl$/);
    await page.getByTestId("pipeline-name").getByText("green_taxi_etl").waitFor();
    for (const block of ["months", "green_files", "load_green_taxi", "clean_trips", "export_lake", "to_postgres", "to_gcs", "to_bigquery"]) await page.getByTestId(`node-${block}`).waitFor();
    // The first cell's editor: the notebook mounts only the cells near the visible part.
    await page.getByTestId("code-months").locator(".monaco-editor").waitFor();
    await shot(page, "02-editor");
  });

  it("2. runs the loader: 266,855 trips of Oct–Dec 2020, 20 columns plus the file each came from", async () => {
    // months lists the month files; green_files fetches each in an instance of its own (downloading it from an
    // http base_url) and gathers their paths; load_green_taxi reads them in DuckDB.
    await runBlock(page, "months");
    await runBlock(page, "green_files");
    await runBlock(page, "load_green_taxi");
    await page.getByTestId("total-rows-load_green_taxi").waitFor();
    const header = await page.getByTestId("total-rows-load_green_taxi").locator("..").innerText();
    expect(header).toMatch(/266,855 rows · 21 columns/);
    expect(await page.getByTestId("rows-load_green_taxi").innerText()).toBe("266,855 rows");
    await page.getByTestId("col-load_green_taxi-source_month").waitFor();
    await shot(page, "03-load", "load_green_taxi");
  });

  it("3. runs the SQL cleaning on the cached load: 139,370 rows, snake_case columns and a pickup date", async () => {
    await runBlock(page, "clean_trips");
    expect(await page.getByTestId("total-rows-clean_trips").innerText()).toBe(`${CLEANED_ROWS.toLocaleString("en-US")} rows`);
    // The four camelCase columns the homework renames, and the date the lake is partitioned by.
    for (const column of ["vendor_id", "ratecode_id", "pu_location_id", "do_location_id", "lpep_pickup_date"]) await page.getByTestId(`col-clean_trips-${column}`).waitFor();
    expect(await page.getByTestId("col-clean_trips-VendorID").count()).toBe(0);
    expect(await page.getByTestId("col-clean_trips-lpep_pickup_date").innerText()).toMatch(/Date/);
    // The loader was not run again: this was a block run on its cached output.
    expect(await page.getByTestId("state-load_green_taxi").innerText()).toBe("success");
    await shot(page, "04-clean", "clean_trips");
  });

  it("4. reads the vendor ids present from the column's top values: 1 and 2", async () => {
    // The preview's rows on screen mean its header (and the statistics under it) stopped re-rendering.
    await page.getByTestId("preview-scroll-clean_trips").locator('.preview-row[data-index="0"]').waitFor();
    const stats = page.getByTestId("stats-clean_trips-vendor_id");
    await stats.scrollIntoViewIfNeeded();
    await stats.click();
    const popover = page.getByTestId("top-clean_trips");
    await popover.waitFor();
    const table = page.getByTestId("top-values-clean_trips-vendor_id");
    await Promise.race([table.waitFor({ timeout: 60_000 }), popover.locator(".error").waitFor({ timeout: 60_000 }).then(async () => Promise.reject(new Error(await popover.innerText())))]);
    const values = (await table.locator("tr td:first-child").allInnerTexts()).map((v) => v.trim()).sort();
    expect(values).toEqual(["1", "2"]);
    expect(await page.getByTestId("top-summary-clean_trips-vendor_id").innerText()).toMatch(/139,370 rows · nulls 0 · distinct 2/);
    await page.getByTestId("top-clean_trips").screenshot({ path: path.join(SHOTS, "05-vendor-ids.png") });
    await page.keyboard.press("Escape");
  });

  it("5. writes the Parquet lake, one folder per pickup date (and source file)", async () => {
    await runBlock(page, "export_lake");
    const logs = await openLogs(page, "export_lake");
    const written = /wrote (\d+) rows to (\d+) partitions/.exec(logs);
    expect(written).not.toBeNull();
    expect(Number(written?.[1])).toBe(CLEANED_ROWS);
    const { days, slices } = partitionFolders(lake);
    expect(slices).toHaveLength(Number(written?.[2]));
    // The homework's partition count: 95 pickup dates (the 92 days of Q4 and a few stray trips of other
    // dates the files hold), 99 folders with the file each row came from.
    for (const day of ["2020-10-01", "2020-11-15", "2020-12-31"]) expect(days).toContain(`lpep_pickup_date=${day}`);
    expect(days).toHaveLength(95);
    expect(slices).toHaveLength(99);
    await shot(page, "06-lake", "export_lake");
  });

  it("6. loads Postgres: the same 139,370 rows in ny_taxi-style table green_trips", async () => {
    await runBlock(page, "to_postgres");
    const logs = await openLogs(page, "to_postgres");
    expect(logs).toMatch(/replaced source months 2020-10, 2020-11, 2020-12 of .*green_trips with 139,370 rows/);
    expect(await pgRows(postgres)).toBe(CLEANED_ROWS);
    await shot(page, "07-postgres", "to_postgres");
  });

  it("7. schedules it monthly on the triggers page, in words and with its next runs", async () => {
    await page.goto(`${server.url}/pipelines/green_taxi_etl/triggers`);
    await page.getByRole("heading", { name: "Triggers of green_taxi_etl" }).waitFor({ timeout: 60_000 });
    await page.getByRole("button", { name: "New trigger" }).click();
    await page.locator("#trigger-name").fill("monthly");
    await page.locator("#trigger-cron").fill("0 0 1 * *");
    await page.locator("#trigger-start").fill("2020-10-01");
    await page.locator("#trigger-end").fill("2021-01-01");
    // Months that fell due before the trigger existed are for the backfill below, not for the scheduler.
    await page.locator("#trigger-missed").selectOption("none");
    await page.getByTestId("cron-description").waitFor({ timeout: 60_000 });
    expect(await page.getByTestId("cron-description").innerText()).toMatch(/At 00:00, on day 1 of the month/);
    await shot(page, "08-trigger-form");
    await page.getByRole("button", { name: "Create trigger" }).click();
    const row = page.getByTestId("trigger-row-monthly");
    await row.waitFor();
    expect(await row.getByTestId("trigger-state").innerText()).toBe("enabled");
    const file = fs.readFileSync(path.join(projectDir, "pipelines", "green_taxi_etl", "triggers.yaml"), "utf8");
    expect(file).toMatch(/name: monthly[\s\S]*schedule: 0 0 1 \* \*[\s\S]*missed_run_policy: none/);
  });

  it("8. backfills October–December: one run per month, each replacing only its own month", async () => {
    await page.locator("#backfill-trigger").selectOption("monthly");
    await page.locator("#backfill-start").fill("2020-10-01T00:00");
    await page.locator("#backfill-end").fill("2020-12-01T00:00");
    await page.locator("#backfill-concurrency").fill("2");
    await page.getByRole("button", { name: "Start backfill" }).click();
    const progress = page.getByTestId("backfill-progress");
    await progress.waitFor();
    await progress.getByText("success", { exact: true }).waitFor({ timeout: 180_000 });
    const done = /(\d+) \/ (\d+) done/.exec(await progress.innerText());
    expect(done?.slice(1, 3)).toEqual(["3", "3"]);
    expect(await progress.innerText()).toMatch(/0 failed/);
    await shot(page, "09-backfill");
    // Each run replaced its month's slice: the totals are what the hand-started run wrote, nothing doubled.
    expect(await pgRows(postgres)).toBe(CLEANED_ROWS);
    expect(await pgRows(postgres, "source_month = '2020-11' AND lpep_pickup_date >= '2020-11-01' AND lpep_pickup_date < '2020-12-01'")).toBeGreaterThan(0);
    const runs = (await (await fetch(`${server.url}/api/runs?pipeline=green_taxi_etl&limit=50`)).json()) as { runs: { trigger: string; state: string; logical_date: string }[] };
    const backfilled = runs.runs.filter((r) => r.trigger === "backfill");
    expect(backfilled.map((r) => [r.logical_date.slice(0, 10), r.state]).sort()).toEqual([
      ["2020-10-01", "success"],
      ["2020-11-01", "success"],
      ["2020-12-01", "success"],
    ]);
    await page.goto(`${server.url}/runs?pipeline=green_taxi_etl`);
    await page.getByTestId("run-row").first().waitFor();
    expect(await page.getByTestId("run-row").count()).toBeGreaterThanOrEqual(7);
    await shot(page, "10-runs");
  });
});
