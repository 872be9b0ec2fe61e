/**
 * The data preview in real Chromium against a real `sluice start`: per-column histograms of a TypeScript
 * (Arrow) output and of a SQL (Parquet) output, and paging far into an output. Screenshots go to
 * test-results/screenshots/preview-*.png.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { closeEditorSession, openEditorSession, SCREENSHOT_DIR, type StartedServer } from "./server";

jest.setTimeout(180_000);

// 10,000 rows: n = 0…9,999 (20 bins of 500), amount = n % 100 (20 bins of 4.95), seen = one row a minute from
// 2024-01-01, label a string (no histogram), and every 7th amount null.
const LOADER = `import { Float64, Int32, Table, TimestampMillisecond, Utf8, vectorFromArray } from "apache-arrow";
export default async function load() {
  const rows = 10_000;
  const start = Date.UTC(2024, 0, 1);
  return new Table({
    n: vectorFromArray(Array.from({ length: rows }, (_, i) => i), new Int32()),
    amount: vectorFromArray(Array.from({ length: rows }, (_, i) => (i % 7 === 0 ? null : i % 100)), new Float64()),
    seen: vectorFromArray(Array.from({ length: rows }, (_, i) => start + i * 60_000), new TimestampMillisecond()),
    label: vectorFromArray(Array.from({ length: rows }, (_, i) => "row " + i), new Utf8()),
  });
}
`;

const PIPELINE = `version: 1
name: previews
blocks:
  - name: numbers
    type: loader
    language: ts
    upstream: []
  - name: doubled
    type: transformer
    language: sql
    upstream: [numbers]
`;

/** The bars of a column's histogram: its tooltip text and count, bin by bin. */
async function bars(page: Page, testId: string): Promise<{ title: string; count: number }[]> {
  return page.getByTestId(testId).evaluate((svg) =>
    [...svg.querySelectorAll("g")].map((g) => ({
      title: g.querySelector("title")?.textContent ?? "",
      count: Number(g.querySelector("[data-count]")?.getAttribute("data-count")),
    })),
  );
}

describe("the data preview (real server, real Chromium)", () => {
  let projectDir: string;
  let server: StartedServer;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-e2e-preview-"));
    const dir = path.join(projectDir, "pipelines", "previews");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "pipeline.yaml"), PIPELINE);
    fs.writeFileSync(path.join(dir, "numbers.ts"), LOADER);
    fs.writeFileSync(path.join(dir, "doubled.sql"), "SELECT n * 2 AS twice, amount, seen FROM numbers\n");
    ({ server, browser, page } = await openEditorSession(projectDir));
    await page.goto(`${server.url}/pipelines/previews`);
    // The editor is interactive once a block's code editor shows.
    await page.getByTestId("code-numbers").waitFor();
    await page.getByRole("button", { name: "Run pipeline" }).click();
    const bar = page.getByTestId("run-bar");
    await page.locator('[data-testid="run-bar"]:is([data-state="success"], [data-state="failed"])').waitFor({ timeout: 120_000 });
    if ((await bar.getAttribute("data-state")) !== "success") throw new Error(`the run did not succeed: ${await page.locator("body").innerText()}`);
  }, 400_000);

  afterAll(async () => {
    await closeEditorSession({ server, browser }, projectDir);
  });

  it("draws a histogram for the numeric and time columns of a TypeScript block's output, with ranges and counts as tooltips", async () => {
    await page.getByTestId("total-rows-numbers").getByText("10,000 rows").waitFor();
    const n = await bars(page, "hist-numbers-n");
    expect(n).toHaveLength(20);
    expect(n.map((b) => b.count)).toEqual(Array<number>(20).fill(500));
    expect(n[0].title).toBe("[0, 500): 500");
    expect(n[19].title).toBe("[9,500, 10,000]: 500");

    // Nulls are left out: 10,000 − 1,429 multiples of 7.
    const amount = await bars(page, "hist-numbers-amount");
    expect(amount).toHaveLength(20);
    expect(amount.reduce((sum, b) => sum + b.count, 0)).toBe(10_000 - 1_429);
    expect(amount[0].title).toMatch(/^\[0, 4\.95\): \d+$/);

    const seen = await bars(page, "hist-numbers-seen");
    expect(seen).toHaveLength(20);
    // 599,940,001 possible milliseconds in bins of 29,997,001; a midnight edge shows as the date alone. The
    // column has no zone, so edges read as wall-clock times like its cells, without a Z.
    expect(seen[0].title).toBe("[2024-01-01, 2024-01-01 08:19:57.001): 500");

    await expect(page.getByTestId("hist-numbers-label").count()).resolves.toBe(0);
    // The bars are visible, not only in the DOM.
    const box = await page.getByTestId("hist-numbers-n").boundingBox();
    expect(box?.width).toBeGreaterThan(50);
    expect(box?.height).toBeGreaterThan(10);
    await page.getByTestId("preview-numbers").screenshot({ path: path.join(SCREENSHOT_DIR, "preview-histograms.png") });
  });

  it("draws the same histograms for a SQL block's (Parquet) output", async () => {
    await page.getByTestId("total-rows-doubled").getByText("10,000 rows").waitFor();
    const twice = await bars(page, "hist-doubled-twice");
    expect(twice.map((b) => b.count)).toEqual(Array<number>(20).fill(500));
    expect(twice[0].title).toBe("[0, 1,000): 500");
    const amount = await bars(page, "hist-doubled-amount");
    expect(amount.map((b) => b.count)).toEqual((await bars(page, "hist-numbers-amount")).map((b) => b.count));
    await expect(page.getByTestId("hist-doubled-seen").count()).resolves.toBe(1);
  });

  it("pages far into an output on scroll", async () => {
    const scroller = page.getByTestId("preview-scroll-numbers");
    await scroller.evaluate((element) => {
      element.scrollTop = element.scrollHeight;
    });
    const last = scroller.locator('[data-index="9999"]');
    await last.getByText("row 9999").waitFor();
    await expect(last.innerText()).resolves.toMatch(/^10000\s+9999\s+99\s+2024-01-07 22:39:00\s+row 9999$/);
    // Rows above the loaded pages are not in the DOM: the table is virtualised.
    await expect(scroller.locator('[data-index="0"]').count()).resolves.toBe(0);
  });
});
