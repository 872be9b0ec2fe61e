/**
 * The add-block menu's connector templates: listed from templates/io through GET /api/templates
 * (the folder as it is now), and adding one creates a block with the template's code. Real `sluice start`,
 * real Chromium.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { REPO_ROOT } from "../test/taxi-data";
import { closeEditorSession, openEditorSession, SCREENSHOT_DIR, type StartedServer } from "./server";

jest.setTimeout(180_000);

const TEMPLATES_DIR = path.join(REPO_ROOT, "templates", "io");

interface TemplatesBody {
  templates: { id: string; stem: string; label: string; type: string; language: string; code: string }[];
  problems: { file: string; message: string }[];
}

describe("connector templates in the add-block menu (real server, real Chromium)", () => {
  let projectDir: string;
  let server: StartedServer;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-e2e-templates-"));
    const dir = path.join(projectDir, "pipelines", "connectors");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "pipeline.yaml"), "version: 1\nname: connectors\nblocks: []\n");
    ({ server, browser, page } = await openEditorSession(projectDir));
  }, 400_000);

  afterAll(async () => {
    await closeEditorSession({ server, browser }, projectDir);
  });

  it("GET /api/templates lists every template of templates/io with its code", async () => {
    const files = fs.readdirSync(TEMPLATES_DIR).filter((f) => /\.(ts|sql)$/.test(f));
    const response = await fetch(`${server.url}/api/templates`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as TemplatesBody;
    expect(body.problems).toEqual([]);
    // Another change may add a template meanwhile: everything that was there is listed.
    expect(body.templates.map((t) => t.id)).toEqual(expect.arrayContaining(files.map((f) => `io/${f}`)));
    const csv = body.templates.find((t) => t.id === "io/http_csv_loader.ts");
    expect(csv).toMatchObject({ stem: "http_csv_loader", label: "HTTP CSV loader (TypeScript)", type: "loader", language: "ts" });
    expect(csv?.code).toBe(fs.readFileSync(path.join(TEMPLATES_DIR, "http_csv_loader.ts"), "utf8"));
  });

  it("adds a connector template block beside the blank ones, with the template's code", async () => {
    await page.goto(`${server.url}/pipelines/connectors`);
    await page.getByRole("button", { name: "+ TypeScript loader" }).waitFor();
    await page.getByRole("button", { name: "+ Connector template…" }).click();
    const menu = page.getByRole("menu", { name: "Connector templates" });
    const item = menu.getByRole("menuitem", { name: /HTTP CSV loader \(TypeScript\)/ });
    await item.waitFor();
    const shown = await menu.getByRole("menuitem").count();
    expect(shown).toBeGreaterThanOrEqual(fs.readdirSync(TEMPLATES_DIR).filter((f) => /\.(ts|sql)$/.test(f)).length);
    await menu.getByRole("menuitem", { name: /Postgres loader \(SQL\)/ }).waitFor();
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, "templates-01-menu.png") });

    await item.click();
    await page.getByRole("dialog").getByRole("button", { name: "Add block" }).click();
    const cell = page.getByTestId("cell-http_csv_loader");
    await cell.waitFor();
    await expect(cell.getByLabel("Block type").inputValue()).resolves.toBe("loader");
    await cell.locator(".monaco-editor").waitFor();
    await cell.getByText("COLUMNS").first().waitFor();
    const file = path.join(projectDir, "pipelines", "connectors", "http_csv_loader.ts");
    expect(fs.readFileSync(file, "utf8")).toBe(fs.readFileSync(path.join(TEMPLATES_DIR, "http_csv_loader.ts"), "utf8"));
    expect(fs.readFileSync(path.join(projectDir, "pipelines", "connectors", "pipeline.yaml"), "utf8")).toMatch(/name: http_csv_loader\s+type: loader\s+language: ts/);

    // A SQL template: a second block, its name made unique when added twice.
    await page.getByRole("button", { name: "+ Connector template…" }).click();
    await menu.getByRole("menuitem", { name: /Postgres loader \(SQL\)/ }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Add block" }).click();
    await page.getByTestId("cell-postgres_loader").waitFor();
    await page.getByRole("button", { name: "+ Connector template…" }).click();
    await menu.getByRole("menuitem", { name: /Postgres loader \(SQL\)/ }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Add block" }).click();
    await page.getByTestId("cell-postgres_loader_2").waitFor();
    expect(fs.readFileSync(path.join(projectDir, "pipelines", "connectors", "postgres_loader_2.sql"), "utf8")).toBe(fs.readFileSync(path.join(TEMPLATES_DIR, "postgres_loader.sql"), "utf8"));
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, "templates-02-added.png") });
  });
});
