/**
 * @jest-environment jsdom
 *
 * Settings in the UI: the pipeline panel (description, typed variables, secrets never shown), the block panel
 * (settings as changes, connections from sluice.yaml, what a run would be refused for), the add-block dialog
 * (a unique name, attached below the selected or last block) and "Run with variables". The components, the
 * editor store and the API client run for real; only `fetch` answers like the server's routes.
 */
import { cleanup, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { PipelineDocument } from "@/lib/core/api-contract";
import { applyPipelineChanges, type PipelineChange } from "@/lib/core/pipeline-changes";
import { DEFAULT_RETRY_POLICY, type BlockSpec, type BlockType, type Pipeline, type Variables } from "@/lib/core/model";
import { serveApi, type ApiRequest, type FakeApi } from "@/test/api-fetch";
import { AddBlockMenu } from "./AddBlockMenu";
import { EditorProvider } from "./EditorProvider";
import { RunWithVariablesDialog } from "./RunWithVariablesDialog";
import { SettingsControls } from "./SettingsPanel";

function spec(name: string, type: BlockType, upstream: string[] = [], language: "ts" | "sql" = "ts"): BlockSpec {
  return { name, type, language, upstream, retries: DEFAULT_RETRY_POLICY, timeoutMs: null, connection: null, queue: null };
}

const PIPELINE: Pipeline = {
  version: 1,
  name: "taxi",
  description: "Green taxi trips",
  variables: { year: 2020, months: [10, 11], dry_run: false, api_key: "[secret:api_key]" },
  secretVariables: ["api_key"],
  blocks: [spec("load_trips", "loader"), spec("clean_trips", "transformer", ["load_trips"], "sql"), spec("report", "transformer", [], "sql")],
};

const DOC: PipelineDocument = {
  pipeline: PIPELINE,
  version: "v1",
  blocks: [
    { name: "load_trips", code: "export default async function load() { return []; }", version: "c1", exists: true },
    { name: "clean_trips", code: "SELECT * FROM load_trips", version: "c2", exists: true },
    { name: "report", code: "SELECT * FROM clean_trips", version: "c3", exists: true },
  ],
};

let api: FakeApi;
let current: Pipeline;

/** The server's pipeline routes, applying changes with the same pure function the server uses. */
function handle(request: ApiRequest) {
  if (request.method === "GET" && request.path === "/api/connections") {
    return { status: 200, body: { file: "/project/sluice.yaml", exists: true, connections: [{ name: "warehouse", kind: "postgres" }, { name: "lake", kind: "duckdb" }], problem: null, loaded_at: "", kinds: [] } };
  }
  if (request.method === "PUT" && request.path === "/api/pipelines/taxi") {
    const { changes } = request.body as { changes: PipelineChange[] };
    const result = applyPipelineChanges(current, changes);
    if (!result.ok) return { status: 422, body: { error: { code: result.error.code, message: result.error.message } } };
    current = result.pipeline;
    return { status: 200, body: { version: `v${api.requests.length}`, pipeline: current } };
  }
  if (request.method === "POST" && request.path === "/api/pipelines/taxi/blocks") {
    const body = request.body as { name: string; type: BlockType; language: "ts" | "sql"; upstream: string[] };
    return { status: 201, body: { pipeline_version: "v9", block_version: "b1", block: spec(body.name, body.type, body.upstream, body.language) } };
  }
  if (request.method === "POST" && request.path === "/api/pipelines/taxi/runs") return { status: 201, body: { run_id: "r1" } };
  return undefined;
}

const sentChanges = () => api.requests.filter((r) => r.method === "PUT").map((r) => (r.body as { changes: PipelineChange[] }).changes);

beforeEach(() => {
  current = PIPELINE;
  api = serveApi(handle);
});

afterEach(() => {
  cleanup();
  api.restore();
});

async function openSettings() {
  render(
    <EditorProvider doc={DOC}>
      <SettingsControls />
      <AddBlockMenu />
    </EditorProvider>,
  );
  await userEvent.click(screen.getByRole("button", { name: "Settings" }));
  return screen.getByRole("complementary", { name: "Settings" });
}

describe("pipeline settings panel", () => {
  it("shows each variable with an input of its type, and never the value of a secret", async () => {
    const panel = await openSettings();
    expect(within(panel).getByLabelText("Value of variable year")).toHaveProperty("type", "number");
    expect(within(panel).getByLabelText("Value of variable months")).toHaveProperty("value", "10, 11");
    expect(within(panel).getByLabelText("Value of variable dry_run")).toHaveProperty("type", "checkbox");
    const secret = within(panel).getByLabelText("Value of variable api_key");
    expect(secret).toHaveProperty("type", "password");
    expect(secret).toHaveProperty("value", "");
    expect(panel.innerHTML).not.toContain("[secret:api_key]");
    expect(within(panel).getByLabelText("Type of variable api_key")).toHaveProperty("value", "secret");
  });

  it("sends a description, a typed value, a rename, a removal and a new secret as changes", async () => {
    const panel = await openSettings();
    const description = within(panel).getByLabelText("Description");
    await userEvent.clear(description);
    await userEvent.type(description, "Trips into Postgres");
    await userEvent.tab();
    const year = within(panel).getByLabelText("Value of variable year");
    await userEvent.clear(year);
    await userEvent.type(year, "2021{Enter}");
    await userEvent.click(within(panel).getByLabelText("Value of variable dry_run"));
    const months = within(panel).getByLabelText("Name of variable months");
    await userEvent.clear(months);
    await userEvent.type(months, "taxi_months");
    await userEvent.tab();
    await userEvent.click(within(panel).getByRole("button", { name: "Remove variable dry_run" }));
    await userEvent.type(within(panel).getByLabelText("New variable name"), "token");
    await userEvent.selectOptions(within(panel).getByLabelText("New variable type"), "secret");
    await userEvent.type(within(panel).getByLabelText("New variable value"), "s3cr3t");
    await userEvent.click(within(panel).getByRole("button", { name: "Add variable" }));
    await waitFor(() => expect(sentChanges()).toHaveLength(6));
    expect(sentChanges()).toEqual([
      [{ type: "set_description", description: "Trips into Postgres" }],
      [{ type: "set_variable", name: "year", value: 2021 }],
      [{ type: "set_variable", name: "dry_run", value: true }],
      [{ type: "rename_variable", from: "months", to: "taxi_months" }],
      [{ type: "remove_variable", name: "dry_run" }],
      [{ type: "set_variable", name: "token", value: "s3cr3t", secret: true }],
    ]);
    expect(within(panel).getByLabelText("Value of variable token")).toHaveProperty("type", "password");
  });

  it("refuses a value that does not fit its type before anything is sent", async () => {
    const panel = await openSettings();
    await userEvent.type(within(panel).getByLabelText("New variable name"), "start");
    await userEvent.selectOptions(within(panel).getByLabelText("New variable type"), "number");
    await userEvent.click(within(panel).getByRole("button", { name: "Add variable" }));
    expect(within(panel).getByText('"" is not a number')).toBeTruthy();
    expect(sentChanges()).toEqual([]);
  });
});

describe("block settings panel", () => {
  it("lists what a run would be refused for, and the connections of sluice.yaml", async () => {
    const panel = await openSettings();
    const before = within(panel).getByRole("region", { name: "Before a run" });
    expect(before.textContent).toContain('block "report" is a transformer without an upstream');
    expect(before.textContent).toContain('SQL block "report" reads table "clean_trips", which is not one of its upstreams (it has no upstreams); add "clean_trips" as an upstream');
    const blocks = within(panel).getByRole("region", { name: "Block settings" });
    await waitFor(() => expect(within(blocks).getByLabelText("Connection").querySelectorAll("option")).toHaveLength(3));
    await userEvent.selectOptions(within(blocks).getByLabelText("Connection"), "warehouse");
    const timeout = within(blocks).getByLabelText("Timeout");
    await userEvent.type(timeout, "30m{Enter}");
    await userEvent.click(within(blocks).getByRole("checkbox", { name: "clean_trips" }));
    await waitFor(() => expect(sentChanges()).toHaveLength(3));
    expect(sentChanges()).toEqual([
      [{ type: "set_block_settings", block: "report", settings: { connection: "warehouse" } }],
      [{ type: "set_block_settings", block: "report", settings: { timeoutMs: 1_800_000 } }],
      [{ type: "add_upstream", block: "report", upstream: "clean_trips" }],
    ]);
    await waitFor(() => expect(within(panel).queryByRole("region", { name: "Before a run" })).toBeNull());
  });

  it("shows a bad duration under its field instead of sending it", async () => {
    const panel = await openSettings();
    const blocks = within(panel).getByRole("region", { name: "Block settings" });
    await userEvent.type(within(blocks).getByLabelText("Timeout"), "ten minutes{Enter}");
    expect(within(blocks).getByText(/ten minutes/)).toBeTruthy();
    expect(sentChanges()).toEqual([]);
  });
});

describe("add-block dialog", () => {
  it("names the block uniquely and attaches it below the last block", async () => {
    await openSettings();
    await userEvent.click(screen.getByRole("button", { name: "+ TypeScript transformer" }));
    const dialog = screen.getByRole("dialog", { name: "Add TypeScript transformer" });
    expect(within(dialog).getByLabelText("Name")).toHaveProperty("value", "transform");
    expect(within(dialog).getByLabelText("Reads from (upstream)")).toHaveProperty("value", "report");
    await userEvent.clear(within(dialog).getByLabelText("Name"));
    await userEvent.type(within(dialog).getByLabelText("Name"), "fare_stats");
    await userEvent.click(within(dialog).getByRole("button", { name: "Add block" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    const post = api.requests.find((r) => r.method === "POST" && r.path.endsWith("/blocks"));
    expect(post?.body).toMatchObject({ name: "fare_stats", type: "transformer", language: "ts", upstream: ["report"] });
    expect((post?.body as { code: string }).code).toContain("report, also ctx.inputs.report");
  });

  it("refuses a transformer without an upstream and a taken name; a loader starts a branch", async () => {
    await openSettings();
    await userEvent.click(screen.getByRole("button", { name: "+ SQL transformer" }));
    let dialog = screen.getByRole("dialog");
    await userEvent.selectOptions(within(dialog).getByLabelText("Reads from (upstream)"), "");
    await userEvent.click(within(dialog).getByRole("button", { name: "Add block" }));
    expect(within(dialog).getByRole("alert").textContent).toBe("a transformer reads its upstream's output: choose the block it reads from");
    await userEvent.clear(within(dialog).getByLabelText("Name"));
    await userEvent.type(within(dialog).getByLabelText("Name"), "report");
    await userEvent.selectOptions(within(dialog).getByLabelText("Reads from (upstream)"), "load_trips");
    await userEvent.click(within(dialog).getByRole("button", { name: "Add block" }));
    expect(within(dialog).getByRole("alert").textContent).toBe('there is already a block named "report"');
    await userEvent.click(within(dialog).getByRole("button", { name: "Cancel" }));
    await userEvent.click(screen.getByRole("button", { name: "+ TypeScript loader" }));
    dialog = screen.getByRole("dialog");
    expect(within(dialog).getByLabelText("Reads from (upstream)")).toHaveProperty("value", "");
    expect(api.requests.filter((r) => r.method === "POST")).toEqual([]);
  });

  it("opens the connector templates from a real button", async () => {
    await openSettings();
    const button = screen.getByRole("button", { name: "+ Connector template…" });
    expect(button.getAttribute("aria-expanded")).toBe("false");
    await userEvent.click(button);
    expect(button.getAttribute("aria-expanded")).toBe("true");
    expect(screen.getByRole("menu", { name: "Connector templates" })).toBeTruthy();
  });
});

describe("run with variables", () => {
  // The dialog alone: the store's run then follows the run's event stream, which jsdom cannot open.
  it("is prefilled with the pipeline's variables and gives the run the ones changed (a secret only when typed)", async () => {
    const runs: Variables[] = [];
    const closed: boolean[] = [];
    const dialogFor = () => (
      <RunWithVariablesDialog title="Run taxi with variables" variables={PIPELINE.variables} secrets={["api_key"]} onRun={(v) => void runs.push(v)} onClose={() => closed.push(true)} />
    );
    render(dialogFor());
    const dialog = screen.getByRole("dialog", { name: "Run taxi with variables" });
    expect(within(dialog).getByLabelText(/^year/)).toHaveProperty("value", "2020");
    expect(within(dialog).getByLabelText(/^months/)).toHaveProperty("value", "10, 11");
    expect(within(dialog).getByLabelText(/^api_key/)).toHaveProperty("value", "");
    await userEvent.clear(within(dialog).getByLabelText(/^year/));
    await userEvent.type(within(dialog).getByLabelText(/^year/), "2021");
    await userEvent.click(within(dialog).getByRole("button", { name: "Run" }));
    await userEvent.type(within(dialog).getByLabelText(/^api_key/), "other-key");
    await userEvent.clear(within(dialog).getByLabelText(/^year/));
    await userEvent.type(within(dialog).getByLabelText(/^year/), "soon");
    await userEvent.click(within(dialog).getByRole("button", { name: "Run" }));
    expect(runs).toEqual([{ year: 2021 }]);
    expect(closed).toEqual([true]);
    expect(within(dialog).getByRole("alert").textContent).toMatch(/^year: /);
  });
});
