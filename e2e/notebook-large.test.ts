/**
 * A 200-block pipeline in real Chromium against a real `sluice start`: the notebook mounts only the cells
 * near the viewport (so only a few Monaco editors exist), a click on a graph node scrolls to its cell and
 * puts the caret in its editor, and an edit there is saved with Ctrl+S, runs with Shift+Enter and survives
 * the cell scrolling away and back. Screenshots go to test-results/screenshots/notebook-large-*.png.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { blockName, LARGE_PIPELINE, writeLargePipeline } from "../bench/notebook";
import { closeEditorSession, openEditorSession, SCREENSHOT_DIR, type StartedServer } from "./server";

jest.setTimeout(180_000);

const MAX_EDITORS = 30;

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `notebook-large-${name}.png`) });
}

/** Monaco editors in the page, cells mounted with their content, and cells standing as placeholders. */
async function counts(page: Page): Promise<{ editors: number; cells: number; placeholders: number }> {
  return page.evaluate(() => ({
    editors: document.querySelectorAll(".code-editor .monaco-editor").length,
    cells: document.querySelectorAll("section.cell").length,
    placeholders: document.querySelectorAll('[data-testid^="placeholder-"]').length,
  }));
}

/** Whether the cell's top edge is inside the notebook's visible part. */
async function cellOnScreen(page: Page, block: string): Promise<boolean> {
  return page.evaluate((block) => {
    const notebook = document.querySelector('[data-testid="notebook"]');
    const cell = document.querySelector(`[data-testid="cell-${block}"]`);
    if (!notebook || !cell) return false;
    const view = notebook.getBoundingClientRect();
    const box = cell.getBoundingClientRect();
    return box.top >= view.top - 1 && box.top < view.bottom;
  }, block);
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("a 200-block notebook (real server, real Chromium)", () => {
  let projectDir: string;
  let server: StartedServer;
  let browser: Browser;
  let page: Page;
  const target = blockName(150);
  const targetFile = () => path.join(projectDir, "pipelines", LARGE_PIPELINE, `${target}.ts`);

  beforeAll(async () => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-e2e-notebook-"));
    writeLargePipeline(projectDir);
    ({ server, browser, page } = await openEditorSession(projectDir));
  }, 300_000);

  afterAll(async () => {
    await closeEditorSession({ server, browser }, projectDir);
  });

  it("opens with only the cells near the viewport mounted, and few Monaco editors", async () => {
    await page.goto(`${server.url}/pipelines/${LARGE_PIPELINE}`);
    await page.getByTestId(`code-${blockName(0)}`).locator(".monaco-editor").waitFor({ timeout: 60_000 });
    await page.waitForTimeout(1500);
    const opened = await counts(page);
    expect(opened.editors).toBeGreaterThan(0);
    expect(opened.editors).toBeLessThan(MAX_EDITORS);
    expect(opened.cells).toBeLessThan(60);
    // Every block still has its place in the notebook: mounted or a placeholder with the cell's id.
    expect(opened.cells + opened.placeholders).toBe(200);
    expect(await page.locator(`#cell-${target}`).count()).toBe(1);
    expect(await page.getByTestId(`cell-${target}`).count()).toBe(0);
    await shot(page, "01-opened");
  });

  it("a click on block #150's graph node scrolls to its cell and focuses its editor", async () => {
    const node = page.locator(`.react-flow__node[data-id="${target}"]`);
    await node.waitFor({ timeout: 60_000 });
    await node.click();
    await page.getByTestId(`code-${target}`).locator(".monaco-editor").waitFor({ timeout: 30_000 });
    await waitFor(() => cellOnScreen(page, target), `cell ${target} is on screen`);
    await waitFor(
      () => page.evaluate((block) => document.querySelector(`[data-testid="code-${block}"]`)?.contains(document.activeElement) ?? false, target),
      `the editor of ${target} has the focus`,
    );
    const jumped = await counts(page);
    expect(jumped.editors).toBeLessThan(MAX_EDITORS);
    await shot(page, "02-jumped");
  });

  it("an edit in that cell is saved by Ctrl+S and runs with Shift+Enter", async () => {
    const before = fs.readFileSync(targetFile(), "utf8");
    await page.keyboard.press("Control+End");
    await page.keyboard.insertText("\n// edited in a 200-block notebook");
    await page.keyboard.press("Control+s");
    await waitFor(async () => fs.readFileSync(targetFile(), "utf8").includes("// edited in a 200-block notebook"), "the file on disk has the edit");
    const after = fs.readFileSync(targetFile(), "utf8");
    expect(after.startsWith(before.trimEnd())).toBe(true);
    await page.getByTestId(`cell-${target}`).getByText("saved", { exact: true }).waitFor();

    await page.keyboard.press("Shift+Enter");
    await page.locator(`[data-testid="state-${target}"]`).filter({ hasText: "success" }).waitFor({ timeout: 90_000 });
    expect(await page.getByTestId(`rows-${target}`).innerText()).toBe("2 rows");
    await shot(page, "03-saved-and-run");
  });

  it("a cell that scrolls away is unmounted (its editor disposed) and comes back with its code", async () => {
    // Jump far away: block #150 loses the focus and, out of range, becomes a placeholder again.
    await page.locator(`.react-flow__node[data-id="${blockName(5)}"]`).click();
    await waitFor(() => cellOnScreen(page, blockName(5)), `cell ${blockName(5)} is on screen`);
    await page.getByTestId(`placeholder-${target}`).waitFor({ state: "attached" });
    expect(await page.getByTestId(`code-${target}`).count()).toBe(0);
    await page.waitForTimeout(500);
    const away = await counts(page);
    expect(away.editors).toBeLessThan(MAX_EDITORS);
    // Monaco's own bookkeeping: unmounted cells leave no editor and no model behind.
    const monaco = await page.evaluate(() => {
      const api = (globalThis as unknown as { monaco?: { editor: { getEditors(): unknown[]; getModels(): unknown[] } } }).monaco;
      return api ? { editors: api.editor.getEditors().length, models: api.editor.getModels().length } : null;
    });
    expect(monaco).toEqual({ editors: away.editors, models: away.editors });

    await page.locator(`.react-flow__node[data-id="${target}"]`).click();
    await page.getByTestId(`code-${target}`).locator(".monaco-editor").waitFor({ timeout: 30_000 });
    await page.getByTestId(`code-${target}`).getByText("edited in a 200-block notebook").waitFor();
  });
});
