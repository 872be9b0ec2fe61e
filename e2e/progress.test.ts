/**
 * Live block progress in the editor: rows a block reports with `ctx.progress`, and bytes of a
 * download through `ctx.io.http` (from a slow local server) as a bar, in the block's cell and in the run
 * bar while the block runs; gone when it ends. Real `sluice start`, real SSE, real Chromium.
 */
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { describeProgress, mergeProgress } from "../components/editor/progress";
import { closeEditorSession, openEditorSession, SCREENSHOT_DIR, type StartedServer } from "./server";

jest.setTimeout(180_000);

const DOWNLOAD_BYTES = 12 * 1024 * 1024;

const DOWNLOAD_BLOCK = `import type { BlockContext } from "@sluice/sdk";

export default async function load(ctx: BlockContext) {
  const file = await ctx.io.http.download(String(ctx.variables.url));
  await file.cleanup();
  for (let i = 1; i <= 8; i++) {
    ctx.progress({ rows: i * 2500, message: "counting" });
    await new Promise((resolve) => setTimeout(resolve, 400));
  }
  return [{ bytes: file.bytes }];
}
`;

describe("progress, pure", () => {
  it("merges partial updates of one block run and starts afresh for another run", () => {
    const download = mergeProgress(undefined, "r1", { bytes: 1024 * 1024, totalBytes: 4 * 1024 * 1024, message: "GET x" });
    const rows = mergeProgress(download, "r1", { rows: 1500 });
    expect(rows).toEqual({ runId: "r1", bytes: 1024 * 1024, totalBytes: 4 * 1024 * 1024, message: "GET x", rows: 1500 });
    expect(describeProgress(rows)).toEqual({ text: "1,500 rows · 1.0 MiB of 4.0 MiB (25%)", fraction: 0.25 });
    expect(mergeProgress(rows, "r2", { rows: 3 })).toEqual({ runId: "r2", rows: 3 });
    expect(describeProgress({ runId: "r", bytes: 2048 })).toEqual({ text: "2.0 KiB downloaded", fraction: null });
  });
});

describe("block progress in the editor (real server, real Chromium)", () => {
  let projectDir: string;
  let server: StartedServer;
  let browser: Browser;
  let page: Page;
  let files: http.Server;

  beforeAll(async () => {
    // 12 MiB, sent in 64 KiB pieces over about 4 s, with a Content-Length: a download with a known total.
    files = http.createServer((req, res) => {
      res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": String(DOWNLOAD_BYTES) });
      const piece = Buffer.alloc(64 * 1024, 1);
      let sent = 0;
      const timer = setInterval(() => {
        if (sent >= DOWNLOAD_BYTES) {
          clearInterval(timer);
          res.end();
          return;
        }
        res.write(piece);
        sent += piece.length;
      }, 20);
      req.on("close", () => clearInterval(timer));
    });
    await new Promise<void>((resolve) => files.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(files.address() as AddressInfo).port}/data.bin`;

    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-e2e-progress-"));
    const dir = path.join(projectDir, "pipelines", "progress_demo");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "pipeline.yaml"), `version: 1\nname: progress_demo\nvariables:\n  url: ${url}\nblocks:\n  - name: download\n    type: loader\n    language: ts\n    upstream: []\n`);
    fs.writeFileSync(path.join(dir, "download.ts"), DOWNLOAD_BLOCK);
    ({ server, browser, page } = await openEditorSession(projectDir));
  }, 400_000);

  afterAll(async () => {
    await new Promise((resolve) => files?.close(resolve));
    await closeEditorSession({ server, browser }, projectDir);
  });

  it("shows bytes of total as a bar, then rows, in the cell and the run bar, while the block runs", async () => {
    await page.goto(`${server.url}/pipelines/progress_demo`);
    await page.getByTestId("cell-download").waitFor();
    await page.getByRole("button", { name: "Run pipeline" }).click();

    const cellText = page.getByTestId("cell-download").getByTestId("progress-text-download");
    await cellText.filter({ hasText: /MiB of 12\.0 MiB/ }).waitFor({ timeout: 60_000 });
    const bar = page.getByTestId("cell-download").getByRole("progressbar");
    const done = Number(await bar.getAttribute("aria-valuenow"));
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThanOrEqual(100);
    await page.getByTestId("run-bar-progress").getByTestId("progress-download").filter({ hasText: /MiB of 12\.0 MiB/ }).waitFor();
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, "progress-01-download.png") });

    // After the download, the rows the block reports (the bytes stay: one picture per block run).
    await cellText.filter({ hasText: /[\d,]+ rows · 12\.0 MiB of 12\.0 MiB \(100%\)/ }).waitFor({ timeout: 30_000 });
    await page.getByTestId("run-bar-progress").getByText(/[\d,]+ rows/).waitFor();
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, "progress-02-rows.png") });

    await page.locator('[data-testid="run-bar"][data-state="success"]').waitFor({ timeout: 60_000 });
    await page.getByTestId("progress-download").waitFor({ state: "detached" });
    await expect(page.getByTestId("rows-download").innerText()).resolves.toBe("1 rows");
  });
});
