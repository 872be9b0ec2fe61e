/**
 * Control flow on the pipeline graph, in real Chromium against a real `sluice start` and a real run: a block
 * whose condition is false is drawn skipped with the reason as its tooltip, and a dynamic block's instances
 * are one node with a count that expands into one node per instance, each with its state, and folds back.
 * Screenshots go to test-results/screenshots/graph-flow-*.png.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { writePipeline } from "../test/write-pipeline";
import { closeEditorSession, openEditorSession, SCREENSHOT_DIR, type StartedServer } from "./server";

jest.setTimeout(180_000);

describe("control flow on the graph (real server, real run, real Chromium)", () => {
  let projectDir: string;
  let server: StartedServer;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-e2e-graph-flow-"));
    writePipeline(
      projectDir,
      "fanout",
      `version: 1
name: fanout
blocks:
  - { name: months, type: loader, language: sql, dynamic: true, dynamic_key: month }
  - { name: fetch, type: transformer, language: ts, upstream: [months] }
  - { name: is_weekend, type: condition, language: sql }
  - { name: weekend_report, type: loader, language: ts, conditions: [is_weekend] }
`,
      {
        "months.sql": "SELECT * FROM (VALUES ('2020-10'), ('2020-11'), ('2020-12')) AS t(month)",
        "fetch.ts": "export default async function fetch(input, ctx) { return [{ month: ctx.item.month }]; }",
        "is_weekend.sql": "SELECT false AS weekend",
        "weekend_report.ts": `export default async function weekend(ctx) { return [{ path: "weekend" }]; }`,
      },
    );
    ({ server, browser, page } = await openEditorSession(projectDir));
  }, 300_000);

  afterAll(async () => {
    await closeEditorSession({ server, browser }, projectDir);
  });

  it("draws the skipped block with its reason and expands the dynamic instances", async () => {
    await page.goto(`${server.url}/pipelines/fanout`);
    const graph = page.getByTestId("graph");
    await graph.getByTestId("conditions-weekend_report").waitFor();
    await page.getByRole("button", { name: "Run pipeline" }).click();
    await page.locator('[data-testid="run-bar"]:is([data-state="success"], [data-state="failed"])').waitFor({ timeout: 60_000 });

    const skipped = graph.getByTestId("node-weekend_report");
    await skipped.locator("text=skipped").waitFor();
    await expect(skipped.getAttribute("title")).resolves.toBe("skipped: condition is_weekend was false");
    // Drawn in the skipped state's colour token, not the type's.
    const colours = await skipped.evaluate((e) => ({ border: getComputedStyle(e).borderTopColor, token: getComputedStyle(e).getPropertyValue("--state-skipped").trim() }));
    expect(colours.token).not.toBe("");
    const probe = await skipped.evaluate((e, token) => {
      const p = document.createElement("div");
      p.style.color = token;
      e.appendChild(p);
      const c = getComputedStyle(p).color;
      p.remove();
      return c;
    }, colours.token);
    expect(colours.border).toBe(probe);

    const count = graph.getByTestId("instances-fetch");
    await expect(count.innerText()).resolves.toBe("×3");
    await expect(graph.locator(".react-flow__node-instance").count()).resolves.toBe(0);
    await count.click();
    await graph.getByTestId("instance-fetch[2020-12]").waitFor();
    const instances = await graph.locator(".react-flow__node-instance").evaluateAll((elements) => elements.map((e) => [e.getAttribute("data-id"), e.textContent]));
    expect(instances).toEqual([
      ["fetch[2020-10]", "fetch[2020-10]success"],
      ["fetch[2020-11]", "fetch[2020-11]success"],
      ["fetch[2020-12]", "fetch[2020-12]success"],
    ]);
    await expect(count.getAttribute("aria-expanded")).resolves.toBe("true");
    // Laid out with the graph: once the new layout is in, no node covers another.
    await page.waitForFunction(() => {
      const boxes = [...document.querySelectorAll(".react-flow__node")].map((e) => e.getBoundingClientRect());
      return boxes.every((a, i) => boxes.every((b, j) => j <= i || a.right <= b.left + 1 || b.right <= a.left + 1 || a.bottom <= b.top + 1 || b.bottom <= a.top + 1));
    });
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, "graph-flow-expanded.png") });
    await count.click();
    await graph.getByTestId("instance-fetch[2020-10]").waitFor({ state: "detached" });
    await expect(graph.locator(".react-flow__node-instance").count()).resolves.toBe(0);
  });
});
