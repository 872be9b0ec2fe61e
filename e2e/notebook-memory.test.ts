/**
 * The notebook remembers, in real Chromium against a real `sluice start`: a small pipeline (loader, a
 * transformer with a data test, an exporter writing files) runs from the editor; after a reload every block
 * still shows its state, rows, tests, writes and preview; the run page previews a block's output; the run picker
 * shows an earlier run. Screenshots in test-results/screenshots/notebook-*.png.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { writePipeline } from "../test/write-pipeline";
import { closeEditorSession, openEditorSession, SCREENSHOT_DIR, type StartedServer } from "./server";

jest.setTimeout(180_000);

const PIPELINE = `version: 1
name: taxi
description: trips in, checked, written out
blocks:
  - { name: load_trips, type: loader, language: ts, upstream: [] }
  - { name: clean_trips, type: transformer, language: ts, upstream: [load_trips] }
  - { name: save_trips, type: exporter, language: ts, upstream: [clean_trips] }
`;

const FILES = {
  "load_trips.ts": `import { tableFromArrays } from "apache-arrow";

export default async function load() {
  return tableFromArrays({ id: Int32Array.from([1, 2, 3, 4]), fare: Float64Array.from([7.5, -2, 12, 30]) });
}
`,
  "clean_trips.ts": `import { check } from "@sluice/sdk";
import type { Table } from "apache-arrow";

export default async function clean(input: Table) {
  return input.toArray().filter((r) => r.fare >= 0).map((r) => ({ id: r.id, fare: r.fare }));
}

export async function test(output: Table) {
  check(output.numRows === 3, "expected 3 trips");
  check(output.schema.fields.length === 2, "expected id and fare");
  check(output.getChild("fare")?.toArray().every((f: number) => f >= 0), "a fare is negative");
}
`,
  "save_trips.ts": `import type { BlockContext } from "@sluice/sdk";
import type { Table } from "apache-arrow";

export default async function save(input: Table, ctx: BlockContext) {
  await ctx.io.files.write(input, "exports/trips.parquet");
}
`,
};

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `notebook-${name}.png`), fullPage: true });
}

describe("a notebook that remembers (real server, real Chromium)", () => {
  let projectDir: string;
  let server: StartedServer;
  let browser: Browser;
  let page: Page;
  let runId = "";
  const notFound: string[] = [];

  beforeAll(async () => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-e2e-notebook-"));
    writePipeline(projectDir, "taxi", PIPELINE, FILES);
    ({ server, browser, page } = await openEditorSession(projectDir));
    page.on("response", (response) => {
      if (response.status() === 404) notFound.push(response.url());
    });
  }, 300_000);

  afterAll(async () => {
    await closeEditorSession({ server, browser }, projectDir);
  });

  it("1. runs the pipeline from the editor: rows, tests passed, rows written, no 404 for the exporter", async () => {
    await page.goto(`${server.url}/pipelines/taxi`);
    await page.getByTestId("run-bar").getByText("No run yet").waitFor();
    await page.getByRole("button", { name: "Run pipeline" }).click();
    await page.locator('[data-testid="run-bar"][data-state="success"]').waitFor({ timeout: 60_000 });
    runId = (await page.getByTestId("run-link").getAttribute("href"))?.replace("/runs/", "") ?? "";
    expect(runId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await page.getByTestId("state-save_trips").innerText()).toBe("success");
    expect(await page.getByTestId("rows-load_trips").innerText()).toBe("4 rows");
    await page.getByTestId("tests-clean_trips").getByText("3 tests passed").waitFor();
    expect(await page.getByTestId("writes-save_trips").innerText()).toMatch(/^wrote 3 rows to files \S*exports\/trips\.parquet$/);
    await page.getByTestId("total-rows-clean_trips").getByText("3 rows").waitFor();
    expect(await page.getByTestId("preview-save_trips").count()).toBe(0);
    await shot(page, "01-after-run");
    expect(notFound.filter((url) => url.includes("/api/"))).toEqual([]);
  });

  it("2. still shows every block's state, rows, tests, writes and preview after a reload", async () => {
    await page.reload();
    await page.getByTestId("total-rows-load_trips").getByText("4 rows").waitFor();
    expect(await page.getByTestId("run-bar").innerText()).not.toContain("No run yet");
    for (const block of ["load_trips", "clean_trips", "save_trips"]) expect(await page.getByTestId(`state-${block}`).innerText()).toBe("success");
    expect(await page.getByTestId("rows-clean_trips").innerText()).toBe("3 rows");
    expect(await page.getByTestId("tests-clean_trips").innerText()).toBe("3 tests passed");
    expect(await page.getByTestId("writes-save_trips").innerText()).toContain("wrote 3 rows to files");
    await page.getByTestId("total-rows-clean_trips").getByText("3 rows").waitFor();
    // Labelled with the run it came from, linked to its page.
    expect(await page.getByTestId("origin-clean_trips").getByRole("link").getAttribute("href")).toBe(`/runs/${runId}`);
    await shot(page, "02-after-reload");
    expect(notFound.filter((url) => url.includes("/api/"))).toEqual([]);
  });

  it("3. shows the notebook as of an earlier run in the run picker after a block run fails", async () => {
    fs.writeFileSync(path.join(projectDir, "pipelines", "taxi", "clean_trips.ts"), FILES["clean_trips.ts"].replace("r.fare >= 0", "r.fare >= -5"));
    await page.reload();
    await page.getByTestId("total-rows-load_trips").waitFor();
    await page.getByTestId("cell-clean_trips").getByRole("button", { name: "Run block" }).click();
    await page.locator('[data-testid="run-bar"][data-state="failed"]').waitFor({ timeout: 60_000 });
    await page.getByTestId("tests-clean_trips").getByText("test failed: expected 3 trips").waitFor();
    await page.reload();
    await page.getByTestId("tests-clean_trips").getByText("test failed: expected 3 trips").waitFor();
    expect(await page.getByTestId("state-clean_trips").innerText()).toBe("failed");
    // Its preview is still its newest output, from the whole run, and says so.
    await page.getByTestId("preview-origin-clean_trips").getByText(runId.slice(-8)).waitFor();
    await shot(page, "03-failed-block-remembered");

    const picker = page.getByLabel("Show");
    await picker.focus();
    await picker.locator(`option[value="${runId}"]`).waitFor({ state: "attached" });
    await picker.selectOption(runId);
    await page.locator('[data-testid="state-clean_trips"]', { hasText: "success" }).waitFor();
    expect(await page.getByTestId("tests-clean_trips").innerText()).toBe("3 tests passed");
    await shot(page, "04-run-picker");
  });

  it("4. previews a block's output on the run page, with the exporter's rows written and the tests", async () => {
    await page.goto(`${server.url}/runs/${runId}`);
    await page.getByTestId("block-runs").waitFor();
    expect(await page.getByTestId("block-result-clean_trips").innerText()).toBe("3 tests passed");
    expect(await page.getByTestId("block-result-save_trips").innerText()).toBe("wrote 3 rows");
    await page.getByTestId("block-run-clean_trips").getByRole("button", { name: "clean_trips" }).click();
    await page.getByTestId("total-rows-clean_trips").getByText("3 rows").waitFor();
    await shot(page, "05-run-page-preview");
    await page.getByTestId("block-run-save_trips").getByRole("button", { name: "save_trips" }).click();
    await page.getByTestId("result-save_trips").getByText(/wrote 3 rows to files/).waitFor();
    await shot(page, "06-run-page-exporter");
    expect(notFound.filter((url) => url.includes("/api/"))).toEqual([]);
  });
});
