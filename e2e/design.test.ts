/**
 * The visual design in real Chromium against a real `sluice start`: every page in light and dark (screenshots
 * in test-results/screenshots/design-*.png), the favicon, dark surfaces really dark, the theme choice kept
 * across a reload, the keyboard shortcuts and their help overlay, run states announced, the preview beside the
 * code on a wide screen, and every button and link with an accessible name.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { REPO_ROOT } from "../test/taxi-data";
import { closeEditorSession, openEditorSession, SCREENSHOT_DIR, type StartedServer } from "./server";

jest.setTimeout(300_000);

/** The token values of app/globals.css that the checks compare with, as computed styles report them. */
const LIGHT_BG = "rgb(246, 247, 249)";
const DARK_BG = "rgb(15, 17, 21)";
const DARK_SURFACE = "rgb(23, 26, 33)";
const WHITE = "rgb(255, 255, 255)";

/** Buttons, links and button-like elements that a screen reader would announce without a name. */
async function unnamedControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const nameOf = (el: Element): string => {
      const labelled = el.getAttribute("aria-labelledby");
      if (labelled) return labelled.split(/\s+/).map((id) => document.getElementById(id)?.textContent ?? "").join(" ").trim();
      const label = el.getAttribute("aria-label")?.trim();
      if (label) return label;
      const text = (el as HTMLElement).innerText?.trim() || el.textContent?.trim();
      if (text) return text;
      const alt = [...el.querySelectorAll("img[alt]")].map((img) => img.getAttribute("alt")).join(" ").trim();
      if (alt) return alt;
      if (el instanceof HTMLInputElement) return el.value;
      return el.getAttribute("title")?.trim() ?? "";
    };
    const visible = (el: Element) => {
      const box = el.getBoundingClientRect();
      return box.width > 0 && box.height > 0 && getComputedStyle(el).visibility !== "hidden";
    };
    return [...document.querySelectorAll('button, a[href], [role="button"], [role="link"], summary, input[type="submit"], input[type="button"]')]
      .filter((el) => visible(el) && nameOf(el) === "")
      .map((el) => el.outerHTML.slice(0, 160));
  });
}

/** Elements (cards, cells, tables, inputs…) still painted white: a dark page must have none. */
async function whiteBackgrounds(page: Page): Promise<string[]> {
  return page.evaluate(
    (white) =>
      [...document.querySelectorAll("body *")]
        .filter((el) => {
          const box = el.getBoundingClientRect();
          return box.width > 4 && box.height > 4 && getComputedStyle(el).backgroundColor === white;
        })
        .map((el) => `${el.tagName.toLowerCase()}.${String(el.className).slice(0, 60)}`),
    WHITE,
  );
}

const backgroundOf = (page: Page, selector: string) => page.locator(selector).first().evaluate((el) => getComputedStyle(el).backgroundColor);

describe("one visual design (real server, real Chromium)", () => {
  let projectDir: string;
  let server: StartedServer;
  let browser: Browser;
  let page: Page;
  let runPath: string;

  beforeAll(async () => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-e2e-design-"));
    fs.cpSync(path.join(REPO_ROOT, "pipelines", "hello"), path.join(projectDir, "pipelines", "hello"), { recursive: true });
    const session = await openEditorSession(projectDir);
    ({ server, browser, page } = session);
  }, 300_000);

  afterAll(async () => {
    await closeEditorSession({ server, browser }, projectDir);
  });

  it("serves a favicon and an SVG icon, and links the icon from every page", async () => {
    const ico = await fetch(`${server.url}/favicon.ico`);
    expect(ico.status).toBe(200);
    const bytes = Buffer.from(await ico.arrayBuffer());
    expect([...bytes.subarray(0, 4)]).toEqual([0, 0, 1, 0]); // the ICO header: reserved 0, type 1 (icon)
    expect(ico.headers.get("content-type")).toMatch(/icon/);
    const svg = await fetch(`${server.url}/icon.svg`);
    expect(svg.status).toBe(200);
    expect(svg.headers.get("content-type")).toMatch(/image\/svg\+xml/);
    expect(await svg.text()).toContain("<svg");
    await page.goto(server.url);
    const icons = await page.locator('head link[rel="icon"]').evaluateAll((links) => links.map((l) => l.getAttribute("href")));
    expect(icons.some((href) => href?.startsWith("/icon.svg") || href?.startsWith("/favicon.ico"))).toBe(true);
  });

  it("runs the pipeline from the keyboard, announces the block states, and lists the shortcuts on ?", async () => {
    await page.goto(`${server.url}/pipelines/hello`);
    await page.getByTestId("cell-load_trips").waitFor();
    await page.locator("body").click({ position: { x: 5, y: 300 } });

    await page.keyboard.press("?");
    const help = page.getByRole("dialog", { name: "Keyboard shortcuts" });
    await help.waitFor();
    for (const text of ["Run the focused block", "Run the whole pipeline", "Add a block below", "Save every edited block", "Show these shortcuts"]) await expect(help.getByText(text, { exact: false }).count()).resolves.toBe(1);
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, "design-shortcuts-help.png") });
    await page.keyboard.press("Escape");
    await help.waitFor({ state: "detached" });

    await page.keyboard.press("Control+Shift+Enter");
    const announcer = page.getByTestId("run-announcer");
    await page.waitForFunction(() => /Run succeeded/.test(document.querySelector('[data-testid="run-announcer"]')?.textContent ?? ""), null, { timeout: 180_000 });
    await expect(announcer.getAttribute("aria-live")).resolves.toBe("polite");
    await expect(page.getByTestId("state-load_trips").innerText()).resolves.toBe("success");

    // The preview is a grid a screen reader can walk: it knows the row count though only a window is rendered.
    const grid = page.getByRole("grid", { name: "Output of load_trips" });
    await grid.waitFor();
    await expect(grid.getAttribute("aria-rowcount")).resolves.toBe("1001");
    await expect(grid.getByRole("columnheader").count()).resolves.toBeGreaterThan(1);
    await expect(grid.getByRole("row").count()).resolves.toBeGreaterThan(2);

    // The editor with its outputs in both themes: the page follows a system change live, Monaco included.
    await page.locator('[data-testid="code-load_trips"][data-editor="monaco"]').waitFor({ timeout: 60_000 });
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await expect(backgroundOf(page, "body")).resolves.toBe(scheme === "dark" ? DARK_BG : LIGHT_BG);
      await expect(backgroundOf(page, ".cell")).resolves.toBe(scheme === "dark" ? DARK_SURFACE : WHITE);
      await page.waitForFunction((dark) => document.querySelector(".monaco-editor")?.classList.contains("vs-dark") === dark, scheme === "dark");
      await page.screenshot({ path: path.join(SCREENSHOT_DIR, `design-editor-run-${scheme}.png`) });
      expect(await unnamedControls(page)).toEqual([]);
      if (scheme === "dark") expect(await whiteBackgrounds(page)).toEqual([]);
    }
    await page.emulateMedia({ colorScheme: null });

    // Alt+B in a block's code adds a transformer below that block, reading it; then `b` (not typing) below the new one.
    const faresCode = page.getByTestId("code-fares_by_borough");
    await faresCode.scrollIntoViewIfNeeded();
    await faresCode.click();
    await page.locator('[data-testid="code-fares_by_borough"][data-editor="monaco"]').waitFor({ timeout: 60_000 });
    await page.waitForFunction(() => document.activeElement?.closest('[data-testid="code-fares_by_borough"]') !== null);
    await page.keyboard.press("Alt+b");
    await page.getByTestId("cell-transform").waitFor({ timeout: 30_000 });
    await page.locator("body").evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.keyboard.press("b");
    await page.getByTestId("cell-transform_2").waitFor({ timeout: 30_000 });
    const yaml = fs.readFileSync(path.join(projectDir, "pipelines", "hello", "pipeline.yaml"), "utf8");
    expect(yaml).toMatch(/- name: transform\n\s+type: transformer\n\s+language: ts\n\s+upstream: \[fares_by_borough\]/);
    expect(yaml).toMatch(/- name: transform_2\n\s+type: transformer\n\s+language: ts\n\s+upstream: \[transform\]/);
    // The code the keys were pressed in is unchanged: Alt+B typed nothing there.
    expect(fs.readFileSync(path.join(projectDir, "pipelines", "hello", "fares_by_borough.sql"), "utf8")).toBe(fs.readFileSync(path.join(REPO_ROOT, "pipelines", "hello", "fares_by_borough.sql"), "utf8"));

    await page.goto(`${server.url}/runs`);
    const href = await page.locator('main a[href^="/runs/"]').first().getAttribute("href");
    expect(href).toMatch(/^\/runs\/./);
    runPath = href ?? "";
  });

  it("shows every page in light and in dark, following the system setting, with named controls and no white in dark", async () => {
    const pages = [
      ["home", "/"],
      ["editor", "/pipelines/hello"],
      ["triggers", "/pipelines/hello/triggers"],
      ["runs", "/runs"],
      ["run", runPath],
      ["workers", "/workers"],
      ["login", "/login"],
    ] as const;
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const [name, url] of pages) {
        const response = await page.goto(`${server.url}${url}`);
        expect([name, response?.status()]).toEqual([name, 200]);
        await page.locator('nav[aria-label="Site"]').waitFor();
        await page.waitForLoadState("networkidle");
        if (name === "editor") await page.getByTestId("cell-load_trips").waitFor();
        await page.screenshot({ path: path.join(SCREENSHOT_DIR, `design-${name}-${scheme}.png`), fullPage: true });
        await expect(backgroundOf(page, "body")).resolves.toBe(scheme === "dark" ? DARK_BG : LIGHT_BG);
        await expect(page.locator('nav[aria-label="Site"]').count()).resolves.toBe(1);
        expect([name, await unnamedControls(page)]).toEqual([name, []]);
        if (scheme === "dark") {
          expect([name, await whiteBackgrounds(page)]).toEqual([name, []]);
          if (name === "editor") await expect(backgroundOf(page, ".cell")).resolves.toBe(DARK_SURFACE);
          if (name === "triggers" || name === "runs" || name === "workers") await expect(backgroundOf(page, "main section, main form, main > div").then((bg) => bg !== WHITE)).resolves.toBe(true);
        }
      }
    }
    await page.emulateMedia({ colorScheme: null });
  });

  it("keeps the theme the user picked across a reload, over the system setting", async () => {
    await page.emulateMedia({ colorScheme: "light" });
    await page.goto(server.url);
    const toggle = page.getByTestId("theme-toggle");
    await expect(toggle.getAttribute("aria-label")).resolves.toBe("Switch to dark theme");
    await toggle.click();
    await expect(page.locator("html").getAttribute("data-theme")).resolves.toBe("dark");
    await expect(backgroundOf(page, "body")).resolves.toBe(DARK_BG);

    await page.reload();
    // Applied before the first paint by the inline script, not after hydration: no light flash.
    await expect(page.locator("html").getAttribute("data-theme")).resolves.toBe("dark");
    await expect(backgroundOf(page, "body")).resolves.toBe(DARK_BG);
    await expect(page.getByTestId("theme-toggle").getAttribute("aria-label")).resolves.toBe("Switch to light theme");
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, "design-home-picked-dark.png") });

    await page.getByTestId("theme-toggle").click();
    await page.reload();
    await expect(page.locator("html").getAttribute("data-theme")).resolves.toBe("light");
    await expect(backgroundOf(page, "body")).resolves.toBe(LIGHT_BG);
    await page.evaluate(() => localStorage.clear());
  });

  it("puts a block's output beside its code on a wide screen, and under it on a narrow one", async () => {
    const wide = await browser.newPage({ viewport: { width: 2400, height: 1200 } });
    try {
      await wide.goto(`${server.url}/pipelines/hello`);
      const cell = wide.getByTestId("cell-load_trips");
      // The notebook remembers the earlier run's outputs: the preview shows without running again.
      await cell.getByTestId("preview-load_trips").waitFor({ timeout: 60_000 });
      const code = await cell.getByTestId("code-load_trips").boundingBox();
      const preview = await cell.getByTestId("preview-load_trips").boundingBox();
      if (!code || !preview) throw new Error("no boxes");
      expect(preview.x).toBeGreaterThanOrEqual(code.x + code.width - 1);
      expect(Math.abs(preview.y - code.y)).toBeLessThan(4);
      // The whole cell fits the window: no scrolling to find the output.
      const cellBox = await cell.boundingBox();
      expect(cellBox!.height).toBeLessThan(1200 - 150);
      await wide.screenshot({ path: path.join(SCREENSHOT_DIR, "design-editor-wide.png") });
    } finally {
      await wide.close();
    }
    await page.goto(`${server.url}/pipelines/hello`);
    const cell = page.getByTestId("cell-load_trips");
    await cell.getByTestId("preview-load_trips").waitFor({ timeout: 60_000 });
    const code = await cell.getByTestId("code-load_trips").boundingBox();
    const preview = await cell.getByTestId("preview-load_trips").boundingBox();
    expect(preview!.y).toBeGreaterThanOrEqual(code!.y + code!.height - 1);
  });
});
