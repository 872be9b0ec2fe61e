/**
 * The HTTP perimeter of a server with a token (`SLUICE_TOKEN`), against a real server process and real
 * Chromium: short tokens refused at start, bearer scripts working without Origin, cookie sessions needing
 * their CSRF token, a page on another port of the same host (same site, so the SameSite=Strict cookie is
 * sent) unable to change anything, failed token checks throttled per client address, the login form's limits,
 * and the editor working through its cookie session until it logs out.
 */
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import type { Browser } from "playwright-core";
import { launchChromium, startSluice, type StartedServer } from "../../e2e/server";
import { taxiDataDir } from "../taxi-data";
import { errorCode, request, streamBody } from "./http-helpers";

jest.setTimeout(120_000);

const TOKEN = "sec-token-test-2c9f1d7a4b8e6035f1a2c3d4e5f60718";

interface PipelineList {
  pipelines: { name: string }[];
}

describe("the HTTP perimeter with a token (real server, real Chromium)", () => {
  let projectDir: string;
  let server: StartedServer;
  /** Launched by the first test that needs it, so the HTTP-level tests do not depend on Chromium. */
  let browser: Browser | undefined;
  const bearer = { Authorization: `Bearer ${TOKEN}` };

  const names = async (): Promise<string[]> =>
    (JSON.parse((await request(`${server.url}/api/pipelines`, { headers: bearer })).body) as PipelineList).pipelines.map((p) => p.name);

  /** Logs in through the form, as the browser does; returns the cookie header to send back. */
  const loginCookie = async (): Promise<string> => {
    const response = await request(`${server.url}/login`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: server.url },
      body: new URLSearchParams({ token: TOKEN, next: "/" }).toString(),
    });
    expect(response.status).toBe(303);
    const setCookie = response.headers["set-cookie"]?.[0] ?? "";
    expect(setCookie).toMatch(/^sluice_token=.*HttpOnly; SameSite=Strict/);
    return setCookie.split(";")[0];
  };

  beforeAll(async () => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-sec-token-"));
    const dir = path.join(projectDir, "pipelines", "guarded");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "pipeline.yaml"), "version: 1\nname: guarded\nblocks:\n  - name: trips\n    type: loader\n    language: sql\n    upstream: []\n");
    fs.writeFileSync(path.join(dir, "trips.sql"), `SELECT * FROM read_csv_auto('${path.join(taxiDataDir(), "green_tripdata_2020-11.csv.gz")}') LIMIT 500\n`);
    server = await startSluice(projectDir, [], { SLUICE_TOKEN: TOKEN });
  }, 400_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (projectDir) fs.rmSync(projectDir, { recursive: true, force: true });
  });

  it("refuses to start with a short SLUICE_TOKEN, saying how to generate a good one", async () => {
    const started = Date.now();
    await expect(startSluice(projectDir, [], { SLUICE_TOKEN: "short-token" })).rejects.toThrow(
      /exited with 1:\nsluice start: SLUICE_TOKEN is 11 characters; use at least 32 random ones, e\.g\. node -e "console\.log\(require\('crypto'\)\.randomBytes\(32\)\.toString\('base64url'\)\)"\n$/,
    );
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it("serves a bearer-token script without Origin (curl), JSON only", async () => {
    const created = await request(`${server.url}/api/pipelines`, { method: "POST", headers: { ...bearer, "Content-Type": "application/json" }, body: '{"name":"from_script"}' });
    expect(created.status).toBe(201);
    const run = await request(`${server.url}/api/pipelines/guarded/runs`, { method: "POST", headers: { ...bearer, "Content-Type": "application/json" }, body: "{}" });
    expect(run.status).toBe(201);
    const form = await request(`${server.url}/api/pipelines`, { method: "POST", headers: { ...bearer, "Content-Type": "application/x-www-form-urlencoded" }, body: "name=x" });
    expect(form.status).toBe(415);
    // A bearer request from another origin is still refused (a page cannot send it without a preflight anyway).
    const crossBearer = await request(`${server.url}/api/pipelines`, { method: "POST", headers: { ...bearer, "Content-Type": "application/json", Origin: "http://127.0.0.1:9" }, body: '{"name":"cross_bearer"}' });
    expect(crossBearer.status).toBe(403);
    expect(await names()).toEqual(expect.arrayContaining(["from_script"]));
    expect(await names()).not.toContain("cross_bearer");
  });

  it("makes a cookie session send its CSRF token with every write", async () => {
    const cookie = await loginCookie();
    const write = (headers: Record<string, string>, name: string) =>
      request(`${server.url}/api/pipelines`, { method: "POST", headers: { Cookie: cookie, "Content-Type": "application/json", ...headers }, body: JSON.stringify({ name }) });
    const noCsrf = await write({ Origin: server.url }, "no_csrf");
    expect(noCsrf.status).toBe(403);
    expect(errorCode(noCsrf)).toBe("csrf_token_invalid");
    const wrongCsrf = await write({ Origin: server.url, "X-CSRF-Token": "guess" }, "wrong_csrf");
    expect(wrongCsrf.status).toBe(403);

    const session = JSON.parse((await request(`${server.url}/api/session`, { headers: { Cookie: cookie } })).body) as { authenticated_by: string; csrf_token: string };
    expect(session.authenticated_by).toBe("cookie");
    expect(session.csrf_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const noOrigin = await write({ "X-CSRF-Token": session.csrf_token }, "no_origin");
    expect(noOrigin.status).toBe(403);
    expect(errorCode(noOrigin)).toBe("cross_origin");
    const ok = await write({ Origin: server.url, "X-CSRF-Token": session.csrf_token }, "with_csrf");
    expect(ok.status).toBe(201);
    expect(await names()).toEqual(expect.arrayContaining(["with_csrf"]));
    expect(await names()).not.toEqual(expect.arrayContaining(["no_csrf"]));
    // The session endpoint gives nothing without a credential.
    expect((await request(`${server.url}/api/session`)).status).toBe(401);
  });

  it("keeps the login form to its own origin and a small body", async () => {
    const cross = await request(`${server.url}/login`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: "http://127.0.0.1:9" },
      body: new URLSearchParams({ token: TOKEN }).toString(),
    });
    expect(cross.status).toBe(403);
    expect(cross.headers["set-cookie"]).toBeUndefined();
    const big = await streamBody(`${server.url}/login`, 2 * 1024 * 1024, { headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: server.url } });
    expect(big.status).toBe(413);
    expect(big.body).toContain("16 KB");
  });

  it("throttles failed token checks per client address: 429 with Retry-After, even for the right token", async () => {
    const attacker = "127.0.0.9";
    for (let i = 0; i < 10; i++) {
      const guess = await request(`${server.url}/api/pipelines`, { headers: { Authorization: `Bearer guess-${i}` }, localAddress: attacker });
      expect(guess.status).toBe(401);
    }
    const throttled = await request(`${server.url}/api/pipelines`, { headers: bearer, localAddress: attacker });
    expect(throttled.status).toBe(429);
    expect(errorCode(throttled)).toBe("too_many_attempts");
    expect(Number(throttled.headers["retry-after"])).toBeGreaterThan(0);
    expect(Number(throttled.headers["retry-after"])).toBeLessThanOrEqual(60);
    expect((await request(`${server.url}/?token=guess`, { localAddress: attacker })).status).toBe(429);
    // Other clients are not affected.
    expect((await request(`${server.url}/api/pipelines`, { headers: bearer, localAddress: "127.0.0.10" })).status).toBe(200);

    // The login form and ?token= links count too.
    const guesser = "127.0.0.11";
    for (let i = 0; i < 5; i++) {
      const wrong = await request(`${server.url}/login`, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: server.url }, body: `token=guess-${i}`, localAddress: guesser });
      expect(wrong.status).toBe(303);
      expect(wrong.headers.location).toContain("error=wrong_token");
    }
    for (let i = 0; i < 5; i++) expect((await request(`${server.url}/?token=guess-${i}`, { headers: { Accept: "text/html" }, localAddress: guesser })).status).toBe(302);
    const blocked = await request(`${server.url}/login`, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: server.url }, body: `token=${TOKEN}`, localAddress: guesser });
    expect(blocked.status).toBe(429);
    expect(blocked.headers["retry-after"]).toMatch(/^\d+$/);
  });

  it("keeps a page on another port of the same host from writing, with or without the login cookie", async () => {
    const target = server.url;
    const sameHostPage = http.createServer((_req, res) => {
      res.writeHead(200, { "Content-Type": "text/html" });
      res.end(`<!doctype html><body>
<form id="f" method="post" action="${target}/api/pipelines" enctype="text/plain" target="sink"><input name='{"name":"pwn_port_form","x":"' value='"}'></form>
<iframe name="sink"></iframe>
<script>
window.results = [];
async function attack() {
  try { await fetch("${target}/api/pipelines", { method: "POST", mode: "no-cors", credentials: "include", headers: { "Content-Type": "text/plain" }, body: JSON.stringify({ name: "pwn_port_simple" }) }); window.results.push("simple sent"); } catch (e) { window.results.push("simple blocked"); }
  try { const r = await fetch("${target}/api/session", { credentials: "include" }); window.results.push("session read " + (await r.text())); } catch (e) { window.results.push("session blocked"); }
  try { await fetch("${target}/api/pipelines/guarded/runs", { method: "POST", mode: "no-cors", credentials: "include", body: "{}" }); window.results.push("run sent"); } catch (e) { window.results.push("run blocked"); }
  document.getElementById("f").submit();
  window.results.push("form sent");
}
attack();
</script></body>`);
    });
    await new Promise<void>((resolve) => sameHostPage.listen(0, "127.0.0.1", () => resolve()));
    const pageUrl = `http://127.0.0.1:${(sameHostPage.address() as AddressInfo).port}/`;
    const runsBefore = (JSON.parse((await request(`${server.url}/api/runs?pipeline=guarded`, { headers: bearer })).body) as { runs: unknown[] }).runs.length;
    try {
      browser ??= await launchChromium();
      for (const loggedIn of [false, true]) {
        const context = await browser.newContext();
        if (loggedIn) {
          const tab = await context.newPage();
          await tab.goto(`${server.url}/?token=${TOKEN}`);
          expect((await context.cookies(server.url)).map((c) => c.name)).toEqual(["sluice_token"]);
        }
        const evil = await context.newPage();
        await evil.goto(pageUrl);
        await evil.waitForFunction(() => (window as unknown as { results: string[] }).results.includes("form sent"));
        await evil.waitForTimeout(1000);
        // The CSRF token is not readable from another origin.
        expect(await evil.evaluate(() => (window as unknown as { results: string[] }).results)).toContain("session blocked");
        await context.close();
      }
    } finally {
      await new Promise((resolve) => sameHostPage.close(resolve));
    }
    expect((await names()).filter((name) => name.startsWith("pwn"))).toEqual([]);
    expect((JSON.parse((await request(`${server.url}/api/runs?pipeline=guarded`, { headers: bearer })).body) as { runs: unknown[] }).runs).toHaveLength(runsBefore);
  });

  it("lets the logged-in editor create a pipeline, save a block and run it, then log out", async () => {
    browser ??= await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    await page.waitForURL(/\/login/);
    await page.getByLabel("Token").fill(TOKEN).catch(async (error: unknown) => {
      throw new Error(`${String(error)}\n${page.url()}\n${(await page.content()).slice(0, 2000)}`);
    });
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL(`${server.url}/`);
    await page.getByLabel("New pipeline name").fill("cookie_flow");
    await page.getByRole("button", { name: "Create" }).click();
    await page.waitForURL(/\/pipelines\/cookie_flow$/);
    await page.getByRole("button", { name: "+ TypeScript loader" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Add block" }).click();
    await page.getByTestId("cell-load_data").waitFor();
    await page.getByRole("button", { name: "Run pipeline" }).click();
    await page.locator('[data-testid="run-bar"][data-state="success"]').waitFor({ timeout: 60_000 });
    expect(fs.existsSync(path.join(projectDir, "pipelines", "cookie_flow", "load_data.ts"))).toBe(true);

    await page.getByRole("button", { name: "Log out" }).click();
    await page.waitForURL(/\/login/);
    expect(await context.cookies(server.url)).toEqual([]);
    await page.goto(`${server.url}/pipelines/cookie_flow`);
    await page.waitForURL(/\/login\?next=/);
    await context.close();
  });
});
