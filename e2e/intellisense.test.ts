/**
 * TypeScript IntelliSense in a block's Monaco editor: completions of `BlockContext`, `ctx.io` and
 * apache-arrow, and a type error shown as a marker with its hover — declarations served by this app
 * (public/monaco/block-types.json), no CDN. Real `sluice start`, real Chromium.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { REPO_ROOT } from "../test/taxi-data";
import { closeEditorSession, openEditorSession, SCREENSHOT_DIR, type StartedServer } from "./server";

jest.setTimeout(180_000);

const CODE = `import { tableFromArrays, type Table } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";

export default async function load(ctx: BlockContext): Promise<Table> {
  const label: string = 42;
  const bytes: Buffer = Buffer.from(process.env.HOME ?? "", "utf8");
  ctx.log.info(\`\${bytes.length}\`);
  const table = tableFromArrays({ id: Int32Array.from([1, 2]) });
  return table;
}
`;

/** The labels of the open suggest widget, once it shows `expected`. */
async function suggestionsAfter(page: Page, typed: string, expected: string): Promise<string[]> {
  const widget = page.locator(".suggest-widget.visible");
  const until = Date.now() + 60_000;
  for (;;) {
    await page.keyboard.type(typed);
    try {
      await widget.locator(".monaco-list-row", { hasText: expected }).first().waitFor({ timeout: 5_000 });
      return (await widget.locator(".monaco-list-row .label-name").allInnerTexts()).map((s) => s.trim());
    } catch (error) {
      // The TypeScript worker may still be loading the declarations: close the widget, retype.
      if (Date.now() > until) throw error;
      await page.keyboard.press("Escape");
      await page.waitForTimeout(500);
      for (let i = 0; i < typed.length; i++) await page.keyboard.press("Backspace");
    }
  }
}

describe("IntelliSense in block code (real server, real Chromium)", () => {
  let projectDir: string;
  let server: StartedServer;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-e2e-intellisense-"));
    const dir = path.join(projectDir, "pipelines", "typed");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "pipeline.yaml"), "version: 1\nname: typed\nblocks:\n  - name: load\n    type: loader\n    language: ts\n    upstream: []\n");
    fs.writeFileSync(path.join(dir, "load.ts"), CODE);
    ({ server, browser, page } = await openEditorSession(projectDir));
  }, 400_000);

  afterAll(async () => {
    await closeEditorSession({ server, browser }, projectDir);
  });

  it("serves the declarations from the app: the SDK, ctx.io and apache-arrow", async () => {
    const response = await fetch(`${server.url}/monaco/block-types.json`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { libs: { path: string; content: string }[] };
    const paths = body.libs.map((l) => l.path);
    expect(paths).toEqual(expect.arrayContaining(["file:///node_modules/@sluice/sdk/index.ts", "file:///node_modules/@sluice/sdk/io-types.ts", "file:///node_modules/apache-arrow/Arrow.node.d.ts", "file:///node_modules/apache-arrow/package.json"]));
    expect(body.libs.find((l) => l.path.endsWith("@sluice/sdk/index.ts"))?.content).toBe(fs.readFileSync(path.join(REPO_ROOT, "lib", "sdk", "index.ts"), "utf8"));
  });

  it("completes ctx., ctx.io. and an Arrow table's members, and marks a type error with its message", async () => {
    const started = Date.now();
    await page.goto(`${server.url}/pipelines/typed`);
    const editor = page.getByTestId("code-load").locator(".monaco-editor");
    await editor.waitFor();
    const editorMs = Date.now() - started;
    await page.waitForFunction(() => document.documentElement.dataset.sluiceBlockTypes !== undefined, undefined, { timeout: 60_000 });
    const typesMs = Date.now() - started;

    // The type error: a number assigned to a string, squiggled, its message on hover.
    const squiggle = editor.locator(".squiggly-error").first();
    await squiggle.waitFor({ timeout: 60_000 });
    const firstMarkerMs = Date.now() - started;
    // Node's API is typed too (blocks run in Node): Buffer and process are no errors; the string is the only one.
    await page.waitForTimeout(1000);
    expect(await editor.locator(".squiggly-error").count()).toBe(1);
    // The squiggle lies under the text layer: point the mouse at it rather than "hovering the element".
    const box = await squiggle.boundingBox();
    if (!box) throw new Error("the error squiggle is not visible");
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 3 });
    const hover = page.locator(".monaco-hover");
    await hover.getByText("Type 'number' is not assignable to type 'string'").first().waitFor({ timeout: 20_000 });
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, "intellisense-01-type-error.png") });
    await page.mouse.move(10, 10);

    // Type on a new line after `const table = …;`.
    await editor.locator(".view-line", { hasText: "const table" }).click();
    await page.keyboard.press("End");
    await page.keyboard.press("Enter");
    // The widget shows a dozen rows at a time, alphabetically: attempt, block, … log, …, progress.
    const typing = Date.now();
    const ctxMembers = await suggestionsAfter(page, "ctx.", "log");
    console.log(`IntelliSense: editor shown ${editorMs} ms, declarations added ${typesMs} ms, first type error marked ${firstMarkerMs} ms after opening the page; ctx. completed in ${Date.now() - typing} ms`);
    expect(ctxMembers).toEqual(expect.arrayContaining(["attempt", "env", "inputs", "io", "log", "progress"]));
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, "intellisense-02-ctx.png") });
    await page.keyboard.press("Escape");

    const ioMembers = await suggestionsAfter(page, "io.", "postgres");
    expect(ioMembers).toEqual(expect.arrayContaining(["postgres", "duckdb", "files", "http"]));
    await page.keyboard.press("Escape");
    for (let i = 0; i < "ctx.io.".length; i++) await page.keyboard.press("Backspace");

    const tableMembers = await suggestionsAfter(page, "table.num", "numRows");
    expect(tableMembers).toEqual(expect.arrayContaining(["numRows", "numCols"]));
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, "intellisense-03-arrow.png") });
    await page.keyboard.press("Escape");
  });
});
