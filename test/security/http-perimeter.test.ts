/**
 * The HTTP perimeter of the default setup (`sluice start` on loopback, no token), against a real server
 * process: the Host check (DNS rebinding), the origin of state-changing requests, JSON-only API writes, body
 * limits enforced while the body streams (with the server's memory watched during a 500 MB body), the
 * API-trigger token checked before its body is read, JSON errors without server paths, and reads refusing a
 * symlink out of the project. The legitimate paths are exercised too: the editor in Chromium, a same-origin
 * script, the API trigger with its token.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { launchChromium, startSluice, type StartedServer } from "../../e2e/server";
import { REPO_ROOT, taxiDataDir } from "../taxi-data";
import { errorCode, peakGrowthDuring, request, streamBody } from "./http-helpers";

jest.setTimeout(120_000);

const MB = 1024 * 1024;

function pipelineYaml(name: string, blocks: { name: string; type: string; language: string; upstream?: string[] }[]): string {
  const lines = [`version: 1`, `name: ${name}`, `blocks:`];
  for (const block of blocks) {
    lines.push(`  - name: ${block.name}`, `    type: ${block.type}`, `    language: ${block.language}`, `    upstream: [${(block.upstream ?? []).join(", ")}]`);
  }
  return lines.join("\n") + "\n";
}

interface PipelineList {
  pipelines: { name: string }[];
}

describe("the HTTP perimeter on loopback without a token (real server)", () => {
  let projectDir: string;
  let outsideDir: string;
  let server: StartedServer;
  let browser: Browser | undefined;
  let own: string;
  let triggerToken: string;

  const names = async (): Promise<string[]> => ((JSON.parse((await request(`${server.url}/api/pipelines`)).body) as PipelineList).pipelines).map((p) => p.name);
  const json = (method: string, route: string, body: unknown, headers: Record<string, string> = {}) =>
    request(`${server.url}${route}`, { method, headers: { "Content-Type": "application/json", Origin: own, ...headers }, body: JSON.stringify(body) });

  beforeAll(async () => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-sec-perimeter-"));
    outsideDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-sec-outside-"));
    const taxi = path.join(taxiDataDir(), "green_tripdata_2020-10.csv.gz");
    const trips = path.join(projectDir, "pipelines", "taxi");
    fs.mkdirSync(trips, { recursive: true });
    fs.writeFileSync(
      path.join(trips, "pipeline.yaml"),
      pipelineYaml("taxi", [
        { name: "trips", type: "loader", language: "sql" },
        { name: "by_payment", type: "transformer", language: "sql", upstream: ["trips"] },
      ]),
    );
    fs.writeFileSync(path.join(trips, "trips.sql"), `SELECT * FROM read_csv_auto('${taxi}') LIMIT 2000\n`);
    fs.writeFileSync(path.join(trips, "by_payment.sql"), "SELECT payment_type, count(*) AS trips, sum(total_amount) AS total FROM trips GROUP BY payment_type\n");
    fs.writeFileSync(path.join(trips, "triggers.yaml"), "version: 1\ntriggers:\n  - name: hook\n    type: api\n");
    // A block file planted as a symlink to a file outside the project.
    fs.writeFileSync(path.join(outsideDir, "secret.txt"), "TOP-SECRET-OUTSIDE-THE-PROJECT");
    const leaky = path.join(projectDir, "pipelines", "leaky");
    fs.mkdirSync(leaky, { recursive: true });
    fs.writeFileSync(path.join(leaky, "pipeline.yaml"), pipelineYaml("leaky", [{ name: "stolen", type: "loader", language: "sql" }]));
    fs.symlinkSync(path.join(outsideDir, "secret.txt"), path.join(leaky, "stolen.sql"));

    // Monaco is served from public/ (the editor test needs it); the copy is what `npm start` makes too.
    const copied = spawnSync(process.execPath, [path.join(REPO_ROOT, "scripts", "copy-monaco.cjs")], { encoding: "utf8" });
    if (copied.status !== 0) throw new Error(`copy-monaco failed: ${copied.stderr}`);
    server = await startSluice(projectDir);
    own = server.url;
    const issued = await json("POST", "/api/pipelines/taxi/triggers/hook/token", {});
    expect(issued.status).toBeLessThan(300);
    triggerToken = (JSON.parse(issued.body) as { token: string }).token;
  }, 400_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    fs.rmSync(projectDir, { recursive: true, force: true });
    fs.rmSync(outsideDir, { recursive: true, force: true });
  });

  it("answers only to its own Host names (a DNS-rebound name gets a JSON 421)", async () => {
    const port = new URL(server.url).port;
    const rebound = await request(`${server.url}/api/pipelines`, { headers: { Host: `attacker.example:${port}` } });
    expect(rebound.status).toBe(421);
    expect(errorCode(rebound)).toBe("unknown_host");
    const page = await request(`${server.url}/`, { headers: { Host: `rebind.attacker.example` } });
    expect(page.status).toBe(421);
    const otherPort = await request(`${server.url}/api/pipelines`, { headers: { Host: `127.0.0.1:1` } });
    expect(otherPort.status).toBe(421);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`]) {
      expect((await request(`${server.url}/api/pipelines`, { headers: { Host: host } })).status).toBe(200);
    }
  });

  it("refuses cross-origin and origin-less writes, and non-JSON API bodies, creating nothing", async () => {
    const attempts: { headers: Record<string, string>; body: string; status: number; code: string }[] = [
      { headers: { "Content-Type": "text/plain", Origin: "http://127.0.0.1:9" }, body: '{"name":"pwn_text"}', status: 403, code: "cross_origin" },
      { headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: "http://evil.example" }, body: "name=pwn_form", status: 403, code: "cross_origin" },
      { headers: { "Content-Type": "application/json", Origin: "null" }, body: '{"name":"pwn_null"}', status: 403, code: "cross_origin" },
      { headers: { "Content-Type": "application/json", Referer: "http://localhost:9/page" }, body: '{"name":"pwn_referer"}', status: 403, code: "cross_origin" },
      { headers: { "Content-Type": "application/json" }, body: '{"name":"pwn_anonymous"}', status: 403, code: "cross_origin" },
      { headers: { "Content-Type": "text/plain", Origin: own }, body: '{"name":"pwn_same_text"}', status: 415, code: "unsupported_media_type" },
      { headers: { "Content-Type": "multipart/form-data; boundary=x", Origin: own }, body: "--x--", status: 415, code: "unsupported_media_type" },
    ];
    for (const attempt of attempts) {
      const response = await request(`${server.url}/api/pipelines`, { method: "POST", headers: attempt.headers, body: attempt.body });
      expect({ status: response.status, code: errorCode(response) }).toEqual({ status: attempt.status, code: attempt.code });
    }
    // A run of a TS block is the real prize: refused the same way.
    const run = await request(`${server.url}/api/pipelines/taxi/runs`, { method: "POST", headers: { "Content-Type": "text/plain", Origin: "http://127.0.0.1:9" }, body: "{}" });
    expect(run.status).toBe(403);
    expect((await names()).filter((name) => name.startsWith("pwn"))).toEqual([]);
    expect(JSON.parse((await request(`${server.url}/api/runs?pipeline=taxi`)).body)).toEqual(expect.objectContaining({ runs: [] }));

    const created = await json("POST", "/api/pipelines", { name: "made_here" });
    expect(created.status).toBe(201);
    expect(await names()).toContain("made_here");
  });

  it("refuses bodies beyond each route's limit with a 413 JSON answer, declared or chunked", async () => {
    const declared = await streamBody(`${server.url}/api/pipelines`, 2 * MB, { declareLength: true, headers: { Origin: own } });
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body)).toEqual({ error: { code: "body_too_large", message: expect.stringContaining("1 MB") } });
    const chunked = await streamBody(`${server.url}/api/pipelines/taxi`, 2 * MB, { method: "PUT", headers: { Origin: own } });
    expect(chunked.status).toBe(413);

    // Block code may be larger (5 MB): a 3 MB save goes through, a 6 MB one does not.
    const block = JSON.parse((await request(`${server.url}/api/pipelines/taxi/blocks/by_payment`)).body) as { version: string };
    const bigCode = `-- ${"x".repeat(3 * MB)}\nSELECT payment_type, count(*) AS trips FROM trips GROUP BY payment_type\n`;
    const saved = await json("PUT", "/api/pipelines/taxi/blocks/by_payment", { code: bigCode }, { "If-Match": `"${block.version}"` });
    expect(saved.status).toBe(200);
    const tooBig = await streamBody(`${server.url}/api/pipelines/taxi/blocks/by_payment`, 6 * MB, { method: "PUT", declareLength: true, headers: { Origin: own } });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body).toContain("5 MB");
    const restored = JSON.parse((await request(`${server.url}/api/pipelines/taxi/blocks/by_payment`)).body) as { version: string };
    await json("PUT", "/api/pipelines/taxi/blocks/by_payment", { code: "SELECT payment_type, count(*) AS trips FROM trips GROUP BY payment_type\n" }, { "If-Match": `"${restored.version}"` });
  });

  it("checks an API trigger's token before reading its body, and limits the body of a valid one", async () => {
    const endpoint = `${server.url}/api/triggers/taxi.hook/runs`;
    // A wrong token with a body that never finishes arriving: refused on the token, without waiting for the body.
    const wrong = await streamBody(endpoint, 900 * 1024, { declareLength: true, stallAfter: 64 * 1024, headers: { Authorization: "Bearer slk_wrong" } });
    expect(wrong.status).toBe(401);
    expect(wrong.sent).toBe(64 * 1024);
    // Beyond the limit, the declared length alone is refused, token or not.
    const declaredBig = await streamBody(endpoint, 100 * MB, { declareLength: true, headers: { Authorization: "Bearer slk_wrong" } });
    expect(declaredBig.status).toBe(413);
    const missing = await request(endpoint, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
    expect(missing.status).toBe(401);
    const big = await streamBody(endpoint, 2 * MB, { headers: { Authorization: `Bearer ${triggerToken}` } });
    expect(big.status).toBe(413);
  });

  it("refuses a 500 MB body (chunked and declared) while its memory grows by less than 50 MB", async () => {
    const pid = server.process.pid;
    if (pid === undefined) throw new Error("no server pid");
    const chunked = await peakGrowthDuring(pid, () => streamBody(`${server.url}/api/pipelines`, 500 * MB, { headers: { Origin: own } }));
    expect(chunked.result.status).toBe(413);
    expect(chunked.result.closedEarly).toBe(true);
    expect(chunked.growth).toBeLessThan(50 * MB);
    const declared = await peakGrowthDuring(pid, () => streamBody(`${server.url}/api/pipelines/taxi/blocks/trips`, 500 * MB, { method: "PUT", declareLength: true, headers: { Origin: own } }));
    expect(declared.result.status).toBe(413);
    expect(declared.growth).toBeLessThan(50 * MB);
    // A client that ignores the 413 and keeps sending: the rest is discarded, then the connection is cut.
    const hostile = await peakGrowthDuring(pid, () => streamBody(`${server.url}/api/pipelines`, 500 * MB, { headers: { Origin: own }, ignoreAnswer: true }));
    expect(hostile.result.status).toBe(413);
    expect(hostile.growth).toBeLessThan(50 * MB);
    // Still serving.
    expect((await request(`${server.url}/api/health`)).status).toBe(200);
  });

  it("answers bad input with precise JSON errors that name no server path", async () => {
    const unknown = await request(`${server.url}/api/no/such/route`);
    expect(unknown.status).toBe(404);
    expect(errorCode(unknown)).toBe("not_found");
    const unknownWrite = await json("POST", "/api/pipelines/taxi/nothing_here", {});
    expect(unknownWrite.status).toBe(404);
    expect(errorCode(unknownWrite)).toBe("not_found");
    const bare = await request(`${server.url}/api`);
    expect(bare.status).toBe(404);
    expect(errorCode(bare)).toBe("not_found");

    const longName = "a".repeat(300);
    const responses = [
      await json("POST", "/api/pipelines", { name: longName }),
      await request(`${server.url}/api/pipelines/${longName}`),
      await request(`${server.url}/api/pipelines/taxi/blocks/${longName}`),
      await request(`${server.url}/api/runs/${"r".repeat(300)}`),
      await json("POST", "/api/pipelines/taxi/blocks", { name: longName, type: "loader", language: "sql", code: "SELECT 1" }),
    ];
    for (const response of responses) {
      expect(response.status).toBe(400);
      expect(response.body).toMatch(/at most 100 characters/);
    }
    const deep = await request(`${server.url}/api/pipelines/taxi`, { method: "PUT", headers: { "Content-Type": "application/json", Origin: own }, body: `{"changes":${"[".repeat(5000)}${"]".repeat(5000)}}` });
    expect(deep.status).toBe(400);
    expect(errorCode(deep)).toBe("json_too_deep");
    const deepRaw = await request(`${server.url}/api/pipelines/taxi/runs`, { method: "POST", headers: { "Content-Type": "application/json", Origin: own }, body: `{"variables":{"x":${"[".repeat(100_000)}${"]".repeat(100_000)}}}` });
    expect(deepRaw.status).toBe(400);
    for (const response of [unknown, ...responses, deep, deepRaw]) {
      expect(response.body).not.toContain(projectDir);
      expect(response.body).not.toContain(os.tmpdir() + "/");
    }
  });

  it("refuses to read a block file that is a symlink out of the project", async () => {
    for (const route of ["/api/pipelines/leaky", "/api/pipelines/leaky/blocks/stolen"]) {
      const response = await request(`${server.url}${route}`);
      expect(response.status).toBe(400);
      expect(errorCode(response)).toBe("path_escape");
      expect(response.body).not.toContain("TOP-SECRET");
      expect(response.body).not.toContain(outsideDir);
    }
  });

  it("runs a pipeline for a script with the API trigger's token (no Origin, as curl sends it)", async () => {
    const fired = await request(`${server.url}/api/triggers/taxi.hook/runs`, {
      method: "POST",
      headers: { Authorization: `Bearer ${triggerToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ variables: {} }),
    });
    expect(fired.status).toBe(201);
    const runId = (JSON.parse(fired.body) as { run_id: string }).run_id;
    let state = "";
    const until = Date.now() + 60_000;
    let blocks: { block: string; state: string; rows: number | null }[] = [];
    while (Date.now() < until) {
      const detail = JSON.parse((await request(`${server.url}/api/runs/${runId}`)).body) as { run: { state: string }; blocks: typeof blocks };
      state = detail.run.state;
      blocks = detail.blocks;
      if (state !== "queued" && state !== "running") break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(state).toBe("success");
    expect(blocks.find((b) => b.block === "trips")?.rows).toBe(2000);
  });

  it("keeps a cross-origin page in Chromium from creating anything (simple POST, form POST, JSON fetch)", async () => {
    const target = server.url;
    const attacker = http.createServer((_req, res) => {
      res.writeHead(200, { "Content-Type": "text/html" });
      res.end(`<!doctype html><body>
<form id="f" method="post" action="${target}/api/pipelines" enctype="text/plain" target="sink"><input name='{"name":"pwn_form_page","x":"' value='"}'></form>
<iframe name="sink"></iframe>
<script>
window.results = [];
async function attack() {
  try { await fetch("${target}/api/pipelines", { method: "POST", mode: "no-cors", headers: { "Content-Type": "text/plain" }, body: JSON.stringify({ name: "pwn_simple_page" }) }); window.results.push("simple sent"); } catch (e) { window.results.push("simple blocked"); }
  try { const r = await fetch("${target}/api/pipelines", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ name: "pwn_json_page" }) }); window.results.push("json " + r.status); } catch (e) { window.results.push("json blocked"); }
  try { await fetch("${target}/api/pipelines/taxi/runs", { method: "POST", mode: "no-cors", body: "{}" }); window.results.push("run sent"); } catch (e) { window.results.push("run blocked"); }
  document.getElementById("f").submit();
  window.results.push("form sent");
}
attack();
</script></body>`);
    });
    await new Promise<void>((resolve) => attacker.listen(0, "127.0.0.1", () => resolve()));
    const attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`;
    browser ??= await launchChromium();
    const context = await browser.newContext();
    try {
      const evil = await context.newPage();
      await evil.goto(attackerUrl);
      await evil.waitForFunction(() => (window as unknown as { results: string[] }).results.includes("form sent"));
      await evil.waitForTimeout(1000);
      // The JSON fetch needs a preflight the server never grants: the browser blocks it.
      expect(await evil.evaluate(() => (window as unknown as { results: string[] }).results)).toContain("json blocked");
    } finally {
      await context.close();
      await new Promise((resolve) => attacker.close(resolve));
    }
    expect((await names()).filter((name) => name.startsWith("pwn"))).toEqual([]);
    expect(JSON.parse((await request(`${server.url}/api/runs?pipeline=taxi`)).body).runs).toHaveLength(1);
  });

  it("lets the editor in Chromium create a pipeline, save a block and run it", async () => {
    browser ??= await launchChromium();
    const page: Page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    await page.goto(server.url);
    await page.getByLabel("New pipeline name").fill("editor_flow");
    await page.getByRole("button", { name: "Create" }).click();
    await page.waitForURL(/\/pipelines\/editor_flow$/);
    await page.getByRole("button", { name: "+ TypeScript loader" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Add block" }).click();
    await page.getByTestId("cell-load_data").waitFor();
    await page.getByRole("button", { name: "+ SQL transformer" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Add block" }).click();
    await page.getByTestId("cell-transform_sql").waitFor();
    const editor = page.getByTestId("code-transform_sql").locator(".monaco-editor");
    await editor.waitFor();
    await editor.locator(".view-lines").click();
    await page.keyboard.press("Control+A");
    await page.keyboard.press("Delete");
    await page.keyboard.insertText(`SELECT * FROM read_csv_auto('${path.join(taxiDataDir(), "green_tripdata_2020-10.csv.gz")}') LIMIT 300`);
    await page.getByRole("button", { name: "Run pipeline" }).click();
    await page.locator('[data-testid="run-bar"][data-state="success"]').waitFor({ timeout: 60_000 });
    await page.getByTestId("preview-transform_sql").getByText("300 rows").waitFor();
    expect(fs.readFileSync(path.join(projectDir, "pipelines", "editor_flow", "transform_sql.sql"), "utf8")).toContain("LIMIT 300");
  });
});
