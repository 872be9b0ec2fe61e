/**
 * The HTTP API (the README's API section) against a real `sluice start`: status codes and JSON errors, versions and
 * conflicts, runs in every mode, server-sent events, output pages and logs.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { REPO_ROOT } from "../test/taxi-data";
import { startSluice, type StartedServer } from "./server";

jest.setTimeout(120_000);

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

describe("the editor's HTTP API (real server)", () => {
  let projectDir: string;
  let server: StartedServer;

  const call = async (method: string, url: string, body?: unknown, version?: string) => {
    // Origin as the editor's own pages send it: a state-changing request without one is refused.
    const headers: Record<string, string> = { "Content-Type": "application/json", Origin: server.url };
    if (version) headers["If-Match"] = `"${version}"`;
    const response = await fetch(`${server.url}${url}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };
  const errorOf = (body: Record<string, unknown>) => (body as unknown as ErrorBody).error;

  /** Reads the SSE stream of a run until it closes; returns the decoded messages. */
  const readEvents = async (runId: string): Promise<{ type: string; state?: string; block?: string }[]> => {
    const response = await fetch(`${server.url}/api/runs/${runId}/events`);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const text = await response.text();
    return text
      .split("\n\n")
      .filter((chunk) => chunk.startsWith("data: "))
      .map((chunk) => JSON.parse(chunk.slice(6)) as { type: string; state?: string; block?: string });
  };

  beforeAll(async () => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-e2e-api-"));
    fs.cpSync(path.join(REPO_ROOT, "pipelines", "hello"), path.join(projectDir, "pipelines", "hello"), { recursive: true });
    server = await startSluice(projectDir);
  }, 300_000);

  afterAll(async () => {
    await server?.stop();
    if (projectDir) fs.rmSync(projectDir, { recursive: true, force: true });
  });

  it("creates, reads, renames, duplicates and deletes pipelines with JSON errors", async () => {
    expect((await call("POST", "/api/pipelines", { name: "Bad Name" })).status).toBe(400);
    const created = await call("POST", "/api/pipelines", { name: "api_one" });
    expect(created.status).toBe(201);
    expect((await call("POST", "/api/pipelines", { name: "api_one" })).status).toBe(409);
    const copy = await call("POST", "/api/pipelines", { name: "hello_copy", template: "hello" });
    expect(copy.status).toBe(201);
    const doc = await call("GET", "/api/pipelines/hello_copy");
    expect(doc.status).toBe(200);
    expect((doc.body.blocks as { name: string; code: string }[]).map((b) => b.name)).toEqual(["load_trips", "fares_by_borough", "export_parquet"]);
    const missing = await call("GET", "/api/pipelines/nope");
    expect(missing.status).toBe(404);
    expect(errorOf(missing.body).code).toBe("not_found");

    const version = String((await call("GET", "/api/pipelines/api_one")).body.version);
    expect((await call("PUT", "/api/pipelines/api_one", { name: "api_two" })).status).toBe(428);
    expect((await call("PUT", "/api/pipelines/api_one", { name: "api_two" }, version)).status).toBe(200);
    expect((await call("DELETE", "/api/pipelines/api_two")).status).toBe(204);
    expect((await call("GET", "/api/pipelines/api_two")).status).toBe(404);
  });

  it("adds blocks, saves code with versions (409 when stale), refuses a cycle (409, named) and unknown upstreams (422)", async () => {
    await call("POST", "/api/pipelines", { name: "api_blocks" });
    let version = String((await call("GET", "/api/pipelines/api_blocks")).body.version);
    const a = await call("POST", "/api/pipelines/api_blocks/blocks", { name: "a", type: "loader", language: "sql", code: "SELECT range AS n FROM range(2500)" }, version);
    expect(a.status).toBe(201);
    version = String(a.body.pipeline_version);
    const b = await call("POST", "/api/pipelines/api_blocks/blocks", { name: "b", type: "transformer", language: "sql", upstream: ["a"], code: "SELECT n * 2 AS m FROM a" }, version);
    expect(b.status).toBe(201);
    version = String(b.body.pipeline_version);

    const stale = await call("POST", "/api/pipelines/api_blocks/blocks", { name: "c", type: "loader", language: "sql" }, "0000000000000000");
    expect(stale.status).toBe(409);
    expect(errorOf(stale.body)).toMatchObject({ code: "stale_version", details: { current_version: version } });

    const cycle = await call("PUT", "/api/pipelines/api_blocks", { changes: [{ type: "add_upstream", block: "a", upstream: "b" }] }, version);
    expect(cycle.status).toBe(409);
    expect(errorOf(cycle.body)).toMatchObject({ code: "cycle", message: expect.stringContaining("a → b → a") });
    const unknown = await call("PUT", "/api/pipelines/api_blocks", { changes: [{ type: "add_upstream", block: "b", upstream: "ghost" }] }, version);
    expect(unknown.status).toBe(422);
    expect(errorOf(unknown.body).code).toBe("missing_upstream");

    const block = await call("GET", "/api/pipelines/api_blocks/blocks/b");
    const saved = await call("PUT", "/api/pipelines/api_blocks/blocks/b", { code: "SELECT n * 3 AS m FROM a" }, String(block.body.version));
    expect(saved.status).toBe(200);
    const again = await call("PUT", "/api/pipelines/api_blocks/blocks/b", { code: "SELECT n AS m FROM a" }, String(block.body.version));
    expect(again.status).toBe(409);
    expect(fs.readFileSync(path.join(projectDir, "pipelines", "api_blocks", "b.sql"), "utf8")).toBe("SELECT n * 3 AS m FROM a");
  });

  it("runs a pipeline, streams its events, pages outputs with stats, serves logs, and runs one block on its cached upstream", async () => {
    const started = await call("POST", "/api/pipelines/api_blocks/runs", {});
    expect(started.status).toBe(201);
    const runId = String(started.body.run_id);
    const events = await readEvents(runId);
    expect(events[0].type).toBe("snapshot");
    expect(events.at(-1)).toMatchObject({ type: "run_state", state: "success" });

    const detail = await call("GET", `/api/runs/${runId}`);
    expect(detail.body).toMatchObject({ run: { state: "success", mode: "pipeline" }, blocks: [{ block: "a", state: "success", rows: 2500 }, { block: "b", state: "success", rows: 2500 }] });
    const page = await call("GET", `/api/runs/${runId}/blocks/b/output?offset=2000&limit=3`);
    expect(page.body).toMatchObject({ total_rows: 2500, offset: 2000, rows: [{ m: 6000 }, { m: 6003 }, { m: 6006 }], schema: [{ name: "m", type: "Int64" }] });
    expect((page.body.stats as { name: string; nulls: number; min: number; max: number }[])[0]).toMatchObject({ name: "m", nulls: 0, min: 0, max: 7497 });
    expect((await call("GET", `/api/runs/${runId}/blocks/b/output?limit=0`)).status).toBe(400);
    expect((await call("GET", `/api/runs/${runId}/blocks/zzz/output`)).status).toBe(404);
    expect((await call("GET", `/api/runs/${runId}/blocks/a/logs`)).status).toBe(200);

    const one = await call("POST", "/api/pipelines/api_blocks/runs", { block: "b", mode: "block" });
    const oneEvents = await readEvents(String(one.body.run_id));
    expect(oneEvents.filter((e) => e.type === "block_state").every((e) => e.block === "b")).toBe(true);
    const history = await call("GET", "/api/runs?pipeline=api_blocks&limit=5");
    expect((history.body.runs as { id: string; mode: string }[]).map((r) => r.mode)).toEqual(["block", "pipeline"]);
    expect((await call("POST", `/api/runs/${runId}/cancel`)).status).toBe(409);
    expect((await call("GET", "/api/runs/no-such-run")).status).toBe(404);
    expect((await call("POST", "/api/pipelines/api_blocks/runs", { mode: "sideways" })).status).toBe(400);
  });
});
