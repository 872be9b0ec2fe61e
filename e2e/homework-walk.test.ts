/**
 * The Zoomcamp homework walked in real Chromium as a new user, against a real `sluice start`, the real NYC green
 * taxi file (served over HTTP by the test) and the real Postgres: a pipeline created with a description, an
 * HTTP loader from its template, a transformer with three data tests attached below it, variables set in the
 * settings panel and read by the blocks, a Postgres connection added and tested on the connections page, a
 * Postgres exporter from its template, a run, a reload that forgets nothing, the run page's preview of the
 * exporter's input. Each step is photographed in light and dark: test-results/screenshots/walk-NN-*-{light,dark}.png.
 */
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { Client } from "pg";
import type { Browser, Page } from "playwright-core";
import { parsePipelineYaml } from "../lib/core/pipeline-schema";
import { REPO_ROOT } from "../test/taxi-data";
import { closeEditorSession, openEditorSession, SCREENSHOT_DIR, type StartedServer } from "./server";

jest.setTimeout(180_000);

const TAXI_FILE = path.join(REPO_ROOT, "test", "data", "nyc-taxi", "green_tripdata_2020-12.csv.gz");
const SCHEMA = `walk_${Math.random().toString(36).slice(2, 10)}`;
const ADMIN_URL = "postgres://postgres@127.0.0.1:5432/test";

/** The transformer as the user types it: the homework's filter, and three checks on what it returns. */
const TRANSFORMER = `import { check } from "@sluice/sdk";
import type { Table } from "apache-arrow";

/** Trips with passengers and a distance, with the columns the homework asks about. */
export default async function transform(input: Table) {
  return input
    .toArray()
    .filter((r) => r.passenger_count > 0 && r.trip_distance > 0)
    .map((r) => ({ vendor_id: r.VendorID, pu_location_id: r.PULocationID, do_location_id: r.DOLocationID, passenger_count: r.passenger_count, trip_distance: r.trip_distance, total_amount: r.total_amount }));
}

export async function test(output: Table) {
  check(output.numRows > 0, "no trip is left");
  check([...(output.getChild("passenger_count")?.toArray() ?? [])].every((n: number) => n > 0), "a trip has no passenger");
  check([...(output.getChild("trip_distance")?.toArray() ?? [])].every((d: number) => d > 0), "a trip has no distance");
}
`;

/** The step's screenshot in the light theme, then in the dark one (the page follows the system setting live). */
async function shot(page: Page, name: string): Promise<void> {
  for (const scheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.waitForFunction((dark) => getComputedStyle(document.body).backgroundColor !== (dark ? "rgb(246, 247, 249)" : "rgb(15, 17, 21)"), scheme === "dark");
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, `walk-${name}-${scheme}.png`), fullPage: true });
  }
  await page.emulateMedia({ colorScheme: "light" });
}

/** Replaces a block's code in its Monaco editor by pasting it (as a user brings code in), then saves it with the shortcut. */
async function pasteCode(page: Page, block: string, code: string): Promise<void> {
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: new URL(page.url()).origin });
  await page.evaluate((text) => navigator.clipboard.writeText(text), code);
  const editor = page.getByTestId(`code-${block}`).locator(".monaco-editor");
  await editor.waitFor();
  await editor.locator(".view-lines").click();
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Control+V");
  await page.keyboard.press("Control+S");
}

/** Scrolls the notebook to a block's cell (the notebook mounts only the cells near the visible part), as a user would. */
async function showCell(page: Page, block: string): Promise<void> {
  await page.locator(`[id="cell-${block}"]`).scrollIntoViewIfNeeded();
  await page.getByTestId(`state-${block}`).waitFor();
}

async function until(check: () => boolean, what: () => string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("the homework, walked as a new user (real server, files, Postgres, Chromium; light and dark)", () => {
  let projectDir: string;
  let server: StartedServer;
  let browser: Browser;
  let page: Page;
  let files: http.Server;
  let fileUrl: string;
  let yamlFile: string;
  let runId = "";
  let keptRows = 0;
  const tripsInFile = zlib.gunzipSync(fs.readFileSync(TAXI_FILE)).toString("utf8").trim().split("\n").length - 1;

  beforeAll(async () => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-e2e-walk-"));
    fs.mkdirSync(path.join(projectDir, "pipelines"));
    yamlFile = path.join(projectDir, "pipelines", "homework", "pipeline.yaml");
    // The "web" the HTTP loader downloads from: the real file, served as the Zoomcamp's release is.
    files = http.createServer((request, response) => {
      if (request.url !== "/green/green_tripdata_2020-12.csv.gz") return void response.writeHead(404).end();
      response.writeHead(200, { "content-type": "application/gzip", "content-length": fs.statSync(TAXI_FILE).size });
      fs.createReadStream(TAXI_FILE).pipe(response);
    });
    await new Promise<void>((resolve) => files.listen(0, "127.0.0.1", resolve));
    fileUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}/green/green_tripdata_2020-12.csv.gz`;
    ({ server, browser, page } = await openEditorSession(projectDir));
  }, 400_000);

  afterAll(async () => {
    await closeEditorSession({ server, browser }, projectDir);
    await new Promise((resolve) => files?.close(resolve));
    const client = new Client({ connectionString: ADMIN_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
    await client.end();
  });

  it("01 creates a pipeline on the home page and describes it in the settings panel", async () => {
    await page.goto(server.url);
    await page.getByLabel("New pipeline name").fill("homework");
    await page.getByRole("button", { name: "Create" }).click();
    await page.waitForURL(/\/pipelines\/homework$/);
    await page.getByRole("button", { name: "Settings" }).click();
    const panel = page.getByRole("complementary", { name: "Settings" });
    await panel.getByLabel("Description").fill("Zoomcamp module 2: green taxi trips into Postgres");
    await panel.getByLabel("Description").blur();
    await until(() => fs.readFileSync(yamlFile, "utf8").includes("description: "), () => `the description in pipeline.yaml:\n${fs.readFileSync(yamlFile, "utf8")}`);
    expect(parsePipelineYaml(fs.readFileSync(yamlFile, "utf8"), "pipeline.yaml").description).toBe("Zoomcamp module 2: green taxi trips into Postgres");
    await shot(page, "01-created");
    await panel.getByRole("button", { name: "Close settings" }).click();
  });

  it("02 adds the HTTP loader from its template, under the name typed in the dialog", async () => {
    await page.getByRole("button", { name: "+ Connector template…" }).click();
    await page.getByRole("menu", { name: "Connector templates" }).getByRole("menuitem", { name: /HTTP CSV loader \(TypeScript\)/ }).click();
    const dialog = page.getByRole("dialog", { name: /Add HTTP CSV loader/ });
    expect(await dialog.getByLabel("Name").inputValue()).toBe("http_csv_loader");
    expect(await dialog.getByLabel("Reads from (upstream)").inputValue()).toBe("");
    await dialog.getByLabel("Name").fill("load_green");
    await shot(page, "02-loader-dialog");
    await dialog.getByRole("button", { name: "Add block" }).click();
    await page.getByTestId("cell-load_green").waitFor();
    expect(fs.readFileSync(path.join(path.dirname(yamlFile), "load_green.ts"), "utf8")).toBe(fs.readFileSync(path.join(REPO_ROOT, "templates", "io", "http_csv_loader.ts"), "utf8"));
  });

  it("03 adds a transformer, attached below the loader, and pastes its filter and three data tests", async () => {
    await page.getByRole("button", { name: "+ TypeScript transformer" }).click();
    const dialog = page.getByRole("dialog", { name: "Add TypeScript transformer" });
    expect(await dialog.getByLabel("Reads from (upstream)").inputValue()).toBe("load_green");
    await dialog.getByLabel("Name").fill("clean_trips");
    await dialog.getByRole("button", { name: "Add block" }).click();
    await page.getByTestId("cell-clean_trips").waitFor();
    await pasteCode(page, "clean_trips", TRANSFORMER);
    const file = path.join(path.dirname(yamlFile), "clean_trips.ts");
    await until(() => fs.readFileSync(file, "utf8") === TRANSFORMER, () => `the transformer saved as typed, not:\n${fs.readFileSync(file, "utf8")}`);
    await shot(page, "03-transformer");
  });

  it("04 sets the variables in the settings panel: the file's URL and the Postgres schema and table", async () => {
    await page.getByRole("button", { name: "Settings" }).click();
    const panel = page.getByRole("complementary", { name: "Settings" });
    for (const [name, value] of [
      ["url", fileUrl],
      ["schema", SCHEMA],
      ["table", "green_trips"],
    ]) {
      // The form empties itself once the server wrote the previous variable.
      await panel.locator('input[aria-label="New variable name"]:placeholder-shown').waitFor();
      await panel.getByLabel("New variable name").fill(name);
      await panel.getByLabel("New variable value").fill(value);
      await panel.getByRole("button", { name: "Add variable" }).click();
      await panel.getByLabel(`Value of variable ${name}`).waitFor();
    }
    expect(await panel.getByLabel("Value of variable url").inputValue()).toBe(fileUrl);
    await shot(page, "04-variables");
    await panel.getByRole("button", { name: "Close settings" }).click();
    expect(parsePipelineYaml(fs.readFileSync(yamlFile, "utf8"), "pipeline.yaml").variables).toEqual({ url: fileUrl, schema: SCHEMA, table: "green_trips" });
  });

  it("05 adds a Postgres connection on the connections page and tests it", async () => {
    await page.getByRole("link", { name: "Connections" }).first().click();
    await page.getByRole("heading", { name: "Connections", level: 1 }).waitFor();
    await page.getByRole("button", { name: "Add connection" }).click();
    const form = page.getByRole("form", { name: "New connection" });
    await form.getByLabel("Name").fill("warehouse");
    await form.getByLabel("Kind").selectOption("postgres");
    await form.getByLabel("host").fill("127.0.0.1");
    await form.getByLabel("port").fill("5432");
    await form.getByLabel("database").fill("test");
    await form.getByLabel("user", { exact: true }).fill("postgres");
    await form.getByRole("button", { name: "Test connection" }).click();
    await form.getByText(/^Connected: postgres "warehouse": connected to 127\.0\.0\.1:5432\/test/).waitFor({ timeout: 30_000 });
    await shot(page, "05-connection-tested");
    await form.getByRole("button", { name: "Save" }).click();
    const card = page.getByRole("listitem").filter({ has: page.getByRole("heading", { name: "warehouse" }) });
    await card.getByRole("button", { name: "Test connection warehouse" }).click();
    await card.getByText(/^Connected: postgres "warehouse"/).waitFor({ timeout: 30_000 });
    expect(fs.readFileSync(path.join(projectDir, "sluice.yaml"), "utf8")).toContain("  warehouse:\n    kind: postgres\n");
    await shot(page, "06-connection-saved");
  });

  it("06 adds the Postgres exporter from its template, attached below the transformer", async () => {
    await page.goto(`${server.url}/pipelines/homework`);
    await page.getByTestId("cell-clean_trips").waitFor();
    await page.getByRole("button", { name: "+ Connector template…" }).click();
    await page.getByRole("menu", { name: "Connector templates" }).getByRole("menuitem", { name: /Postgres exporter \(TypeScript\)/ }).click();
    const dialog = page.getByRole("dialog", { name: /Add Postgres exporter/ });
    expect(await dialog.getByLabel("Reads from (upstream)").inputValue()).toBe("clean_trips");
    await dialog.getByLabel("Name").fill("to_postgres");
    await dialog.getByRole("button", { name: "Add block" }).click();
    await page.getByTestId("cell-to_postgres").waitFor();
    const pipeline = parsePipelineYaml(fs.readFileSync(yamlFile, "utf8"), "pipeline.yaml");
    expect(pipeline.blocks.map((b) => [b.name, b.type, b.upstream])).toEqual([
      ["load_green", "loader", []],
      ["clean_trips", "transformer", ["load_green"]],
      ["to_postgres", "exporter", ["clean_trips"]],
    ]);
    await shot(page, "07-exporter-added");
  });

  it("07 runs the pipeline: every block succeeds, the tests pass, the rows land in Postgres", async () => {
    await page.getByRole("button", { name: "Run pipeline", exact: true }).click();
    await page.locator('[data-testid="run-bar"][data-state="success"]').waitFor({ timeout: 90_000 });
    runId = (await page.getByTestId("run-link").getAttribute("href"))?.replace("/runs/", "") ?? "";
    expect(runId).toMatch(/^[0-9a-f-]{36}$/);
    for (const block of ["load_green", "clean_trips", "to_postgres"]) expect(await page.getByTestId(`state-${block}`).innerText()).toBe("success");
    expect(await page.getByTestId("rows-load_green").innerText()).toBe(`${tripsInFile.toLocaleString("en-US")} rows`);
    await page.getByTestId("tests-clean_trips").getByText("3 tests passed").waitFor();

    const client = new Client({ connectionString: ADMIN_URL });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: number; bad: number }>(`SELECT count(*)::int AS n, count(*) FILTER (WHERE passenger_count <= 0 OR trip_distance <= 0)::int AS bad FROM "${SCHEMA}".green_trips`);
      keptRows = rows[0].n;
      expect(rows[0].bad).toBe(0);
    } finally {
      await client.end();
    }
    expect(keptRows).toBeGreaterThan(0);
    expect(keptRows).toBeLessThan(tripsInFile);
    const kept = keptRows.toLocaleString("en-US");
    expect(await page.getByTestId("rows-clean_trips").innerText()).toBe(`${kept} rows`);
    expect(await page.getByTestId("writes-to_postgres").innerText()).toBe(`wrote ${kept} rows to postgres postgres@127.0.0.1:5432/test ${SCHEMA}.green_trips`);
    await shot(page, "08-run-succeeded");
  });

  it("08 still shows every block's state, rows and preview after a reload", async () => {
    await page.reload();
    await page.getByTestId("total-rows-load_green").waitFor();
    expect(await page.getByTestId("run-bar").innerText()).not.toContain("No run yet");
    const trips = tripsInFile.toLocaleString("en-US");
    const kept = keptRows.toLocaleString("en-US");
    expect(await page.getByTestId("state-load_green").innerText()).toBe("success");
    expect(await page.getByTestId("rows-load_green").innerText()).toBe(`${trips} rows`);
    await page.getByTestId("total-rows-load_green").getByText(`${trips} rows`).waitFor();
    await page.getByRole("grid", { name: "Output of load_green" }).getByRole("columnheader", { name: /lpep_pickup_datetime/ }).waitFor();
    await shot(page, "09-after-reload-loader");

    await showCell(page, "clean_trips");
    expect(await page.getByTestId("state-clean_trips").innerText()).toBe("success");
    expect(await page.getByTestId("rows-clean_trips").innerText()).toBe(`${kept} rows`);
    expect(await page.getByTestId("tests-clean_trips").innerText()).toBe("3 tests passed");
    await page.getByTestId("total-rows-clean_trips").getByText(`${kept} rows`).waitFor();
    await page.getByRole("grid", { name: "Output of clean_trips" }).getByRole("columnheader", { name: /total_amount/ }).waitFor();

    await showCell(page, "to_postgres");
    expect(await page.getByTestId("state-to_postgres").innerText()).toBe("success");
    expect(await page.getByTestId("writes-to_postgres").innerText()).toBe(`wrote ${kept} rows to postgres postgres@127.0.0.1:5432/test ${SCHEMA}.green_trips`);
    await shot(page, "10-after-reload-transformer-exporter");
  });

  it("09 previews the exporter's input on the run page, with its rows written and the tests passed", async () => {
    // After a reload each block is labelled with the run it comes from, linked to that run's page.
    await page.getByTestId("origin-to_postgres").getByRole("link").click();
    await page.waitForURL(new RegExp(`/runs/${runId}$`));
    await page.getByTestId("block-runs").waitFor();
    const kept = keptRows.toLocaleString("en-US");
    expect(await page.getByTestId("block-result-clean_trips").innerText()).toBe("3 tests passed");
    expect(await page.getByTestId("block-result-to_postgres").innerText()).toBe(`wrote ${kept} rows`);
    await page.getByTestId("block-run-clean_trips").getByRole("button", { name: "clean_trips" }).click();
    await page.getByTestId("total-rows-clean_trips").getByText(`${kept} rows`).waitFor();
    await page.getByRole("grid", { name: "Output of clean_trips" }).getByRole("columnheader", { name: /passenger_count/ }).waitFor();
    await shot(page, "11-run-page-exporter-input");
    await page.getByTestId("block-run-to_postgres").getByRole("button", { name: "to_postgres" }).click();
    await page.getByTestId("result-to_postgres").getByText(`wrote ${kept} rows to postgres postgres@127.0.0.1:5432/test ${SCHEMA}.green_trips`, { exact: false }).waitFor();
    await shot(page, "12-run-page-exporter");
  });
});
