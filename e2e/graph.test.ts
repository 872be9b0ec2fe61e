/**
 * The pipeline graph in real Chromium against a real `sluice start`: a 200-block pipeline is laid out (in
 * the layout worker) with every node shown and none on top of another, and an edge is deleted by
 * selecting it and pressing Delete. Screenshots go to test-results/screenshots/graph-*.png.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { closeEditorSession, openEditorSession, SCREENSHOT_DIR, type StartedServer } from "./server";

jest.setTimeout(180_000);

const name = (i: number) => `b${String(i).padStart(3, "0")}`;

/** 200 SQL blocks: 20 loaders, each feeding a chain of 9 transformers, with links across chains. */
function widePipeline(): { yaml: string; files: Record<string, string> } {
  const lines = ["version: 1", "name: wide", "blocks:"];
  const files: Record<string, string> = {};
  for (let i = 0; i < 200; i++) {
    const upstream = i % 10 === 0 ? [] : [name(i - 1), ...(i % 10 === 5 && i >= 15 ? [name(i - 10)] : [])];
    lines.push(`  - name: ${name(i)}`, `    type: ${i % 10 === 0 ? "loader" : "transformer"}`, "    language: sql", `    upstream: [${upstream.join(", ")}]`);
    files[`${name(i)}.sql`] = upstream.length ? `SELECT * FROM ${upstream[0]}\n` : "SELECT 1 AS one\n";
  }
  return { yaml: lines.join("\n") + "\n", files };
}

const SMALL = `version: 1
name: small
blocks:
  - name: first
    type: loader
    language: sql
    upstream: []
  - name: second
    type: transformer
    language: sql
    upstream: [first]
`;

function writePipeline(projectDir: string, pipeline: string, yaml: string, files: Record<string, string>): void {
  const dir = path.join(projectDir, "pipelines", pipeline);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "pipeline.yaml"), yaml);
  for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), text);
}

describe("the pipeline graph (real server, real Chromium)", () => {
  let projectDir: string;
  let server: StartedServer;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-e2e-graph-"));
    const wide = widePipeline();
    writePipeline(projectDir, "wide", wide.yaml, wide.files);
    writePipeline(projectDir, "small", SMALL, { "first.sql": "SELECT 1 AS one\n", "second.sql": "SELECT * FROM first\n" });
    ({ server, browser, page } = await openEditorSession(projectDir));
  }, 300_000);

  afterAll(async () => {
    await closeEditorSession({ server, browser }, projectDir);
  });

  it("renders every node of a 200-block pipeline, laid out without overlaps, with its edges", async () => {
    await page.goto(`${server.url}/pipelines/wide`);
    const graph = page.getByTestId("graph");
    await graph.locator(".react-flow__node").nth(199).waitFor({ timeout: 60_000 });
    const nodes = await graph.locator(".react-flow__node").evaluateAll((elements) =>
      elements.map((e) => {
        const box = e.getBoundingClientRect();
        return { id: e.getAttribute("data-id"), x: box.x, y: box.y, width: box.width, height: box.height };
      }),
    );
    expect(nodes.map((n) => n.id).sort()).toEqual(Array.from({ length: 200 }, (_, i) => name(i)));
    // Laid out: no two nodes share a spot (all at the origin would mean no layout arrived).
    const spots = new Set(nodes.map((n) => `${Math.round(n.x)},${Math.round(n.y)}`));
    expect(spots.size).toBe(200);
    // Fitted: the whole graph is inside the panel.
    const panel = await graph.boundingBox();
    if (!panel) throw new Error("graph panel is not visible");
    for (const n of nodes) {
      expect(n.x).toBeGreaterThanOrEqual(panel.x - 1);
      expect(n.x + n.width).toBeLessThanOrEqual(panel.x + panel.width + 1);
    }
    // 180 chain links and 19 cross links (blocks 15, 25, …, 195).
    await expect(graph.locator(".react-flow__edge").count()).resolves.toBe(199);
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, "graph-200-blocks.png") });
  });

  it("deletes an edge selected with a click, on Delete", async () => {
    await page.goto(`${server.url}/pipelines/small`);
    await page.getByTestId("cell-second").getByText("upstream: first").waitFor();
    // A vertical edge's box has no width (Playwright calls it hidden): click halfway between the handles it joins.
    await page.getByTestId("graph").locator('[data-id="first->second"]').waitFor({ state: "attached" });
    const from = await page.getByTestId("source-first").boundingBox();
    const to = await page.getByTestId("target-second").boundingBox();
    if (!from || !to) throw new Error("handles are not visible");
    await page.mouse.click((from.x + from.width / 2 + to.x + to.width / 2) / 2, (from.y + from.height / 2 + to.y + to.height / 2) / 2);
    await page.getByTestId("graph").locator('[data-id="first->second"].selected').waitFor({ state: "attached" });
    await page.keyboard.press("Delete");
    await page.getByTestId("cell-second").getByText("upstream: none").waitFor();
    // The change reaches pipeline.yaml (the cell may show it before the write is done).
    const yamlFile = path.join(projectDir, "pipelines", "small", "pipeline.yaml");
    const until = Date.now() + 10_000;
    while (!/name: second[\s\S]*upstream: \[\]/.test(fs.readFileSync(yamlFile, "utf8")) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(fs.readFileSync(yamlFile, "utf8")).toMatch(/name: second[\s\S]*upstream: \[\]/);
    await expect(page.getByTestId("graph").locator(".react-flow__edge").count()).resolves.toBe(0);
  });
});
