/**
 * The login page of a server that requires a token: a browser without the cookie is sent
 * to /login, a wrong token says so, the right one sets the HttpOnly SameSite cookie and goes back to the page
 * it asked for; the API stays a 401 JSON answer; `?token=` links keep working; the token is never logged.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser } from "playwright-core";
import { launchChromium, SCREENSHOT_DIR, startSluice, type StartedServer } from "./server";

jest.setTimeout(180_000);

const TOKEN = "e2e-login-token-7f3a9c4d1e8b2a6f5c0d9e3b7a1f4c8e";

describe("logging in to a server that requires a token (real server, real Chromium)", () => {
  let projectDir: string;
  let server: StartedServer;
  let browser: Browser;

  beforeAll(async () => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-e2e-login-"));
    const dir = path.join(projectDir, "pipelines", "guarded");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "pipeline.yaml"), "version: 1\nname: guarded\nblocks:\n  - name: one\n    type: loader\n    language: sql\n    upstream: []\n");
    fs.writeFileSync(path.join(dir, "one.sql"), "SELECT 1 AS one\n");
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    server = await startSluice(projectDir, [], { SLUICE_TOKEN: TOKEN });
    browser = await launchChromium();
  }, 400_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (projectDir) fs.rmSync(projectDir, { recursive: true, force: true });
  });

  it("keeps the API a 401 JSON answer, never a redirect", async () => {
    const response = await fetch(`${server.url}/api/pipelines`, { redirect: "manual", headers: { Accept: "text/html,*/*" } });
    expect(response.status).toBe(401);
    expect(response.headers.get("content-type")).toContain("application/json");
    expect(response.headers.get("location")).toBeNull();
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
    const withToken = await fetch(`${server.url}/api/pipelines`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(withToken.status).toBe(200);
  });

  it("sends a browser to the login form, refuses a wrong token clearly, and logs in with the right one", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${server.url}/pipelines/guarded`);
    await page.waitForURL(/\/login\?next=%2Fpipelines%2Fguarded$/);
    await page.getByRole("heading", { name: "Sluice" }).waitFor();
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, "login-01-form.png") });

    await page.getByLabel("Token").fill("not-the-token");
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL(/error=wrong_token/);
    await page.getByRole("alert").filter({ hasText: "That token is not right" }).waitFor();
    expect(await context.cookies()).toEqual([]);
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, "login-02-wrong-token.png") });

    await page.getByLabel("Token").fill(TOKEN);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL(`${server.url}/pipelines/guarded`);
    await page.getByTestId("pipeline-name").getByText("guarded").waitFor();
    const cookies = await context.cookies();
    expect(cookies).toEqual([expect.objectContaining({ name: "sluice_token", httpOnly: true, sameSite: "Strict", path: "/" })]);
    // The editor's own API calls and event stream go through with the cookie: run a block and see it succeed.
    await page.getByRole("button", { name: "Run pipeline" }).click();
    await page.locator('[data-testid="run-bar"][data-state="success"]').waitFor({ timeout: 60_000 });
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, "login-03-logged-in.png") });

    // A logged-in browser skips the form.
    await page.goto(`${server.url}/login?next=%2Fruns`);
    await page.waitForURL(`${server.url}/runs`);
    await context.close();
  });

  it("keeps the ?token= link working, and never logs the token", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}/pipelines/guarded?token=${TOKEN}`);
    await page.waitForURL(`${server.url}/pipelines/guarded`);
    await page.getByTestId("pipeline-name").getByText("guarded").waitFor();
    await context.close();
    expect(server.output()).not.toContain(TOKEN);
  });
});
