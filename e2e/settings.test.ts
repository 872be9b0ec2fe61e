/**
 * Settings in the UI, walked in real Chromium against a real `sluice start`: a connector template loader
 * named in the add-block dialog, a transformer attached below it without touching its upstream, a variable
 * set in the settings panel and read by the loader, a run that succeeds — and `pipeline.yaml` still carries
 * the comments and layout its author wrote. Screenshots: test-results/screenshots/settings-*.png.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { parsePipelineYaml } from "../lib/core/pipeline-schema";
import { REPO_ROOT } from "../test/taxi-data";
import { closeEditorSession, openEditorSession, SCREENSHOT_DIR, type StartedServer } from "./server";

jest.setTimeout(180_000);

const HAND_WRITTEN = `# Zones of the NYC taxi data — written by hand, keep this comment.
version: 1
name: zones_demo
description: Taxi zones   # shown on the home page

# Variables the blocks read.
variables:
  borough: Queens   # not used yet
blocks: []
`;

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `settings-${name}.png`) });
}

describe("settings, variables and self-wiring blocks (real server, real Chromium)", () => {
  let projectDir: string;
  let server: StartedServer;
  let browser: Browser;
  let page: Page;
  let yamlFile: string;

  beforeAll(async () => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-e2e-settings-"));
    const dir = path.join(projectDir, "pipelines", "zones_demo");
    fs.mkdirSync(dir, { recursive: true });
    yamlFile = path.join(dir, "pipeline.yaml");
    fs.writeFileSync(yamlFile, HAND_WRITTEN);
    fs.mkdirSync(path.join(projectDir, "data"));
    fs.copyFileSync(path.join(REPO_ROOT, "test", "data", "nyc-taxi", "taxi_zone_lookup.csv"), path.join(projectDir, "data", "zones.csv"));
    ({ server, browser, page } = await openEditorSession(projectDir));
  }, 400_000);

  afterAll(async () => {
    await closeEditorSession({ server, browser }, projectDir);
  });

  it("adds a connector template loader under the name given in the dialog", async () => {
    await page.goto(`${server.url}/pipelines/zones_demo`);
    await page.getByRole("button", { name: "+ Connector template…" }).click();
    await page.getByRole("menu", { name: "Connector templates" }).getByRole("menuitem", { name: /Parquet file loader \(TypeScript\)/ }).click();
    const dialog = page.getByRole("dialog", { name: /Add Parquet file loader/ });
    expect(await dialog.getByLabel("Name").inputValue()).toBe("parquet_file_loader");
    expect(await dialog.getByLabel("Reads from (upstream)").inputValue()).toBe("");
    await dialog.getByLabel("Name").fill("zones");
    await shot(page, "01-add-loader-dialog");
    await dialog.getByRole("button", { name: "Add block" }).click();
    await page.getByTestId("cell-zones").waitFor();
    expect(fs.readFileSync(path.join(projectDir, "pipelines", "zones_demo", "zones.ts"), "utf8")).toBe(fs.readFileSync(path.join(REPO_ROOT, "templates", "io", "parquet_file_loader.ts"), "utf8"));
  });

  it("attaches a new transformer below the selected block", async () => {
    await page.getByRole("button", { name: "+ TypeScript transformer" }).click();
    const dialog = page.getByRole("dialog", { name: "Add TypeScript transformer" });
    expect(await dialog.getByLabel("Reads from (upstream)").inputValue()).toBe("zones");
    await dialog.getByLabel("Name").fill("zone_rows");
    await dialog.getByRole("button", { name: "Add block" }).click();
    await page.getByTestId("cell-zone_rows").waitFor();
    const pipeline = parsePipelineYaml(fs.readFileSync(yamlFile, "utf8"), "pipeline.yaml");
    expect(pipeline.blocks.map((b) => [b.name, b.type, b.upstream])).toEqual([
      ["zones", "loader", []],
      ["zone_rows", "transformer", ["zones"]],
    ]);
    await shot(page, "02-transformer-attached");
  });

  it("sets a variable in the settings panel; the run reads it and succeeds", async () => {
    await page.getByRole("button", { name: "Settings" }).click();
    const panel = page.getByRole("complementary", { name: "Settings" });
    await panel.getByLabel("New variable name").fill("path");
    await panel.getByLabel("New variable value").fill("data/zones.csv");
    await panel.getByRole("button", { name: "Add variable" }).click();
    await panel.getByLabel("Value of variable path").waitFor();
    await expect(panel.getByLabel("Value of variable path").inputValue()).resolves.toBe("data/zones.csv");
    await shot(page, "03-variable-set");
    await panel.getByRole("button", { name: "Close settings" }).click();

    await page.getByRole("button", { name: "Run pipeline", exact: true }).click();
    await page.getByTestId("state-zone_rows").getByText("success").waitFor({ timeout: 90_000 });
    expect(await page.getByTestId("state-zones").innerText()).toBe("success");
    const rows = await page.getByTestId("rows-zone_rows").innerText();
    expect(rows).toBe(`${fs.readFileSync(path.join(projectDir, "data", "zones.csv"), "utf8").trim().split("\n").length - 1} rows`);
    await shot(page, "04-run-succeeded");
  });

  it("kept the hand-written comments and layout of pipeline.yaml through every edit", async () => {
    const text = fs.readFileSync(yamlFile, "utf8");
    for (const line of ["# Zones of the NYC taxi data — written by hand, keep this comment.", "description: Taxi zones   # shown on the home page", "# Variables the blocks read.", "  borough: Queens   # not used yet"]) {
      expect(text).toContain(line);
    }
    expect(text).toBe(`${HAND_WRITTEN.replace("  borough: Queens   # not used yet\n", "  borough: Queens   # not used yet\n  path: data/zones.csv\n").replace("blocks: []\n", "")}blocks:
  - name: zones
    type: loader
    language: ts
    upstream: []

  - name: zone_rows
    type: transformer
    language: ts
    upstream: [zones]
`);
  });
});
