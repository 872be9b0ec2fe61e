/**
 * An API-trigger token starts its pipeline; it does not steer it. Against a real `sluice start`: a call that
 * sets a variable the trigger does not list is refused (422, naming it), a listed one of the wrong type is
 * refused (422, naming the variable and the expected type), a listed one of the right type starts a run whose
 * recorded variables hold it. The `hello` example's `output_dir` (where its export writes) is the variable a
 * caller must not reach.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startSluice, type StartedServer } from "../../e2e/server";
import { REPO_ROOT } from "../taxi-data";

jest.setTimeout(300_000);

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

describe("API trigger variables are an allow-list (real server)", () => {
  let projectDir: string;
  let server: StartedServer;
  let token: string;
  const endpoint = () => `${server.url}/api/triggers/hello.hook/runs`;
  const fire = (variables: Record<string, unknown>) =>
    fetch(endpoint(), { method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: JSON.stringify({ variables }) });

  beforeAll(async () => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-trigger-vars-"));
    fs.cpSync(path.join(REPO_ROOT, "pipelines", "hello"), path.join(projectDir, "pipelines", "hello"), { recursive: true });
    fs.writeFileSync(path.join(projectDir, "pipelines", "hello", "triggers.yaml"), "version: 1\ntriggers:\n  - name: hook\n    type: api\n    variables_allowed: [rows]\n");
    server = await startSluice(projectDir);
    const issued = await fetch(`${server.url}/api/pipelines/hello/triggers/hook/token`, { method: "POST", headers: { "Content-Type": "application/json", Origin: server.url }, body: "{}" });
    expect(issued.status).toBe(201);
    token = ((await issued.json()) as { token: string }).token;
  }, 300_000);

  afterAll(async () => {
    await server?.stop();
    if (projectDir) fs.rmSync(projectDir, { recursive: true, force: true });
  });

  it("shows the allow-list on the trigger", async () => {
    const listed = (await (await fetch(`${server.url}/api/pipelines/hello/triggers/hook`)).json()) as { trigger: { variables_allowed: string[]; example_variables: Record<string, unknown> } };
    expect(listed.trigger.variables_allowed).toEqual(["rows"]);
    expect(listed.trigger.example_variables).toEqual({ rows: 1000 });
  });

  it("refuses an unlisted variable with 422 naming it, and starts no run", async () => {
    const before = ((await (await fetch(`${server.url}/api/runs?pipeline=hello`)).json()) as { runs: unknown[] }).runs.length;
    const refused = await fire({ rows: 10, output_dir: "/tmp/anywhere" });
    expect(refused.status).toBe(422);
    const body = (await refused.json()) as ErrorBody;
    expect(body.error.code).toBe("variable_not_allowed");
    expect(body.error.message).toContain('"output_dir"');
    expect(body.error.details).toMatchObject({ variable: "output_dir", allowed: ["rows"] });
    const after = ((await (await fetch(`${server.url}/api/runs?pipeline=hello`)).json()) as { runs: unknown[] }).runs.length;
    expect(after).toBe(before);
  });

  it("refuses a listed variable of the wrong type with 422 naming the variable and the expected type", async () => {
    const refused = await fire({ rows: "10" });
    expect(refused.status).toBe(422);
    const body = (await refused.json()) as ErrorBody;
    expect(body.error.code).toBe("invalid_variable_type");
    expect(body.error.message).toBe('variable "rows" must be a number, got string');
    expect(body.error.details).toMatchObject({ variable: "rows", expected: "number", got: "string" });
  });

  it("accepts a listed variable of the right type: the run records it", async () => {
    const accepted = await fire({ rows: 25 });
    expect(accepted.status).toBe(201);
    const { run_id: runId } = (await accepted.json()) as { run_id: string };
    const run = (await (await fetch(`${server.url}/api/runs/${runId}`)).json()) as { run: { trigger: string } };
    expect(run.run.trigger).toBe("api");
    // The run page shows the run's recorded variables (the JSON API of a run does not carry them).
    const page = await (await fetch(`${server.url}/runs/${runId}`)).text();
    expect(page).toMatch(/rows(&quot;|\\?"):\s*25\b/);
    expect(page).toMatch(/output_dir(&quot;|\\?"):\s*(&quot;|\\?")\.sluice\/lake\/hello/);
  });
});
