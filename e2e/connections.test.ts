/**
 * The connections page in real Chromium against a real `sluice start` and the real Postgres: add a Postgres
 * connection with a password, test it before saving, save it, see it listed with the password only as "set",
 * test it from the list, see a closed port named precisely; the password never appears in a page, an API
 * answer or the server's output, and the file keeps its comments. A hand edit that breaks the file shows on the
 * page with its line, without a restart. Screenshots: test-results/screenshots/connections-*.png.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { launchChromium, SCREENSHOT_DIR, startSluice, type StartedServer } from "./server";

jest.setTimeout(240_000);

const PASSWORD = "s3cr3t-e2e-conn-91b2c";
const ENV_SECRET = "s3cr3t-from-dotenv-55e1";

const SLUICE_YAML = `# Project connections (hand-written)
connections:
  # raw files
  lake:
    kind: files
    root: .
  api:
    kind: http
    base_url: https://example.invalid/
    headers:
      Authorization: "{{ env_var('E2E_API_TOKEN') }}"
`;

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `connections-${name}.png`), fullPage: true });
}

describe("connections page (real server, real Postgres, real Chromium)", () => {
  let projectDir: string;
  let server: StartedServer;
  let browser: Browser;
  let page: Page;
  const answers: string[] = [];

  beforeAll(async () => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-e2e-connections-"));
    fs.writeFileSync(path.join(projectDir, "sluice.yaml"), SLUICE_YAML);
    fs.writeFileSync(path.join(projectDir, ".env"), `E2E_API_TOKEN=${ENV_SECRET}\n`);
    fs.mkdirSync(path.join(projectDir, "pipelines"));
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    server = await startSluice(projectDir);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    // Every API answer the page receives, to check that no secret is ever in one.
    page.on("response", (response) => {
      if (new URL(response.url()).pathname.startsWith("/api/")) void response.text().then((text) => answers.push(text), () => undefined);
    });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (projectDir) fs.rmSync(projectDir, { recursive: true, force: true });
  });

  it("lists the file's connections, secrets only as set (with the variable they come from)", async () => {
    await page.goto(`${server.url}/connections`);
    await page.getByRole("heading", { name: "Connections", level: 1 }).waitFor({ timeout: 120_000 });
    await page.getByRole("heading", { name: "lake" }).waitFor();
    await page.getByText(path.join(projectDir, "sluice.yaml")).waitFor();
    const api = page.getByRole("listitem").filter({ has: page.getByRole("heading", { name: "api" }) });
    await api.getByText("from env E2E_API_TOKEN").waitFor();
    expect(await page.content()).not.toContain(ENV_SECRET);
    await shot(page, "1-list");
  });

  it("adds a Postgres connection: tests it before saving, saves it, sees it listed with the password masked", async () => {
    await page.getByRole("button", { name: "Add connection" }).click();
    const form = page.getByRole("form", { name: "New connection" });
    await form.getByLabel("Name").fill("warehouse");
    await form.getByLabel("Kind").selectOption("postgres");
    await form.getByLabel("host").fill("127.0.0.1");
    await form.getByLabel("port").fill("5432");
    await form.getByLabel("database").fill("test");
    await form.getByLabel("user", { exact: true }).fill("postgres");
    await form.getByLabel(/^password/).fill(PASSWORD);
    await form.getByRole("button", { name: "Test connection" }).click();
    await form.getByText(/^Connected: postgres "warehouse": connected to 127\.0\.0\.1:5432\/test, SELECT 1 answered/).waitFor({ timeout: 30_000 });
    await shot(page, "2-form-tested");
    await form.getByRole("button", { name: "Save" }).click();
    await page.getByRole("status").or(page.getByText("Added warehouse.")).first().waitFor();
    const card = page.getByRole("listitem").filter({ has: page.getByRole("heading", { name: "warehouse" }) });
    await card.getByText("postgres", { exact: true }).first().waitFor();
    await card.getByText("127.0.0.1").waitFor();
    expect(await card.locator("dt", { hasText: "password" }).locator("xpath=following-sibling::dd").textContent()).toBe("set");
    expect(await page.content()).not.toContain(PASSWORD);

    const text = fs.readFileSync(path.join(projectDir, "sluice.yaml"), "utf8");
    expect(text.startsWith(SLUICE_YAML)).toBe(true);
    expect(text).toContain("  warehouse:\n    kind: postgres\n    host: 127.0.0.1\n    port: 5432\n    database: test\n    user: postgres\n");
    await shot(page, "3-saved");
  });

  it("tests the saved connection from the list, and a closed port is named precisely", async () => {
    const card = page.getByRole("listitem").filter({ has: page.getByRole("heading", { name: "warehouse" }) });
    await card.getByRole("button", { name: "Test connection warehouse" }).click();
    await card.getByText(/^Connected: postgres "warehouse"/).waitFor({ timeout: 30_000 });

    await card.getByRole("button", { name: "Edit connection warehouse" }).click();
    const form = page.getByRole("form", { name: "Edit connection warehouse" });
    expect(await form.getByLabel(/^password/).inputValue()).toBe("");
    expect(await form.getByLabel(/^password/).getAttribute("placeholder")).toBe("set — leave empty to keep");
    await form.getByLabel("port").fill("5433");
    await form.getByRole("button", { name: "Test connection" }).click();
    await form.getByText('Failed: postgres "warehouse": connection refused at 127.0.0.1:5433', { exact: false }).waitFor({ timeout: 30_000 });
    await shot(page, "4-refused");
    await form.getByRole("button", { name: "Cancel" }).click();
    // Nothing was saved by testing.
    expect(fs.readFileSync(path.join(projectDir, "sluice.yaml"), "utf8")).toContain("    port: 5432\n");
  });

  it("shows a hand edit that breaks the file, with its line, while the last good connections stay", async () => {
    const file = path.join(projectDir, "sluice.yaml");
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("    port: 5432\n", "    port: fifty\n"));
    const problem = page.getByRole("alert").filter({ hasText: "sluice.yaml is invalid at line" });
    await problem.waitFor({ timeout: 20_000 });
    expect(await problem.textContent()).toMatch(/connections\.warehouse\.port: expected a number, got the text "fifty"/);
    await page.emulateMedia({ colorScheme: "dark" });
    await shot(page, "5-invalid-dark");
    await page.emulateMedia({ colorScheme: "light" });
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("    port: fifty\n", "    port: 5432\n"));
    await problem.waitFor({ state: "detached", timeout: 20_000 });
  });

  it("deletes a connection after confirming; the rest of the file stays", async () => {
    page.once("dialog", (dialog) => void dialog.accept());
    await page.getByRole("button", { name: "Delete connection lake" }).click();
    await page.getByText("Deleted lake.").waitFor();
    await page.getByRole("heading", { name: "lake" }).waitFor({ state: "detached" });
    const text = fs.readFileSync(path.join(projectDir, "sluice.yaml"), "utf8");
    expect(text).not.toContain("lake:");
    expect(text.startsWith("# Project connections (hand-written)\nconnections:\n")).toBe(true);
    expect(text).toContain("  api:\n    kind: http\n");
  });

  it("never sends or logs a secret: API answers, the server's output", async () => {
    for (const route of ["/api/connections", "/api/connections/warehouse", "/api/connections/api"]) {
      const response = await fetch(`${server.url}${route}`);
      expect(response.status).toBe(200);
      answers.push(await response.text());
    }
    const body = JSON.stringify({ kind: "postgres", fields: { port: "x" } });
    // The perimeter: a write from no origin, or not as JSON, is refused before it reaches the service.
    expect((await fetch(`${server.url}/api/connections/warehouse`, { method: "PUT", headers: { "content-type": "application/json" }, body })).status).toBe(403);
    expect((await fetch(`${server.url}/api/connections/warehouse`, { method: "PUT", headers: { "content-type": "text/plain", origin: server.url }, body })).status).toBe(415);
    const refused = await fetch(`${server.url}/api/connections/warehouse`, { method: "PUT", headers: { "content-type": "application/json", origin: server.url }, body });
    expect(refused.status).toBe(422);
    answers.push(await refused.text());
    expect(answers.length).toBeGreaterThan(5);
    for (const answer of answers) {
      expect(answer).not.toContain(PASSWORD);
      expect(answer).not.toContain(ENV_SECRET);
    }
    expect(server.output()).not.toContain(PASSWORD);
    expect(server.output()).not.toContain(ENV_SECRET);
  });
});
