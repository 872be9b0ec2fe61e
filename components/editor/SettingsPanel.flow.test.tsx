/**
 * @jest-environment jsdom
 *
 * The block panel's control-flow settings: trigger rule (Airflow's full set), conditions (chosen among the
 * pipeline's condition blocks), the `condition` type, dynamic / dynamic key, reduce and a sensor's mode. Each edit must reach
 * the server as the `set_block_settings` change the YAML editor writes; the store, the API client and the
 * change function run for real, only `fetch` answers like the server's routes.
 */
import { cleanup, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { PipelineDocument } from "@/lib/core/api-contract";
import { applyPipelineChanges, type PipelineChange } from "@/lib/core/pipeline-changes";
import { DEFAULT_RETRY_POLICY, type BlockSpec, type BlockType, type Pipeline } from "@/lib/core/model";
import { TRIGGER_RULES } from "@/lib/core/trigger-rules";
import { serveApi, type ApiRequest, type FakeApi } from "@/test/api-fetch";
import { EditorProvider } from "./EditorProvider";
import { SettingsControls } from "./SettingsPanel";

function spec(name: string, type: BlockType, upstream: string[] = [], extra: Partial<BlockSpec> = {}): BlockSpec {
  return { name, type, language: "ts", upstream, retries: DEFAULT_RETRY_POLICY, timeoutMs: null, connection: null, queue: null, ...extra };
}

const PIPELINE: Pipeline = {
  version: 1,
  name: "taxi",
  description: "",
  variables: {},
  blocks: [
    spec("months", "loader", [], { dynamic: true }),
    spec("download", "transformer", ["months"]),
    spec("is_weekday", "condition"),
    spec("is_holiday", "condition"),
    spec("report", "exporter", ["download"], { conditions: ["is_weekday"] }),
    spec("calendar", "loader"),
    spec("wait_for_file", "sensor"),
  ],
};

function docOf(pipeline: Pipeline): PipelineDocument {
  return {
    pipeline,
    version: "v1",
    blocks: pipeline.blocks.map((b, i) => ({ name: b.name, code: "export default async function run() { return []; }", version: `c${i}`, exists: true })),
  };
}

let api: FakeApi;
let current: Pipeline;

function handle(request: ApiRequest) {
  if (request.method === "GET" && request.path === "/api/connections") {
    return { status: 200, body: { file: "/project/sluice.yaml", exists: true, connections: [], problem: null, loaded_at: "", kinds: [] } };
  }
  if (request.method === "PUT" && request.path === "/api/pipelines/taxi") {
    const { changes } = request.body as { changes: PipelineChange[] };
    const result = applyPipelineChanges(current, changes);
    if (!result.ok) return { status: 422, body: { error: { code: result.error.code, message: result.error.message } } };
    current = result.pipeline;
    return { status: 200, body: { version: `v${api.requests.length}`, pipeline: current } };
  }
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

/** Opens the settings panel with `block` focused and returns its "Block settings" region. */
async function blockPanel(block: string, pipeline = PIPELINE) {
  current = pipeline;
  render(
    <EditorProvider doc={docOf(pipeline)}>
      <SettingsControls />
    </EditorProvider>,
  );
  await userEvent.click(screen.getByRole("button", { name: "Settings" }));
  const region = screen.getByRole("region", { name: "Block settings" });
  await userEvent.selectOptions(within(region).getByLabelText("Block"), block);
  return region;
}

describe("control-flow settings of a block", () => {
  it("offers every trigger rule and the condition type, and sends the choice as a change", async () => {
    const region = await blockPanel("download");
    const rule = within(region).getByLabelText("Trigger rule") as HTMLSelectElement;
    expect([...rule.options].map((o) => o.value)).toEqual(["", ...TRIGGER_RULES]);
    expect(TRIGGER_RULES).toEqual(expect.arrayContaining(["all_success", "all_done", "all_failed", "one_success", "one_failed", "none_failed", "none_failed_min_one_success", "none_skipped", "always"]));
    await userEvent.selectOptions(rule, "all_done");
    await waitFor(() => expect(current.blocks[1].triggerRule).toBe("all_done"));
    expect((within(region).getByLabelText("Trigger rule") as HTMLSelectElement).value).toBe("all_done");
    await userEvent.selectOptions(within(region).getByLabelText("Trigger rule"), "");
    await waitFor(() => expect(sentChanges()).toHaveLength(2));
    await userEvent.selectOptions(within(region).getByLabelText("Block"), "calendar");
    await userEvent.selectOptions(within(region).getByLabelText("Type"), "condition");
    await waitFor(() => expect(sentChanges()).toHaveLength(3));
    expect(current.blocks.find((b) => b.name === "calendar")?.type).toBe("condition");
    expect(sentChanges()).toEqual([
      [{ type: "set_block_settings", block: "download", settings: { triggerRule: "all_done" } }],
      [{ type: "set_block_settings", block: "download", settings: { triggerRule: null } }],
      [{ type: "set_block_type", block: "calendar", blockType: "condition" }],
    ]);
  });

  it("lists the condition blocks as choices, keeps a stray name visible to untick, and clears to none", async () => {
    // A file edited by hand can name a block that is gone: the panel must let the user untick it.
    const stray = { ...PIPELINE, blocks: PIPELINE.blocks.map((b) => (b.name === "report" ? { ...b, conditions: ["is_weekday", "gone"] } : b)) };
    const region = await blockPanel("report", stray);
    const conditions = () => within(region).getByRole("group", { name: "Conditions" });
    expect(within(conditions()).getByRole("checkbox", { name: "is_weekday" })).toHaveProperty("checked", true);
    expect(within(conditions()).getByRole("checkbox", { name: "is_holiday" })).toHaveProperty("checked", false);
    // Only condition blocks are offered; a listed name that is not one stays, marked.
    expect(within(conditions()).queryByRole("checkbox", { name: "months" })).toBeNull();
    expect(within(conditions()).getByRole("checkbox", { name: /gone/ }).closest("label")?.textContent).toContain("not a condition block");
    await userEvent.click(within(conditions()).getByRole("checkbox", { name: /gone/ }));
    await waitFor(() => expect(sentChanges()).toHaveLength(1));
    await waitFor(() => expect(within(conditions()).queryByRole("checkbox", { name: /gone/ })).toBeNull());
    await userEvent.click(within(conditions()).getByRole("checkbox", { name: "is_holiday" }));
    await waitFor(() => expect(sentChanges()).toHaveLength(2));
    await userEvent.click(within(conditions()).getByRole("checkbox", { name: "is_weekday" }));
    await waitFor(() => expect(sentChanges()).toHaveLength(3));
    await userEvent.click(within(conditions()).getByRole("checkbox", { name: "is_holiday" }));
    await waitFor(() => expect(sentChanges()).toHaveLength(4));
    expect(sentChanges()).toEqual([
      [{ type: "set_block_settings", block: "report", settings: { conditions: ["is_weekday"] } }],
      [{ type: "set_block_settings", block: "report", settings: { conditions: ["is_weekday", "is_holiday"] } }],
      [{ type: "set_block_settings", block: "report", settings: { conditions: ["is_holiday"] } }],
      [{ type: "set_block_settings", block: "report", settings: { conditions: null } }],
    ]);
    expect(current.blocks[4].conditions).toBeUndefined();
  });

  it("edits dynamic and its key on the fan-out block, and offers reduce only below a dynamic block", async () => {
    const region = await blockPanel("months");
    expect(within(region).getByLabelText("Dynamic")).toHaveProperty("checked", true);
    expect(within(region).queryByLabelText("Reduce")).toBeNull();
    await userEvent.type(within(region).getByLabelText("Dynamic key"), "month{Enter}");
    await waitFor(() => expect(sentChanges()).toHaveLength(1));
    await userEvent.click(within(region).getByLabelText("Dynamic"));
    await waitFor(() => expect(sentChanges()).toHaveLength(2));
    // Unticking dynamic clears its key in the same change (a key without dynamic is refused); the field goes.
    await waitFor(() => expect(within(region).queryByLabelText("Dynamic key")).toBeNull());
    expect(sentChanges()).toEqual([
      [{ type: "set_block_settings", block: "months", settings: { dynamicKey: "month" } }],
      [{ type: "set_block_settings", block: "months", settings: { dynamic: null, dynamicKey: null } }],
    ]);
  });

  it("sets a sensor's mode to reschedule, a field only sensors have", async () => {
    const region = await blockPanel("wait_for_file");
    const mode = within(region).getByLabelText("Sensor mode") as HTMLSelectElement;
    expect([...mode.options].map((o) => o.value)).toEqual(["", "poke", "reschedule"]);
    await userEvent.selectOptions(mode, "reschedule");
    await waitFor(() => expect(current.blocks.find((b) => b.name === "wait_for_file")?.mode).toBe("reschedule"));
    expect(sentChanges()).toEqual([[{ type: "set_block_settings", block: "wait_for_file", settings: { mode: "reschedule" } }]]);
    await userEvent.selectOptions(within(region).getByLabelText("Block"), "calendar");
    expect(within(region).queryByLabelText("Sensor mode")).toBeNull();
  });

  it("sets reduce on a direct downstream of a dynamic block", async () => {
    const region = await blockPanel("download");
    await userEvent.click(within(region).getByLabelText("Reduce"));
    await waitFor(() => expect(current.blocks[1].reduce).toBe(true));
    expect(sentChanges()).toEqual([[{ type: "set_block_settings", block: "download", settings: { reduce: true } }]]);
    expect(within(region).getByLabelText("Reduce")).toHaveProperty("checked", true);
  });
});
