/**
 * @jest-environment jsdom
 *
 * Creating a cron trigger: the schedule in words and its next runs as the user types, a bad cron shown under
 * its field, bad variables JSON caught before anything is sent, and the triggers.yaml payload the form posts.
 */
import { cleanup, render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Cron } from "croner";
import cronstrue from "cronstrue";
import type { TriggerJson } from "@/lib/server/api/triggers-service";
import { serveApi, TEST_CSRF_TOKEN, type ApiHandler, type ApiRequest, type FakeApi } from "@/test/api-fetch";
import { TriggerForm } from "./TriggerForm";
import { messageOf } from "@/lib/core/errors";

const PIPELINE = "green_taxi_etl";

/**
 * GET …/triggers/:id/preview as the triggers API answers it: the cron in words (cronstrue) with its zone and
 * the next runs (croner), or 422 with the error on the `schedule` field.
 */
function schedulePreview(request: ApiRequest) {
  const query = new URL(request.path, "http://sluice.test").searchParams;
  const cron = query.get("cron") ?? "";
  const timezone = query.get("timezone") ?? "UTC";
  try {
    const description = `${cronstrue.toString(cron, { use24HourTimeFormat: true, verbose: false })} (${timezone})`;
    const next = new Cron(cron, { timezone }).nextRuns(5).map((at) => ({ at: at.toISOString(), local: at.toLocaleString("en-GB", { timeZone: timezone }) }));
    return { status: 200, body: { description, timezone, next } };
  } catch (error) {
    const message = `schedule: ${messageOf(error)}`;
    return { status: 422, body: { error: { code: "invalid_cron", message, details: { errors: [{ field: "schedule", code: "invalid_cron", message }] } } } };
  }
}

function savedTrigger(body: unknown): TriggerJson {
  const fields = typeof body === "object" && body !== null ? body : {};
  const value = (key: string): string | null => {
    const found: unknown = Object.entries(fields).find(([name]) => name === key)?.[1];
    return typeof found === "string" ? found : null;
  };
  return {
    name: value("name") ?? "",
    type: "schedule",
    description: "",
    enabled: true,
    schedule: value("schedule"),
    interval: null,
    timezone: value("timezone"),
    start_date: null,
    end_date: null,
    missed_run_policy: null,
    variables: {},
    variables_allowed: null,
    example_variables: null,
    max_active_runs: null,
    on_max_active: "wait",
    run_timeout: null,
    describe: "At 02:30, Monday through Friday (Europe/Paris)",
    next_run: null,
    last_run: null,
    public_id: "green_taxi_etl.nightly_paris",
    url_path: null,
    has_token: null,
  };
}

const triggersApi: ApiHandler = (request) => {
  if (request.method === "GET" && request.path.startsWith(`/api/pipelines/${PIPELINE}/triggers/new/preview?`)) return schedulePreview(request);
  if (request.method === "POST" && request.path === `/api/pipelines/${PIPELINE}/triggers`) return { status: 201, body: { trigger: savedTrigger(request.body) } };
  return undefined;
};

let api: FakeApi;
beforeEach(() => {
  api = serveApi(triggersApi);
});
afterEach(() => {
  cleanup();
  api.restore();
});

const posts = () => api.requests.filter((r) => r.method === "POST");

async function typeInto(label: string, text: string): Promise<void> {
  const input = screen.getByLabelText(label);
  await userEvent.clear(input);
  if (text) await userEvent.type(input, text);
}

it("describes the cron in words in its time zone, with the next runs, as the user types", async () => {
  render(<TriggerForm pipeline={PIPELINE} editing={null} onSaved={() => undefined} onCancel={() => undefined} />);
  // The default schedule is previewed at once.
  await waitFor(() => expect(screen.getByTestId("cron-description").textContent).toBe("At 03:00 (UTC)"));

  await typeInto("Cron", "30 2 * * 1-5");
  await typeInto("Time zone", "Europe/Paris");
  await waitFor(() => expect(screen.getByTestId("cron-description").textContent).toBe("At 02:30, Monday through Friday (Europe/Paris)"));
  expect(screen.getByText("Next runs in Europe/Paris:")).toBeTruthy();
  const next = screen.getByTestId("next-runs").querySelectorAll("li");
  expect(next).toHaveLength(5);
  for (const item of next) expect(item.textContent).toMatch(/02:30:00$/);
  // Typing is debounced: the preview is not asked for every keystroke.
  const previews = api.requests.filter((r) => r.path.includes("/preview?"));
  expect(previews.length).toBeLessThan("30 2 * * 1-5Europe/Paris".length);
  expect(new URL(previews[previews.length - 1]?.path ?? "", "http://sluice.test").searchParams.get("cron")).toBe("30 2 * * 1-5");
});

it("shows the server's complaint under the cron field and drops the stale description", async () => {
  render(<TriggerForm pipeline={PIPELINE} editing={null} onSaved={() => undefined} onCancel={() => undefined} />);
  await waitFor(() => expect(screen.queryByTestId("cron-description")).not.toBeNull());
  await typeInto("Cron", "61 * * * *");
  await waitFor(() => expect(screen.getByTestId("error-schedule").textContent).toMatch(/^schedule: .*minutes part must be >= 0 and <= 59$/));
  expect(screen.queryByTestId("cron-description")).toBeNull();
});

it("posts the trigger as triggers.yaml keys, defaults left out, and hands the saved trigger back", async () => {
  const saved: TriggerJson[] = [];
  render(<TriggerForm pipeline={PIPELINE} editing={null} onSaved={(trigger) => saved.push(trigger)} onCancel={() => undefined} />);
  await typeInto("Name", "nightly_paris");
  await typeInto("Cron", "30 2 * * 1-5");
  await typeInto("Time zone", "Europe/Paris");
  await userEvent.click(screen.getByRole("button", { name: "Create trigger" }));

  await waitFor(() => expect(saved).toHaveLength(1));
  expect(posts()).toHaveLength(1);
  expect(posts()[0]?.body).toEqual({ name: "nightly_paris", type: "schedule", enabled: true, schedule: "30 2 * * 1-5", timezone: "Europe/Paris" });
  expect(posts()[0]?.headers["x-csrf-token"]).toBe(TEST_CSRF_TOKEN);
  expect(saved[0]?.name).toBe("nightly_paris");
});

it("sends the run settings the user changed, and refuses variables that are not JSON before sending", async () => {
  const saved: TriggerJson[] = [];
  render(<TriggerForm pipeline={PIPELINE} editing={null} onSaved={(trigger) => saved.push(trigger)} onCancel={() => undefined} />);
  await typeInto("Name", "q4_backfill");
  await userEvent.selectOptions(screen.getByLabelText("Missed runs"), "all");
  await typeInto("Max active runs", "2");
  await typeInto("Run timeout", "2h");
  // userEvent reads "{" and "[" as key names: doubled, they type themselves.
  await typeInto("Variables (JSON)", "{{months: [[10]}");
  await userEvent.click(screen.getByRole("button", { name: "Create trigger" }));
  expect((await screen.findByTestId("error-variables")).textContent).toMatch(/^variables: not JSON/);
  expect(posts()).toHaveLength(0);

  await typeInto("Variables (JSON)", '{{"months": [[10, 11]}');
  await userEvent.click(screen.getByRole("button", { name: "Create trigger" }));
  await waitFor(() => expect(saved).toHaveLength(1));
  expect(posts()[0]?.body).toEqual({
    name: "q4_backfill",
    type: "schedule",
    enabled: true,
    schedule: "0 3 * * *",
    timezone: "UTC",
    missed_run_policy: "all",
    max_active_runs: 2,
    run_timeout: "2h",
    variables: { months: [10, 11] },
  });
});
