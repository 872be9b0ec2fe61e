/**
 * @jest-environment jsdom
 *
 * The run page of a dynamic run: instances are listed under their declared block (not as rows of their own),
 * in instance order, each with its state, attempt and the skip reason where skipped; a group with a failure
 * opens by itself, an all-green one stays folded; picking an instance shows its log and attempts.
 */
import { cleanup, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { AppRouterContext, type AppRouterInstance } from "next/dist/shared/lib/app-router-context.shared-runtime";
import type { BlockView, RunView } from "@/lib/server/api/runs-history-service";
import { RunDetail } from "./RunDetail";

const RUN = "run_20201001_0000_a1b2c3";

const router: AppRouterInstance = {
  bfcacheId: "_b_0_",
  back: () => undefined,
  forward: () => undefined,
  refresh: () => undefined,
  push: () => undefined,
  replace: () => undefined,
  prefetch: () => undefined,
};

function block(name: string, state: string, attempt: number, extra: Partial<BlockView> = {}): BlockView {
  const log = [{ at: "2026-01-05T11:59:01.000Z", level: "info", message: `${name} attempt ${attempt}` }];
  return {
    block: name,
    state,
    attempt,
    started_at: null,
    ended_at: null,
    duration_ms: null,
    rows: null,
    error: null,
    pokes: 0,
    last_poke_at: null,
    has_output: false,
    writes: null,
    tests: null,
    attempts: attempt > 0 ? [{ attempt, state, started_at: null, ended_at: null, error: extra.error ?? null, log }] : [],
    ...extra,
  };
}

function dynamicRun(): RunView {
  return {
    run: {
      id: RUN,
      pipeline: "green_taxi_etl",
      state: "failed",
      trigger: "manual",
      trigger_id: null,
      logical_date: "2020-10-01T00:00:00.000Z",
      created_at: "2026-01-05T11:59:00.000Z",
      started_at: "2026-01-05T11:59:00.100Z",
      ended_at: "2026-01-05T11:59:12.100Z",
      error: "block download[1] failed",
      mode: "pipeline",
      block: null,
      variables: {},
      data_interval: { start: "2020-10-01T00:00:00.000Z", end: "2020-10-01T00:00:00.000Z" },
      active: false,
    },
    // In the order the runner stored them, which is not instance order.
    blocks: [
      block("months", "success", 1, { rows: 3 }),
      block("download[10]", "success", 1, { rows: 48_000 }),
      block("download[1]", "failed", 2, { error: "HTTP 503 from cloudfront" }),
      block("download[0]", "success", 1, { rows: 45_000 }),
      block("download[2]", "skipped", 0, { error: "condition is_weekday was false" }),
      block("download", "upstream_failed", 0),
      block("report[2020-11]", "success", 1),
      block("report[2020-10]", "success", 1),
      block("report", "success", 1),
    ],
  };
}

afterEach(cleanup);

function renderRun(view: RunView) {
  return render(
    <AppRouterContext.Provider value={router}>
      <RunDetail view={view} nowMs={Date.parse("2026-01-05T12:00:00.000Z")} />
    </AppRouterContext.Provider>,
  );
}

it("lists instances under their block in instance order, with state, attempt and skip reason", () => {
  renderRun(dynamicRun());
  const table = screen.getByTestId("block-runs");
  // Declared blocks keep their rows; instances get none of their own.
  expect(within(table).getByTestId("block-run-download")).toBeTruthy();
  expect(within(table).queryByTestId("block-run-download[0]")).toBeNull();
  const group = screen.getByTestId("instances-download");
  expect(group.querySelector("summary")?.textContent).toBe("4 instances of download: 2 success, 1 failed, 1 skipped");
  const rows = within(group).getAllByRole("row").slice(1);
  expect(rows.map((r) => [...r.querySelectorAll("td")].map((td) => td.textContent))).toEqual([
    ["download[0]", "success", "1", "45000", ""],
    ["download[1]", "failed", "2", "", "HTTP 503 from cloudfront"],
    ["download[2]", "skipped", "0", "", "condition is_weekday was false"],
    ["download[10]", "success", "1", "48000", ""],
  ]);
  // The group sits right under its block's row.
  expect(screen.getByTestId("block-run-download").nextElementSibling?.contains(group)).toBe(true);
});

it("opens a group with a failed instance, folds an all-green one, and folds on a click", async () => {
  renderRun(dynamicRun());
  const download = screen.getByTestId("instances-download") as HTMLDetailsElement;
  const report = screen.getByTestId("instances-report") as HTMLDetailsElement;
  expect(download.open).toBe(true);
  expect(report.open).toBe(false);
  // Key-column instances keep the run's order (the dynamic block's row order).
  expect(within(report).getAllByRole("button").map((b) => b.textContent)).toEqual(["report[2020-11]", "report[2020-10]"]);
  await userEvent.click(download.querySelector("summary")!);
  expect(download.open).toBe(false);
});

it("shows the failed instance's log first, and another instance's log when picked", async () => {
  renderRun(dynamicRun());
  expect(screen.getByTestId("block-log").textContent).toContain("download[1] attempt 2");
  expect(screen.getByTestId("block-log").textContent).toContain("HTTP 503 from cloudfront");
  await userEvent.click(within(screen.getByTestId("instances-download")).getByRole("button", { name: "download[0]" }));
  expect(screen.getByTestId("block-log").textContent).toContain("download[0] attempt 1");
  expect(within(screen.getByTestId("instances-download")).getByRole("button", { name: "download[0]" }).getAttribute("aria-pressed")).toBe("true");
});
