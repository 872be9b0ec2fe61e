/**
 * @jest-environment jsdom
 *
 * The triggers list: times carry the trigger's zone, and a trigger can run now with variables from a dialog
 * prefilled with the pipeline's defaults under the trigger's own values. Only `fetch` is replaced.
 */
import { cleanup, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { TriggerJson } from "@/lib/core/api-contract";
import { serveApi, type FakeApi } from "@/test/api-fetch";
import { TriggersPage } from "./TriggersPage";

const TRIGGER: TriggerJson = {
  name: "nightly",
  type: "schedule",
  description: "",
  enabled: true,
  schedule: "0 5 * * *",
  interval: null,
  timezone: "America/New_York",
  start_date: null,
  end_date: null,
  missed_run_policy: null,
  variables: { month: 11 },
  variables_allowed: null,
  example_variables: null,
  max_active_runs: null,
  on_max_active: "skip",
  run_timeout: null,
  describe: "At 05:00 (America/New_York)",
  next_run: "2026-12-04T10:00:00.000Z",
  last_run: { id: "r0", state: "success", created_at: "2026-12-03T10:00:00.000Z" },
  public_id: "taxi.nightly",
  url_path: null,
  has_token: null,
};

let api: FakeApi;

beforeEach(() => {
  api = serveApi((request) => {
    if (request.method === "GET" && request.path === "/api/pipelines/taxi/triggers") return { status: 200, body: { triggers: [TRIGGER] } };
    if (request.method === "GET" && request.path.startsWith("/api/pipelines/taxi/backfills")) return { status: 200, body: { backfills: [] } };
    if (request.method === "GET" && request.path === "/api/pipelines/taxi") {
      return { status: 200, body: { version: "v1", blocks: [], pipeline: { version: 1, name: "taxi", description: "", variables: { year: 2020, month: 10 }, blocks: [] } } };
    }
    if (request.method === "POST" && request.path === "/api/pipelines/taxi/triggers/nightly/run") return { status: 201, body: { run_id: "r1" } };
    return undefined;
  });
});

afterEach(() => {
  cleanup();
  api.restore();
});

describe("triggers page", () => {
  it("writes the next and last run in the trigger's zone, with the zone", async () => {
    render(<TriggersPage pipeline="taxi" />);
    const row = await screen.findByTestId("trigger-row-nightly");
    expect(row.textContent).toContain("2026-12-04 05:00:00 EST");
    expect(row.textContent).toContain("2026-12-03 05:00:00 EST");
  });

  it("runs a trigger now with the variables set in the dialog", async () => {
    render(<TriggersPage pipeline="taxi" />);
    const row = await screen.findByTestId("trigger-row-nightly");
    await userEvent.click(within(row).getByRole("button", { name: "Run with variables…" }));
    const dialog = await screen.findByRole("dialog", { name: "Run nightly now with variables" });
    expect(within(dialog).getByLabelText(/^month/)).toHaveProperty("value", "11");
    const year = within(dialog).getByLabelText(/^year/);
    await userEvent.clear(year);
    await userEvent.type(year, "2021");
    await userEvent.click(within(dialog).getByRole("button", { name: "Run" }));
    await screen.findByTestId("run-started");
    const post = api.requests.find((r) => r.method === "POST");
    expect(post?.body).toEqual({ variables: { year: 2021 } });
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
  });
});
