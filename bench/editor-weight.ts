/**
 * What opening the editor of the example `green_taxi_etl` costs a user: the bytes the page load transfers
 * (every request until the network is idle, as the wire carried them) with its largest single resource, and
 * the time from navigation until the notebook is interactive (the "Run pipeline" button enabled and the first
 * block's code editor on screen). Each of 3 loads uses a fresh browser context, so nothing comes from the cache.
 * Drives a real `sluice start` over a project holding the example, in Debian's Chromium.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { launchChromium, startSluice } from "../e2e/server";
import { REPO_ROOT } from "../test/taxi-data";
import { median, ms, type BenchRow } from "./report";

const LOADS = 3;
const PIPELINE = "green_taxi_etl";

const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;

export async function benchEditorWeight(): Promise<BenchRow[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-bench-weight-"));
  fs.cpSync(path.join(REPO_ROOT, "pipelines", PIPELINE), path.join(dir, "pipelines", PIPELINE), { recursive: true });
  const server = await startSluice(dir);
  const browser = await launchChromium();
  try {
    const totals: number[] = [];
    const largest: { bytes: number; url: string }[] = [];
    const interactive: number[] = [];
    for (let i = 0; i < LOADS + 1; i++) {
      const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send("Network.enable");
      const urls = new Map<string, string>();
      const sizes = new Map<string, number>();
      cdp.on("Network.requestWillBeSent", (event) => urls.set(event.requestId, event.request.url));
      cdp.on("Network.loadingFinished", (event) => sizes.set(event.requestId, event.encodedDataLength));
      const started = Date.now();
      await page.goto(`${server.url}/pipelines/${PIPELINE}`);
      await page.getByRole("button", { name: "Run pipeline" }).and(page.locator(":enabled")).waitFor({ timeout: 120_000 });
      await page.locator(".monaco-editor").first().waitFor({ timeout: 120_000 });
      const ready = Date.now() - started;
      await page.waitForLoadState("networkidle");
      // The first load also compiles the page on a fresh server: it is a warm-up, not a measurement.
      if (i > 0) {
        interactive.push(ready);
        totals.push([...sizes.values()].reduce((a, b) => a + b, 0));
        const [id, bytes] = [...sizes.entries()].sort((a, b) => b[1] - a[1])[0] ?? ["", 0];
        largest.push({ bytes, url: urls.get(id) ?? "" });
      }
      await context.close();
    }
    const biggest = largest.sort((a, b) => b.bytes - a.bytes)[0];
    const where = biggest ? new URL(biggest.url, server.url).pathname.split("/").slice(-2).join("/") : "";
    return [
      { bench: "editor-weight", metric: `${PIPELINE} editor: bytes transferred per load (median of ${LOADS}, no cache)`, value: kib(median(totals)), baseline: `largest resource ${kib(biggest?.bytes ?? 0)} (${where})`, target: "≤ 1.1× before" },
      { bench: "editor-weight", metric: `${PIPELINE} editor: navigation → interactive (median of ${LOADS})`, value: ms(median(interactive)), baseline: `min ${ms(Math.min(...interactive))} / max ${ms(Math.max(...interactive))}`, target: "≤ 1.1× before" },
    ];
  } finally {
    await browser.close();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
