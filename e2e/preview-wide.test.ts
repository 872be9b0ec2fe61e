/**
 * The preview of wide, real outputs in real Chromium against a real `sluice start`: the cleaned green-taxi
 * output of the `green_taxi_etl` example (21 columns, October 2020 TLC file) and a 63-column SQL block over
 * it. Every header must sit exactly over its column's cells — scrolled fully left and fully right, and after
 * a column is resized — and values must read as stored (naive timestamps without a zone, nulls as badges).
 * Screenshots go to test-results/screenshots/preview-wide-*.png.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser, Page } from "playwright-core";
import { REPO_ROOT, taxiDataDir } from "../test/taxi-data";
import { closeEditorSession, openEditorSession, SCREENSHOT_DIR, type StartedServer } from "./server";

jest.setTimeout(300_000);

const CLEAN_COLUMNS = [
  "vendor_id",
  "lpep_pickup_datetime",
  "lpep_dropoff_datetime",
  "lpep_pickup_date",
  "store_and_fwd_flag",
  "ratecode_id",
  "pu_location_id",
  "do_location_id",
  "passenger_count",
  "trip_distance",
  "fare_amount",
  "extra",
  "mta_tax",
  "tip_amount",
  "tolls_amount",
  "ehail_fee",
  "improvement_surcharge",
  "total_amount",
  "payment_type",
  "trip_type",
  "congestion_surcharge",
];

/** 63 columns: every cleaned column three times. */
const WIDE_SQL = `SELECT *, ${CLEAN_COLUMNS.flatMap((c) => [`${c} AS ${c}_b`, `${c} AS ${c}_c`]).join(", ")} FROM clean_trips LIMIT 5000\n`;

function pipelineYaml(baseUrl: string): string {
  return `version: 1
name: taxi_preview
variables:
  base_url: ${baseUrl}
  year: 2020
  months: [10]
blocks:
  - name: months
    type: loader
    language: ts
    upstream: []
    dynamic: true
    dynamic_key: month
  - name: green_files
    type: transformer
    language: ts
    upstream: [months]
    reduce: true
  - name: load_green_taxi
    type: loader
    language: sql
    upstream: [green_files]
  - name: clean_trips
    type: transformer
    language: sql
    upstream: [load_green_taxi]
  - name: wide
    type: transformer
    language: sql
    upstream: [clean_trips]
`;
}

interface Alignment {
  columns: number;
  /** The count the preview states above the table ("… · N columns"). */
  stated: number;
  /** Columns whose header and first-row cell differ in left edge or width by more than 1 px. */
  off: string[];
  scrollLeft: number;
  maxScrollLeft: number;
}

/** Compares every header cell's box with the box of its column's cell in the first row. */
async function alignment(page: Page, block: string): Promise<Alignment> {
  return page.getByTestId(`preview-scroll-${block}`).evaluate((scroller) => {
    const stated = Number(/(\d+) columns/.exec(scroller.parentElement?.querySelector(".preview-meta")?.textContent ?? "")?.[1] ?? -1);
    const row = scroller.querySelector('.preview-row[data-index="0"]');
    const heads = [...scroller.querySelectorAll<HTMLElement>(".preview-head [data-col]")];
    const off: string[] = [];
    for (const head of heads) {
      const name = head.dataset.col ?? "";
      const cell = row?.querySelector(`[data-col="${CSS.escape(name)}"]`);
      if (!cell) {
        off.push(`${name}: no cell`);
        continue;
      }
      const a = head.getBoundingClientRect();
      const b = cell.getBoundingClientRect();
      if (Math.abs(a.left - b.left) > 1 || Math.abs(a.width - b.width) > 1) off.push(`${name}: header ${a.left}+${a.width}, cells ${b.left}+${b.width}`);
    }
    return { columns: heads.length, stated, off, scrollLeft: scroller.scrollLeft, maxScrollLeft: scroller.scrollWidth - scroller.clientWidth };
  });
}

async function scrollTo(page: Page, block: string, where: "left" | "right"): Promise<void> {
  await page.getByTestId(`preview-scroll-${block}`).evaluate((scroller, side) => {
    scroller.scrollLeft = side === "left" ? 0 : scroller.scrollWidth;
  }, where);
  // Let a frame pass so layout and the row window settle.
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
}

async function cellText(page: Page, block: string, row: number, column: string): Promise<string> {
  return page.getByTestId(`preview-scroll-${block}`).locator(`.preview-row[data-index="${row}"] [data-col="${column}"]`).innerText();
}

async function boxOf(page: Page, selector: string): Promise<{ left: number; width: number }> {
  const box = await page.locator(selector).boundingBox();
  if (!box) throw new Error(`${selector} is not on screen`);
  return { left: box.x, width: box.width };
}

describe("the preview of wide real outputs (real server, real Chromium)", () => {
  let projectDir: string;
  let server: StartedServer;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-e2e-preview-wide-"));
    const dir = path.join(projectDir, "pipelines", "taxi_preview");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "pipeline.yaml"), pipelineYaml(pathToFileURL(taxiDataDir()).href));
    // The example's loader and cleaner as they are, with any helper module the loader imports; not its exporters.
    const example = path.join(REPO_ROOT, "pipelines", "green_taxi_etl");
    const exampleBlocks = [...fs.readFileSync(path.join(example, "pipeline.yaml"), "utf8").matchAll(/- name: (\w+)/g)].map((m) => m[1]);
    for (const file of fs.readdirSync(example)) {
      const stem = file.replace(/\.(ts|sql)$/, "");
      const helper = /\.ts$/.test(file) && !exampleBlocks.includes(stem);
      if (helper || ["months.ts", "green_files.ts", "load_green_taxi.sql", "clean_trips.sql"].includes(file)) fs.copyFileSync(path.join(example, file), path.join(dir, file));
    }
    fs.writeFileSync(path.join(dir, "wide.sql"), WIDE_SQL);
    ({ server, browser, page } = await openEditorSession(projectDir));
    await page.goto(`${server.url}/pipelines/taxi_preview`);
    await page.getByTestId("code-load_green_taxi").waitFor();
    await page.getByRole("button", { name: "Run pipeline" }).click();
    const bar = page.getByTestId("run-bar");
    await page.locator('[data-testid="run-bar"]:is([data-state="success"], [data-state="failed"])').waitFor({ timeout: 240_000 });
    if ((await bar.getAttribute("data-state")) !== "success") throw new Error(`the run did not succeed: ${await page.locator("body").innerText()}`);
  }, 500_000);

  afterAll(async () => {
    await closeEditorSession({ server, browser }, projectDir);
  });

  it("lines every header up with its cells on the cleaned taxi output (21+ columns), scrolled fully left and fully right", async () => {
    // The notebook mounts only the cells near the visible part: bring clean_trips' slot there first.
    await page.locator('[data-block="clean_trips"]').scrollIntoViewIfNeeded();
    await page.getByTestId("preview-clean_trips").scrollIntoViewIfNeeded();
    await page.getByTestId("total-rows-clean_trips").waitFor();
    await page.getByTestId("preview-scroll-clean_trips").locator('.preview-row[data-index="0"] [data-col="congestion_surcharge"]').waitFor({ state: "attached" });

    await scrollTo(page, "clean_trips", "left");
    const left = await alignment(page, "clean_trips");
    expect(left.columns).toBe(left.stated);
    expect(left.columns).toBeGreaterThanOrEqual(21);
    expect(left.off).toEqual([]);
    // Wider than its cell: the check covers a real horizontal scroll.
    expect(left.maxScrollLeft).toBeGreaterThan(500);
    await page.getByTestId("preview-clean_trips").screenshot({ path: path.join(SCREENSHOT_DIR, "preview-wide-taxi-left.png") });

    await scrollTo(page, "clean_trips", "right");
    const right = await alignment(page, "clean_trips");
    expect(right.scrollLeft).toBe(right.maxScrollLeft);
    expect(right.off).toEqual([]);
    await page.getByTestId("preview-clean_trips").screenshot({ path: path.join(SCREENSHOT_DIR, "preview-wide-taxi-right.png") });
    await scrollTo(page, "clean_trips", "left");
  });

  it("shows the TLC's values as stored: naive timestamps without a zone, dates as dates, nulls as a badge", async () => {
    // The file's first line: 2,2020-10-01 00:31:19,2020-10-01 00:34:55,N,1,7,7,1,.79,5,0.5,0.5,1.58,0,,0.3,7.88,1,1,0
    await expect(cellText(page, "clean_trips", 0, "lpep_pickup_datetime")).resolves.toBe("2020-10-01 00:31:19");
    await expect(cellText(page, "clean_trips", 0, "lpep_dropoff_datetime")).resolves.toBe("2020-10-01 00:34:55");
    await expect(cellText(page, "clean_trips", 0, "lpep_pickup_date")).resolves.toBe("2020-10-01");
    await expect(cellText(page, "clean_trips", 0, "trip_distance")).resolves.toBe("0.79");
    await expect(cellText(page, "clean_trips", 0, "store_and_fwd_flag")).resolves.toBe("N");
    // ehail_fee is empty in every TLC row: a null badge, not text.
    const fee = page.getByTestId("preview-scroll-clean_trips").locator('.preview-row[data-index="0"] [data-col="ehail_fee"] span');
    await expect(fee.innerText()).resolves.toBe("null");
    await expect(fee.evaluate((span) => getComputedStyle(span).backgroundColor)).resolves.not.toBe("rgba(0, 0, 0, 0)");
    // The header's min/max read the same way as the cells.
    const pickupHead = await page.getByTestId("col-clean_trips-lpep_pickup_datetime").innerText();
    expect(pickupHead).toMatch(/min 2020-\d\d-\d\d \d\d:\d\d:\d\d/);
    expect(pickupHead).not.toMatch(/\d\dZ|T\d\d:/);
  });

  it("moves a column's header and cells together when its edge is dragged", async () => {
    const scroller = '[data-testid="preview-scroll-clean_trips"]';
    // Bring the column into the visible part of the scroller, where a person could grab its edge.
    await page.locator(`${scroller} .preview-head [data-col="trip_distance"]`).scrollIntoViewIfNeeded();
    const before = await boxOf(page, `${scroller} .preview-head [data-col="trip_distance"]`);
    const nextBefore = await boxOf(page, `${scroller} .preview-head [data-col="fare_amount"]`);
    const handle = await page.getByTestId("resize-clean_trips-trip_distance").boundingBox();
    if (!handle) throw new Error("no resize handle on screen");
    await page.mouse.move(handle.x + handle.width / 2, handle.y + handle.height / 2);
    await page.mouse.down();
    await page.mouse.move(handle.x + handle.width / 2 + 40, handle.y + handle.height / 2, { steps: 4 });
    await page.mouse.move(handle.x + handle.width / 2 + 90, handle.y + handle.height / 2, { steps: 4 });
    await page.mouse.up();
    const after = await boxOf(page, `${scroller} .preview-head [data-col="trip_distance"]`);
    const cellAfter = await boxOf(page, `${scroller} .preview-row[data-index="0"] [data-col="trip_distance"]`);
    const nextAfter = await boxOf(page, `${scroller} .preview-row[data-index="0"] [data-col="fare_amount"]`);
    expect(after.width - before.width).toBeCloseTo(90, 0);
    expect(Math.abs(cellAfter.width - after.width)).toBeLessThanOrEqual(1);
    expect(nextAfter.left - nextBefore.left).toBeCloseTo(90, 0);
    const aligned = await alignment(page, "clean_trips");
    expect(aligned.off).toEqual([]);
    await scrollTo(page, "clean_trips", "right");
    expect((await alignment(page, "clean_trips")).off).toEqual([]);
  });

  it("keeps the header on top while the rows scroll under it", async () => {
    const scroller = page.getByTestId("preview-scroll-clean_trips");
    await scroller.evaluate((element) => {
      element.scrollTop = 24 * 3000;
    });
    await scroller.locator('.preview-row[data-index="3000"] [data-col="vendor_id"]').getByText(/\d/).waitFor();
    const head = await scroller.locator(".preview-head").boundingBox();
    const view = await scroller.boundingBox();
    expect(Math.abs((head?.y ?? -1) - (view?.y ?? 0))).toBeLessThanOrEqual(1);
    const scrolled = await alignment(page, "clean_trips");
    expect(scrolled.columns).toBe(scrolled.stated);
    await scroller.evaluate((element) => {
      element.scrollTop = 0;
      element.scrollLeft = 0;
    });
  });

  it("counts a column's top values on the server and shows them from the header", async () => {
    await page.getByTestId("stats-clean_trips-payment_type").click();
    const table = page.getByTestId("top-values-clean_trips-payment_type");
    await table.waitFor();
    const rows = await table.locator("tr").allInnerTexts();
    expect(rows.length).toBeGreaterThanOrEqual(2);
    // Card (1) is the most used payment type of green taxis in October 2020.
    expect(rows[0]).toMatch(/^1\s+[\d,]+\s+[\d.]+ %/);
    const summary = await page.getByTestId("top-summary-clean_trips-payment_type").innerText();
    expect(summary).toMatch(/distinct \d+$/);
    // The header now shows the exact count, without "≈".
    await expect(page.getByTestId("distinct-clean_trips-payment_type").innerText()).resolves.toMatch(/^distinct \d+$/);
    await page.getByTestId("top-clean_trips").screenshot({ path: path.join(SCREENSHOT_DIR, "preview-wide-top-values.png") });
    await page.keyboard.press("Escape");
    await expect(page.getByTestId("top-clean_trips").count()).resolves.toBe(0);
  });

  it("lines up all 63+ columns of a wider output, scrolled fully left and fully right", async () => {
    await page.locator('[data-block="wide"]').scrollIntoViewIfNeeded();
    await page.getByTestId("cell-wide").scrollIntoViewIfNeeded();
    await page.getByTestId("total-rows-wide").getByText("5,000 rows").waitFor({ timeout: 60_000 });
    await page.getByTestId("preview-scroll-wide").locator('.preview-row[data-index="0"] [data-col="congestion_surcharge_c"]').waitFor({ state: "attached" });
    await scrollTo(page, "wide", "left");
    const left = await alignment(page, "wide");
    expect(left.columns).toBe(left.stated);
    expect(left.columns).toBeGreaterThanOrEqual(63);
    expect(left.off).toEqual([]);
    await scrollTo(page, "wide", "right");
    const right = await alignment(page, "wide");
    expect(right.scrollLeft).toBeGreaterThan(5000);
    expect(right.off).toEqual([]);
    await expect(cellText(page, "wide", 0, "lpep_pickup_datetime_c")).resolves.toBe("2020-10-01 00:31:19");
    await page.getByTestId("preview-wide").screenshot({ path: path.join(SCREENSHOT_DIR, "preview-wide-63-right.png") });
  });
});
