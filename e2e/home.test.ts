import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser } from "playwright-core";
import { REPO_ROOT } from "../test/taxi-data";
import { launchChromium, SCREENSHOT_DIR, startSluice, type StartedServer } from "./server";

describe("sluice start serves the app (real server, real Chromium)", () => {
  let projectDir: string;
  let server: StartedServer;
  let browser: Browser;

  beforeAll(async () => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-e2e-home-"));
    fs.cpSync(path.join(REPO_ROOT, "pipelines"), path.join(projectDir, "pipelines"), { recursive: true });
    fs.mkdirSync(path.join(projectDir, "pipelines", "broken"));
    fs.writeFileSync(path.join(projectDir, "pipelines", "broken", "pipeline.yaml"), "version: 1\nname: broken\nblocks: [\n");
    server = await startSluice(projectDir);
    browser = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    fs.rmSync(projectDir, { recursive: true, force: true });
  });

  it("lists the example pipelines on the home page, and a broken one with its error", async () => {
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.getByRole("heading", { name: "Sluice" }).waitFor();
    const rows = page.getByTestId("pipeline-row");
    const texts = await rows.allInnerTexts();
    expect(texts.some((t) => t.startsWith("hello"))).toBe(true);
    expect(texts.some((t) => t.startsWith("green_taxi_etl"))).toBe(true);
    expect(texts.find((t) => t.startsWith("broken"))).toMatch(/line \d+|pipeline\.yaml:\d+/);
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, "home.png") });
  });

  it("serves the API and binds loopback only", async () => {
    const response = await fetch(`${server.url}/api/pipelines`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { pipelines: { name: string }[] };
    expect(body.pipelines.map((p) => p.name)).toEqual(expect.arrayContaining(["hello", "green_taxi_etl"]));
    expect(new URL(server.url).hostname).toBe("127.0.0.1");
  });
});

describe("sluice start beyond loopback", () => {
  it("refuses to listen on 0.0.0.0 without a token", async () => {
    const projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-e2e-open-"));
    fs.mkdirSync(path.join(projectDir, "pipelines"));
    await expect(startSluice(projectDir, ["--host", "0.0.0.0"], { SLUICE_TOKEN: "" })).rejects.toThrow(/refusing to listen on 0\.0\.0\.0 without a token/);
    fs.rmSync(projectDir, { recursive: true, force: true });
  }, 120_000);
});

describe("sluice start with a token", () => {
  it("answers 401 without the token and serves with it", async () => {
    const projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-e2e-token-"));
    fs.mkdirSync(path.join(projectDir, "pipelines"));
    const server = await startSluice(projectDir, ["--host", "0.0.0.0"], { SLUICE_TOKEN: "s3cret-token-0123456789abcdef0123456789" });
    try {
      const url = server.url.replace("0.0.0.0", "127.0.0.1");
      expect((await fetch(`${url}/api/pipelines`)).status).toBe(401);
      const ok = await fetch(`${url}/api/pipelines`, { headers: { Authorization: "Bearer s3cret-token-0123456789abcdef0123456789" } });
      expect(ok.status).toBe(200);
      const login = await fetch(`${url}/?token=s3cret-token-0123456789abcdef0123456789`, { redirect: "manual" });
      expect(login.headers.get("set-cookie")).toMatch(/sluice_token=.*HttpOnly; SameSite=Strict/);
    } finally {
      await server.stop();
      fs.rmSync(projectDir, { recursive: true, force: true });
    }
  }, 300_000);
});
