/**
 * @jest-environment jsdom
 *
 * The run page of a failed green_taxi_etl run: what each block state says, which blocks "Retry failed blocks"
 * re-runs, retry from a block, "Run again", logs per attempt, and cancel while the run is live.
 */
import { cleanup, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { AppRouterContext, type AppRouterInstance } from "next/dist/shared/lib/app-router-context.shared-runtime";
import type { BlockView, RunView } from "@/lib/server/api/runs-history-service";
import { serveApi, TEST_CSRF_TOKEN, type ApiHandler, type FakeApi } from "@/test/api-fetch";
import { RunDetail } from "./RunDetail";

const RUN = "run_20201001_0000_a1b2c3";
const NEW_RUN = "run_20201001_0000_d4e5f6";
const NOW_MS = Date.parse("2026-01-05T12:00:00.000Z");

/**
 * What the page asks of Next's router: it records navigations instead of making them. Methods are arrow
 * functions because `useRouter` hands them out detached from the object.
 */
function recordingRouter() {
  const record: { pushed: string[]; refreshes: number } = { pushed: [], refreshes: 0 };
  const router: AppRouterInstance = {
    bfcacheId: "_b_0_",
    back: () => undefined,
    forward: () => undefined,
    refresh: () => {
      record.refreshes++;
    },
    push: (href) => {
      record.pushed.push(href);
    },
    replace: (href) => {
      record.pushed.push(href);
    },
    prefetch: () => undefined,
  };
  return { router, record };
}

function block(name: string, state: string, extra: Partial<BlockView> = {}): BlockView {
  return { block: name, state, attempt: 0, started_at: null, ended_at: null, duration_ms: null, rows: null, error: null, pokes: 0, last_poke_at: null, has_output: false, writes: null, tests: null, attempts: [], ...extra };
}

/** GET /api/runs/:id as `runDetail` builds it, for a run whose cleaning step failed twice. */
function failedRun(): RunView {
  return {
    run: {
      id: RUN,
      pipeline: "green_taxi_etl",
      state: "failed",
      trigger: "schedule",
      trigger_id: "nightly",
      logical_date: "2020-10-01T00:00:00.000Z",
      created_at: "2026-01-05T11:59:00.000Z",
      started_at: "2026-01-05T11:59:00.100Z",
      ended_at: "2026-01-05T11:59:12.100Z",
      error: "block clean_trips failed",
      mode: "pipeline",
      block: null,
      variables: { year: 2020, months: [10] },
      data_interval: { start: "2020-10-01T00:00:00.000Z", end: "2020-10-02T00:00:00.000Z" },
      active: false,
    },
    blocks: [
      block("load_green_taxi", "success", {
        attempt: 1,
        started_at: "2026-01-05T11:59:00.200Z",
        ended_at: "2026-01-05T11:59:04.900Z",
        duration_ms: 4700,
        rows: 95120,
        attempts: [{ attempt: 1, state: "success", started_at: "2026-01-05T11:59:00.200Z", ended_at: "2026-01-05T11:59:04.900Z", error: null, log: [{ at: "2026-01-05T11:59:01.000Z", level: "info", message: "downloaded green_tripdata_2020-10.csv.gz" }] }],
      }),
      block("clean_trips", "failed", {
        attempt: 2,
        started_at: "2026-01-05T11:59:05.000Z",
        ended_at: "2026-01-05T11:59:12.000Z",
        duration_ms: 7000,
        error: 'Binder Error: Referenced column "PULocationId" not found in FROM clause (clean_trips.sql, line 9)',
        attempts: [
          { attempt: 1, state: "failed", started_at: "2026-01-05T11:59:05.000Z", ended_at: "2026-01-05T11:59:06.000Z", error: "operational: DuckDB out of memory", log: [{ at: "2026-01-05T11:59:05.500Z", level: "warn", message: "spilling to disk" }] },
          { attempt: 2, state: "failed", started_at: "2026-01-05T11:59:11.000Z", ended_at: "2026-01-05T11:59:12.000Z", error: "Binder Error: column not found", log: [{ at: "2026-01-05T11:59:11.500Z", level: "info", message: "reading load_green_taxi" }] },
        ],
      }),
      block("export_lake", "upstream_failed"),
      block("to_postgres", "skipped"),
      block("to_gcs", "cancelled"),
      block("to_bigquery", "upstream_failed"),
    ],
  };
}

let api: FakeApi;
let router: ReturnType<typeof recordingRouter>["record"];

function serve(handler: ApiHandler): void {
  api = serveApi(handler);
}

function renderRun(view: RunView) {
  const recording = recordingRouter();
  router = recording.record;
  return render(
    <AppRouterContext.Provider value={recording.router}>
      <RunDetail view={view} nowMs={NOW_MS} />
    </AppRouterContext.Provider>,
  );
}

const answerRetry: ApiHandler = (request) => {
  if (request.method === "POST" && request.path === `/api/runs/${RUN}/retry`) return { status: 202, body: { run_id: RUN } };
  if (request.method === "POST" && request.path === `/api/runs/${RUN}/rerun`) return { status: 201, body: { run_id: NEW_RUN } };
  return undefined;
};

afterEach(() => {
  cleanup();
  api?.restore();
});

function rowOf(name: string): HTMLElement {
  return screen.getByTestId(`block-run-${name}`);
}

it("tells a skipped block (not a failure) apart from one whose upstream failed", () => {
  serve(answerRetry);
  renderRun(failedRun());
  expect(within(rowOf("to_postgres")).getByTestId("block-state").textContent).toBe("skipped");
  expect(rowOf("to_postgres").textContent).toContain("not a failure");
  expect(rowOf("export_lake").textContent).toContain("did not run because an upstream failed");
  expect(rowOf("export_lake").textContent).not.toContain("not a failure");
  expect(rowOf("clean_trips").textContent).toContain("clean_trips.sql, line 9");
  expect(rowOf("load_green_taxi").textContent).toContain("95120");
  expect(screen.getByRole("alert").textContent).toBe("block clean_trips failed");
});

it("retries the failed, upstream_failed and cancelled blocks inside the same run, never the skipped one", async () => {
  serve(answerRetry);
  renderRun(failedRun());
  const retry = screen.getByTestId("retry-failed");
  expect(retry.textContent).toBe("Retry failed blocks (clean_trips, export_lake, to_gcs, to_bigquery)");

  await userEvent.click(retry);
  expect(api.requests).toEqual([{ method: "POST", path: `/api/runs/${RUN}/retry`, body: {}, headers: expect.objectContaining({ "content-type": "application/json", "x-csrf-token": TEST_CSRF_TOKEN }) }]);
  // The run keeps its id: the page reloads its data instead of navigating.
  await waitFor(() => expect(router.refreshes).toBe(1));
  expect(router.pushed).toEqual([]);
});

it("retries from the block chosen in the list", async () => {
  serve(answerRetry);
  renderRun(failedRun());
  await userEvent.selectOptions(screen.getByLabelText("Retry from block"), "clean_trips");
  await userEvent.click(screen.getByRole("button", { name: "Retry from this block" }));
  expect(api.requests.map((r) => r.body)).toEqual([{ from_block: "clean_trips" }]);
});

it("opens the new run after Run again, and shows the server's refusal when there is one", async () => {
  serve(answerRetry);
  renderRun(failedRun());
  await userEvent.click(screen.getByTestId("run-again"));
  expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`POST /api/runs/${RUN}/rerun`]);
  await waitFor(() => expect(router.pushed).toEqual([`/runs/${NEW_RUN}`]));
  cleanup();
  api.restore();

  serve((request) => (request.path.endsWith("/rerun") ? { status: 409, body: { error: { code: "max_active_runs", message: "green_taxi_etl already has 1 active run (max_active_runs: 1)" } } } : undefined));
  renderRun(failedRun());
  await userEvent.click(screen.getByTestId("run-again"));
  await waitFor(() => expect(screen.getAllByRole("alert").map((a) => a.textContent)).toContain("green_taxi_etl already has 1 active run (max_active_runs: 1)"));
  expect(router.pushed).toEqual([]);
});

it("shows the failed block's latest attempt's log first, and an earlier attempt on demand", async () => {
  serve(answerRetry);
  renderRun(failedRun());
  const log = () => screen.getByTestId("block-log").textContent ?? "";
  expect(log()).toContain("reading load_green_taxi");
  expect(log()).not.toContain("spilling to disk");
  await userEvent.click(screen.getByRole("button", { name: "attempt 1 · failed" }));
  expect(log()).toContain("spilling to disk");
  expect(log()).toContain("operational: DuckDB out of memory");
});

it("offers only Cancel while the run is live, and asks the server to cancel it", async () => {
  serve((request) => (request.method === "POST" && request.path === `/api/runs/${RUN}/cancel` ? { status: 202, body: { cancelled: true } } : undefined));
  const view = failedRun();
  view.run = { ...view.run, state: "running", ended_at: null, error: null, active: true };
  renderRun(view);
  expect(screen.queryByTestId("retry-failed")).toBeNull();
  expect(screen.queryByTestId("run-again")).toBeNull();
  await userEvent.click(screen.getByRole("button", { name: "Cancel run" }));
  expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`POST /api/runs/${RUN}/cancel`]);
});

/** jsdom lays nothing out and has no ResizeObserver (the preview's row window asks for one): a browser's that never fires. */
class StillResizeObserver {
  observe(): void {}
  disconnect(): void {}
}

/** One page of load_green_taxi's output as GET /api/runs/:id/blocks/:b/output answers it. */
const OUTPUT_PAGE = {
  schema: [
    { name: "VendorID", type: "Int32" },
    { name: "fare_amount", type: "Float64" },
  ],
  total_rows: 2,
  offset: 0,
  rows: [
    { VendorID: 2, fare_amount: 12.5 },
    { VendorID: 1, fare_amount: 7 },
  ],
  stats: [
    { name: "VendorID", type: "Int32", nulls: 0, min: 1, max: 2, distinct: 2 },
    { name: "fare_amount", type: "Float64", nulls: 0, min: 7, max: 12.5, distinct: 2 },
  ],
  bytes: 1024,
};

it("previews the output of the block clicked in the list, and says what an exporter wrote and its tests", async () => {
  Object.defineProperty(window, "ResizeObserver", { value: StillResizeObserver, configurable: true });
  serve((request) => (request.method === "GET" && request.path.startsWith(`/api/runs/${RUN}/blocks/load_green_taxi/output`) ? { status: 200, body: OUTPUT_PAGE } : undefined));
  const view = failedRun();
  const [loaded] = view.blocks;
  if (!loaded) throw new Error("the fixture has blocks");
  view.blocks[0] = { ...loaded, has_output: true, tests: { passed: 3, failed: null } };
  view.blocks[2] = {
    ...block("export_lake", "success", { attempt: 1 }),
    writes: [{ connector: "files", location: "lake/green/2020-10.parquet", rows: 95120, bytes: 2_411_724 }],
  };
  renderRun(view);
  // The failed block is shown first: it has no table to preview.
  expect(screen.getByTestId("result-clean_trips").textContent).toContain("No output: the block run is failed.");
  expect(api.requests).toEqual([]);

  await userEvent.click(within(rowOf("load_green_taxi")).getByRole("button", { name: "load_green_taxi" }));
  await waitFor(() => expect(screen.getByTestId("total-rows-load_green_taxi").textContent).toBe("2 rows"));
  expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`GET /api/runs/${RUN}/blocks/load_green_taxi/output?offset=0&limit=100`]);
  expect(screen.getByTestId("run-tests-load_green_taxi").textContent).toBe("3 tests passed");
  expect(rowOf("load_green_taxi").textContent).toContain("3 tests passed");

  await userEvent.click(within(rowOf("export_lake")).getByRole("button", { name: "export_lake" }));
  expect(screen.getByTestId("result-export_lake").textContent).toContain("wrote 95,120 rows (2.3 MiB) to files lake/green/2020-10.parquet");
  expect(screen.queryByTestId("preview-export_lake")).toBeNull();
  expect(rowOf("export_lake").textContent).toContain("wrote 95,120 rows");
  // No request for an output the exporter does not have.
  expect(api.requests.filter((r) => r.path.includes("export_lake"))).toEqual([]);
});
