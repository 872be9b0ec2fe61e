/**
 * The editor walked as a new user would, in real Chromium against a real `sluice start`.
 * One server for the file; each step leaves a screenshot in test-results/screenshots/editor-*.png.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser, Locator, Page } from "playwright-core";
import { REPO_ROOT } from "../test/taxi-data";
import { closeEditorSession, openEditorSession, SCREENSHOT_DIR, type StartedServer } from "./server";

jest.setTimeout(120_000);

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `editor-${name}.png`) });
}

/** Replaces the whole content of a block's Monaco editor, as typed text (no auto-closing). */
async function replaceCode(page: Page, block: string, code: string): Promise<void> {
  const editor = page.getByTestId(`code-${block}`).locator(".monaco-editor");
  await editor.waitFor();
  await editor.locator(".view-lines").click();
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  await page.keyboard.insertText(code);
}

/** A block's code as shown (Monaco renders spaces as no-break spaces). */
async function shownCode(page: Page, block: string): Promise<string> {
  return (await page.getByTestId(`code-${block}`).innerText()).replace(/\s+/g, " ");
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error("timed out waiting for a condition");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function center(locator: Locator): Promise<{ x: number; y: number }> {
  const box = await locator.boundingBox();
  if (!box) throw new Error("element is not visible");
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

interface RunBody {
  run: { mode: string; state: string };
  blocks: { block: string; state: string }[];
}

describe("the pipeline editor (real server, real Chromium)", () => {
  let projectDir: string;
  let server: StartedServer;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-e2e-editor-"));
    fs.cpSync(path.join(REPO_ROOT, "pipelines", "hello"), path.join(projectDir, "pipelines", "hello"), { recursive: true });
    ({ server, browser, page } = await openEditorSession(projectDir));
  }, 300_000);

  afterAll(async () => {
    await closeEditorSession({ server, browser }, projectDir);
  });

  it("1. creates a pipeline from the home page", async () => {
    await page.goto(server.url);
    await page.getByRole("heading", { name: "Sluice" }).waitFor();
    await shot(page, "01-home");
    await page.getByLabel("New pipeline name").fill("first_steps");
    await page.getByRole("button", { name: "Create" }).click();
    await page.waitForURL(/\/pipelines\/first_steps$/);
    await page.getByTestId("pipeline-name").getByText("first_steps").waitFor();
    await shot(page, "02-new-pipeline");
  });

  it("2. adds a TypeScript loader and a SQL transformer, and connects them by dragging in the graph", async () => {
    await page.getByRole("button", { name: "+ TypeScript loader" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Add block" }).click();
    await page.getByTestId("cell-load_data").waitFor();
    await page.getByRole("button", { name: "+ SQL transformer" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Add block" }).click();
    await page.getByTestId("cell-transform_sql").waitFor();
    await page.getByTestId("node-transform_sql").waitFor();
    await page.getByTestId("code-transform_sql").locator(".monaco-editor").waitFor();
    expect(await shownCode(page, "transform_sql")).toContain("FROM load_data");

    const from = await center(page.getByTestId("source-load_data"));
    const to = await center(page.getByTestId("target-transform_sql"));
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move((from.x + to.x) / 2, (from.y + to.y) / 2, { steps: 5 });
    await page.mouse.move(to.x, to.y, { steps: 5 });
    await page.mouse.up();
    await page.getByTestId("cell-transform_sql").getByText("upstream: load_data").waitFor();
    const yamlFile = path.join(projectDir, "pipelines", "first_steps", "pipeline.yaml");
    await waitFor(async () => /name: transform_sql[\s\S]*upstream:\s*\n?\s*-?\s*\[?load_data/.test(fs.readFileSync(yamlFile, "utf8")));
    await shot(page, "03-connected");

    // The reverse edge would close a cycle: refused, and the cycle is named.
    const back = await center(page.getByTestId("source-transform_sql"));
    const loaderTarget = await center(page.getByTestId("target-load_data"));
    await page.mouse.move(back.x, back.y);
    await page.mouse.down();
    await page.mouse.move(loaderTarget.x, loaderTarget.y, { steps: 8 });
    await page.mouse.up();
    await expect(page.getByTestId("graph-error").innerText()).resolves.toContain("load_data → transform_sql → load_data");
    await shot(page, "04-cycle-refused");
  });

  it("3. runs the pipeline and shows rows, Arrow types and stats of both outputs", async () => {
    await page.getByRole("button", { name: "Run pipeline" }).click();
    await page.locator('[data-testid="run-bar"][data-state="success"]').waitFor({ timeout: 60_000 });
    const loader = page.getByTestId("preview-load_data");
    await loader.getByText("5 rows").waitFor();
    await expect(page.getByTestId("col-load_data-amount").innerText()).resolves.toMatch(/amount\s+Float64\s+nulls 0[\s\S]*min 7[\s\S]*max 42/);
    await expect(page.getByTestId("col-load_data-id").innerText()).resolves.toContain("Int32");
    await loader.getByText("Lisbon").waitFor();
    const sql = page.getByTestId("preview-transform_sql");
    await sql.getByText("5 rows").waitFor();
    await expect(page.getByTestId("col-transform_sql-city").innerText()).resolves.toMatch(/city\s+(Utf8|Dictionary)/);
    await expect(page.getByTestId("col-transform_sql-amount").innerText()).resolves.toContain("Float64");
    await page.getByTestId("node-load_data").locator("text=success").waitFor();
    await shot(page, "05-pipeline-run");
  });

  it("4. changes the SQL and re-runs only that block on the cached upstream (Shift+Enter)", async () => {
    const loaderRows = await page.getByTestId("state-load_data").innerText();
    await replaceCode(page, "transform_sql", "SELECT city, amount * 2 AS doubled FROM load_data WHERE amount > 10 ORDER BY city");
    await page.keyboard.press("Shift+Enter");
    await page.getByTestId("run-bar").getByText("transform_sql (block)").waitFor();
    await page.locator('[data-testid="run-bar"][data-state="success"]').waitFor({ timeout: 60_000 });
    const sql = page.getByTestId("preview-transform_sql");
    await sql.getByText("4 rows").waitFor();
    await page.getByTestId("col-transform_sql-doubled").waitFor();
    expect(await page.getByTestId("state-load_data").innerText()).toBe(loaderRows);
    expect(fs.readFileSync(path.join(projectDir, "pipelines", "first_steps", "transform_sql.sql"), "utf8")).toContain("amount * 2 AS doubled");

    const runs = (await (await fetch(`${server.url}/api/runs?pipeline=first_steps&limit=1`)).json()) as { runs: { id: string }[] };
    const detail = (await (await fetch(`${server.url}/api/runs/${runs.runs[0].id}`)).json()) as RunBody;
    expect(detail.run.mode).toBe("block");
    expect(detail.blocks.map((b) => b.block)).toEqual(["transform_sql"]);
    await shot(page, "06-sql-rerun");
  });

  it("5. shows a clear error from a block that throws", async () => {
    await page.getByRole("button", { name: "+ TypeScript transformer" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Add block" }).click();
    await page.getByTestId("cell-transform").waitFor();
    await replaceCode(page, "transform", 'export default async function transform() { throw new Error("bad input: the amount column is empty"); }');
    await page.getByTestId("cell-transform").getByRole("button", { name: "Run block" }).click();
    const error = page.getByTestId("error-transform");
    await error.waitFor({ timeout: 60_000 });
    expect(await error.innerText()).toContain("bad input: the amount column is empty");
    expect(await page.getByTestId("state-transform").innerText()).toBe("failed");
    await page.getByTestId("cell-transform").scrollIntoViewIfNeeded();
    await shot(page, "07-block-error");
  });

  it("6. gets a conflict prompt from a stale second tab", async () => {
    const stale = page; // opened before the other tab saves
    const other = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    await other.goto(`${server.url}/pipelines/first_steps`);
    await replaceCode(other, "transform_sql", "SELECT city FROM load_data");
    await other.keyboard.press("Control+S");
    await other.getByTestId("cell-transform_sql").getByText("saved").waitFor();
    expect(fs.readFileSync(path.join(projectDir, "pipelines", "first_steps", "transform_sql.sql"), "utf8")).toBe("SELECT city FROM load_data");

    await replaceCode(stale, "transform_sql", "SELECT amount FROM load_data");
    await stale.keyboard.press("Control+S");
    const conflict = stale.getByTestId("conflict");
    await conflict.waitFor();
    expect(await conflict.innerText()).toContain("changed since you opened it");
    expect(fs.readFileSync(path.join(projectDir, "pipelines", "first_steps", "transform_sql.sql"), "utf8")).toBe("SELECT city FROM load_data");
    await shot(stale, "08-conflict");

    await conflict.getByRole("button", { name: "Reload their version" }).click();
    await conflict.waitFor({ state: "detached" });
    await waitFor(async () => (await shownCode(stale, "transform_sql")).includes("SELECT city FROM load_data"));
    await other.close();
    await shot(stale, "09-conflict-resolved");
  });
});
