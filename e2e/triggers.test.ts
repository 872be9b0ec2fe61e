/**
 * The triggers and runs pages walked in real Chromium against a real `sluice start`:
 * create a schedule trigger and an API trigger from the triggers page, see the cron in words and the next
 * runs, fire the API trigger with its token (401 without it), and follow the run to success on the runs
 * pages. Screenshots: test-results/screenshots/triggers-*.png.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { REPO_ROOT } from "../test/taxi-data";
import { launchChromium, SCREENSHOT_DIR, startSluice, type StartedServer } from "./server";

jest.setTimeout(180_000);

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `triggers-${name}.png`), fullPage: true });
}

/** Stops the server; one that lingers after SIGTERM is killed after a grace period. */
async function stopServer(server: StartedServer): Promise<void> {
  if (server.process.exitCode !== null || server.process.signalCode !== null) return;
  const exited = new Promise((resolve) => server.process.once("exit", resolve));
  server.process.kill("SIGTERM");
  const timer = setTimeout(() => server.process.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

describe("triggers and runs pages (real server, real Chromium)", () => {
  let projectDir: string;
  let server: StartedServer;
  let browser: Browser;
  let page: Page;
  let token = "";
  let runId = "";

  beforeAll(async () => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-e2e-triggers-"));
    fs.cpSync(path.join(REPO_ROOT, "pipelines", "hello"), path.join(projectDir, "pipelines", "hello"), { recursive: true });
    fs.rmSync(path.join(projectDir, "pipelines", "hello", "triggers.yaml"), { force: true });
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    server = await startSluice(projectDir);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    if (server) await stopServer(server);
    if (projectDir) fs.rmSync(projectDir, { recursive: true, force: true });
  });

  it("1. creates a schedule trigger with live validation, its description and the next 5 runs in its zone", async () => {
    await page.goto(`${server.url}/pipelines/hello/triggers`);
    await page.getByRole("heading", { name: "Triggers of hello" }).waitFor({ timeout: 120_000 });
    await page.getByText("No triggers yet").waitFor({ timeout: 60_000 });
    await page.getByRole("button", { name: "New trigger" }).click();
    await page.locator("#trigger-name").fill("nightly");
    await page.locator("#trigger-cron").fill("0 99 * * *");
    await page.getByTestId("error-schedule").waitFor({ timeout: 60_000 });
    expect(await page.getByTestId("error-schedule").innerText()).toMatch(/invalid cron/);
    await page.locator("#trigger-cron").fill("30 6 * * 1-5");
    await page.locator("#trigger-timezone").fill("America/New_York");
    await page.getByTestId("cron-description").filter({ hasText: "America/New_York" }).waitFor({ timeout: 60_000 });
    expect(await page.getByTestId("cron-description").innerText()).toMatch(/At 06:30, Monday through Friday/);
    const times = await page.getByTestId("next-runs").locator("li").allInnerTexts();
    expect(times).toHaveLength(5);
    // Shown in the trigger's zone: 06:30 local, whatever the UTC offset of the day.
    for (const t of times) expect(t).toMatch(/06:30:00 (EST|EDT|GMT-5|GMT-4)/);
    expect(times.every((t) => !/Sat|Sun/.test(t))).toBe(true);
    await page.locator("#trigger-max-active").fill("1");
    await page.locator("#trigger-on-max").selectOption("skip");
    await page.locator("#trigger-timeout").fill("2h");
    await page.locator("#trigger-variables").fill('{"rows": 20}');
    await shot(page, "01-schedule-form");
    await page.getByRole("button", { name: "Create trigger" }).click();
    const row = page.getByTestId("trigger-row-nightly");
    await row.waitFor();
    expect(await row.getByTestId("trigger-state").innerText()).toBe("enabled");
    expect(await row.innerText()).toMatch(/At 06:30, Monday through Friday/);
    const file = fs.readFileSync(path.join(projectDir, "pipelines", "hello", "triggers.yaml"), "utf8");
    expect(file).toMatch(/name: nightly[\s\S]*schedule: 30 6 \* \* 1-5[\s\S]*timezone: America\/New_York/);
    expect(file).toMatch(/max_active_runs: 1/);
    expect(file).toMatch(/on_max_active: skip/);
    expect(file).toMatch(/run_timeout: 2h/);
    expect(file).toMatch(/rows: 20/);

    await row.getByRole("button", { name: "Disable" }).click();
    await row.getByTestId("trigger-state").filter({ hasText: "disabled" }).waitFor();
    expect(fs.readFileSync(path.join(projectDir, "pipelines", "hello", "triggers.yaml"), "utf8")).toMatch(/enabled: false/);
    await shot(page, "02-schedule-listed");
  });

  it("2. creates an API trigger that lets callers set rows, and shows its token once with the URL and a curl line", async () => {
    await page.getByRole("button", { name: "New trigger" }).click();
    await page.locator("#trigger-name").fill("hook");
    await page.locator("#trigger-type").selectOption("api");
    await page.locator("#trigger-variables-allowed").fill("rows");
    await page.getByRole("button", { name: "Create trigger" }).click();
    const row = page.getByTestId("trigger-row-hook");
    await row.waitFor();
    await row.getByRole("button", { name: "Generate token" }).click();
    await page.getByTestId("issued-token").waitFor();
    token = (await page.getByTestId("token-value").innerText()).trim();
    expect(token).toMatch(/^slk_[A-Za-z0-9_-]{40,}$/);
    const url = (await page.getByTestId("trigger-url").innerText()).trim();
    expect(url).toBe(`${server.url}/api/triggers/hello.hook/runs`);
    expect(await page.getByTestId("curl-line").innerText()).toContain(`-H 'Authorization: Bearer ${token}'`);
    expect(await page.getByTestId("curl-line").innerText()).toContain(`-d '{"variables":{"rows":1000}}'`);
    expect(fs.readFileSync(path.join(projectDir, "pipelines", "hello", "triggers.yaml"), "utf8")).toMatch(/variables_allowed:\n\s+- rows/);
    await shot(page, "03-api-token");
    await row.getByRole("button", { name: "Rotate token" }).waitFor();
  });

  it("3. fires the API trigger with its token, and refuses it without or with a wrong token or an unlisted variable", async () => {
    const endpoint = `${server.url}/api/triggers/hello.hook/runs`;
    const missing = await fetch(endpoint, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
    expect(missing.status).toBe(401);
    const wrong = await fetch(endpoint, { method: "POST", headers: { Authorization: "Bearer slk_wrong", "Content-Type": "application/json" }, body: "{}" });
    expect(wrong.status).toBe(401);
    const unlisted = await fetch(endpoint, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ variables: { output_dir: "/tmp/elsewhere" } }),
    });
    expect(unlisted.status).toBe(422);
    const ok = await fetch(endpoint, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ variables: { rows: 50 } }),
    });
    expect(ok.status).toBe(201);
    const body = (await ok.json()) as { run_id: string };
    expect(body.run_id).toMatch(/\S/);
    runId = body.run_id;
  });

  it("4. follows the run to success on the runs pages", async () => {
    await page.goto(`${server.url}/runs?trigger=hook`);
    const row = page.locator(`[data-testid="run-row"][data-run-id="${runId}"]`);
    await row.waitFor({ timeout: 120_000 });
    expect(await row.innerText()).toMatch(/api · hook/);
    await shot(page, "04-runs-list");
    await row.getByRole("link", { name: runId }).click();
    await page.waitForURL(new RegExp(`/runs/${runId}$`));
    await page.getByTestId("run-state").filter({ hasText: "success" }).waitFor({ timeout: 120_000 });
    for (const block of ["load_trips", "fares_by_borough", "export_parquet"]) {
      expect(await page.getByTestId(`block-run-${block}`).getByTestId("block-state").innerText()).toBe("success");
      await page.getByTestId(`gantt-${block}`).waitFor();
    }
    expect(await page.getByTestId("run-variables").innerText()).toMatch(/"rows": 50/);
    await page.getByTestId("block-runs").getByRole("button", { name: "load_trips" }).click();
    await page.getByRole("button", { name: /attempt 1 · success/ }).waitFor();
    await shot(page, "05-run-detail");
  });

  it("5. backfills a date range on the schedule trigger and shows its progress to the end", async () => {
    await page.goto(`${server.url}/pipelines/hello/triggers`);
    await page.getByTestId("trigger-row-nightly").waitFor({ timeout: 60_000 });
    await page.locator("#backfill-trigger").selectOption("nightly");
    await page.locator("#backfill-start").fill("2026-11-16T00:00");
    await page.locator("#backfill-end").fill("2026-11-18T00:00");
    await page.locator("#backfill-concurrency").fill("2");
    await page.getByRole("button", { name: "Start backfill" }).click();
    const progress = page.getByTestId("backfill-progress");
    await progress.waitFor();
    await progress.getByText("success", { exact: true }).waitFor({ timeout: 120_000 });
    const text = await progress.innerText();
    const done = /(\d+) \/ (\d+) done/.exec(text);
    expect(done).not.toBeNull();
    expect(Number(done?.[1])).toBe(Number(done?.[2]));
    expect(Number(done?.[2])).toBeGreaterThanOrEqual(1);
    await shot(page, "06-backfill");
    await page.getByTestId("trigger-row-nightly").getByRole("button", { name: "Run now" }).click();
    await page.getByTestId("run-started").getByRole("link").waitFor();
    expect(await page.getByTestId("run-started").innerText()).toMatch(/Run of nightly started/);
    await page.goto(`${server.url}/runs?trigger=backfill`);
    expect(await page.getByTestId("run-row").count()).toBe(Number(done?.[2]));
    // The logical-date filter: the backfilled dates are inside November 2026, none in 1999.
    await page.goto(`${server.url}/runs?trigger=backfill&from=2026-11-01&to=2026-11-30`);
    expect(await page.getByTestId("run-row").count()).toBe(Number(done?.[2]));
    await page.goto(`${server.url}/runs?trigger=backfill&from=1999-01-01&to=1999-12-31`);
    await page.getByTestId("runs-table").waitFor();
    expect(await page.getByTestId("run-row").count()).toBe(0);
  });

  it("6. links the home page's trigger count to the triggers page", async () => {
    await page.goto(server.url);
    const hello = page.getByTestId("pipeline-row").filter({ hasText: "hello" });
    await hello.getByRole("link", { name: "2", exact: true }).click();
    await page.getByRole("heading", { name: "Triggers of hello" }).waitFor();
    expect(page.url()).toBe(`${server.url}/pipelines/hello/triggers`);
  });

  it("7. revokes the API trigger's token from the triggers page: the old token is refused", async () => {
    const row = page.getByTestId("trigger-row-hook");
    page.once("dialog", (dialog) => void dialog.accept());
    await row.getByRole("button", { name: "Revoke token" }).click();
    await row.getByRole("button", { name: "Generate token" }).waitFor();
    const endpoint = `${server.url}/api/triggers/hello.hook/runs`;
    const refused = await fetch(endpoint, { method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: "{}" });
    expect(refused.status).toBe(401);
  });
});
