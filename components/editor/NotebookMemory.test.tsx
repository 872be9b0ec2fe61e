/**
 * @jest-environment jsdom
 *
 * The notebook remembers: opening a pipeline shows each block as its last run left it (state, rows, tests,
 * writes, the run it came from, logs on demand) with its newest preview, and the run picker shows the notebook
 * as of any run. The cells' feedback components and the run bar run for real against an API that answers like
 * the server's routes.
 */
import { act, cleanup, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useEffect } from "react";
import type { BlockRunJson, NotebookBlockRun, PipelineDocument, ResponseOf, RunJson } from "@/lib/core/api-contract";
import { DEFAULT_RETRY_POLICY, type BlockSpec, type BlockType } from "@/lib/core/model";
import { serveApi, type ApiHandler, type FakeApi } from "@/test/api-fetch";
import { RunBar } from "../runs/RunBar";
import { CellFeedback, CellLogs, PreviewOrigin } from "./CellFeedback";
import { EditorProvider, useEditor, useEditorStore } from "./EditorProvider";

const OLD_RUN = "0190aaaa-0000-7000-8000-00000000a1a1";
const BLOCK_RUN = "0190bbbb-0000-7000-8000-00000000b2b2";

function spec(name: string, type: BlockType, upstream: string[] = []): BlockSpec {
  return { name, type, language: "ts", upstream, retries: DEFAULT_RETRY_POLICY, timeoutMs: null, connection: null, queue: null };
}

const BLOCKS = [spec("load_trips", "loader"), spec("clean_trips", "transformer", ["load_trips"]), spec("save_trips", "exporter", ["clean_trips"])];

const DOC: PipelineDocument = {
  pipeline: { version: 1, name: "taxi", description: "", variables: {}, blocks: BLOCKS },
  version: "v1",
  blocks: BLOCKS.map((b) => ({ name: b.name, code: "export default async function f() {}", version: "c1", exists: true })),
};

function run(id: string, mode: RunJson["mode"], block: string | null, state: RunJson["state"], createdAt: string): RunJson {
  return {
    id,
    pipeline: "taxi",
    state,
    trigger: "manual",
    mode,
    block,
    logical_date: createdAt,
    data_interval: { start: createdAt, end: createdAt },
    created_at: createdAt,
    started_at: createdAt,
    ended_at: createdAt,
    error: null,
  };
}

const PIPELINE_RUN = run(OLD_RUN, "pipeline", null, "success", "2026-12-03T10:00:00.000Z");
const CLEAN_RUN = run(BLOCK_RUN, "block", "clean_trips", "failed", "2026-12-03T11:00:00.000Z");

function blockRun(block: string, state: BlockRunJson["state"], extra: Partial<BlockRunJson> = {}): BlockRunJson {
  return { block, state, attempt: 1, started_at: null, ended_at: null, duration_ms: 120, rows: null, error: null, has_output: false, pokes: 0, last_poke_at: null, writes: null, tests: null, ...extra };
}

function fromRun(r: RunJson, b: BlockRunJson): NotebookBlockRun {
  return { ...b, run: { id: r.id, state: r.state, mode: r.mode, block: r.block, trigger: r.trigger, created_at: r.created_at } };
}

/** The pipeline ran whole (all green), then clean_trips alone failed its test. */
const LATEST: ResponseOf<"latestBlockRuns"> = {
  blocks: [
    fromRun(CLEAN_RUN, blockRun("clean_trips", "failed", { error: { code: "test_failed", message: "test failed: fare must be positive" }, tests: { passed: null, failed: "test failed: fare must be positive" } })),
    fromRun(PIPELINE_RUN, blockRun("load_trips", "success", { rows: 1200, has_output: true, tests: { passed: 3, failed: null } })),
    fromRun(PIPELINE_RUN, blockRun("save_trips", "success", { writes: [{ connector: "postgres", location: "public.trips", rows: 1180 }] })),
  ],
  outputs: [
    { block: "clean_trips", run_id: OLD_RUN, ended_at: "2026-12-03T10:00:02.000Z", rows: 1180 },
    { block: "load_trips", run_id: OLD_RUN, ended_at: "2026-12-03T10:00:01.000Z", rows: 1200 },
  ],
};

const api: ApiHandler = (request) => {
  const at = `${request.method} ${request.path}`;
  if (at === "GET /api/pipelines/taxi/latest-block-runs") return { status: 200, body: LATEST };
  if (at === "GET /api/runs?pipeline=taxi&limit=50") return { status: 200, body: { runs: [CLEAN_RUN, PIPELINE_RUN] } };
  if (at === `GET /api/runs/${OLD_RUN}`) {
    return {
      status: 200,
      body: {
        run: PIPELINE_RUN,
        blocks: [
          blockRun("load_trips", "success", { rows: 1200, has_output: true, tests: { passed: 3, failed: null } }),
          blockRun("clean_trips", "success", { rows: 1180, has_output: true }),
          blockRun("save_trips", "success", { writes: [{ connector: "postgres", location: "public.trips", rows: 1180 }] }),
        ],
      },
    };
  }
  if (at === `GET /api/runs/${BLOCK_RUN}/blocks/clean_trips/logs`) return { status: 200, body: { lines: [{ at: "2026-12-03T11:00:00.500Z", level: "error", message: "fare -3 in row 17", attempt: 1 }] } };
  if (at === `GET /api/runs/${OLD_RUN}/blocks/save_trips/logs`) return { status: 200, body: { lines: [{ at: "2026-12-03T10:00:03.000Z", level: "info", message: "copied 1180 rows", attempt: 1 }] } };
  return undefined;
};

/** A cell's remembered parts, as BlockCell places them; the store loads the notebook on open like the editor does. */
function Cells() {
  const store = useEditorStore();
  useEffect(() => {
    void store.getState().loadLatest();
  }, [store]);
  const status = useEditor((s) => s.status);
  const outputs = useEditor((s) => s.outputs);
  return (
    <>
      <RunBar />
      {BLOCKS.map((b) => (
        <section key={b.name} data-testid={`cell-${b.name}`}>
          <span data-testid={`state-${b.name}`}>{status[b.name]?.state ?? "idle"}</span>
          <CellFeedback block={b.name} />
          <CellLogs block={b.name} />
          <PreviewOrigin block={b.name} />
          <span data-testid={`preview-of-${b.name}`}>{outputs[b.name]?.runId ?? "none"}</span>
        </section>
      ))}
    </>
  );
}

let fake: FakeApi;
afterEach(() => {
  cleanup();
  fake.restore();
});

function renderEditor() {
  fake = serveApi(api);
  render(
    <EditorProvider doc={DOC}>
      <Cells />
    </EditorProvider>,
  );
}

const text = (id: string) => screen.getByTestId(id).textContent;

it("opens with every block as its last run left it, each labelled with that run, and previews from the run that has them", async () => {
  renderEditor();
  await waitFor(() => expect(text("state-load_trips")).toBe("success"));
  expect(text("state-clean_trips")).toBe("failed");
  expect(text("state-save_trips")).toBe("success");
  expect(text("run-bar")).not.toContain("No run yet");

  expect(text("tests-load_trips")).toBe("3 tests passed");
  expect(text("tests-clean_trips")).toBe("test failed: fare must be positive");
  expect(text("writes-save_trips")).toBe("wrote 1,180 rows to postgres public.trips");
  expect(text("origin-clean_trips")).toBe(`from run ${BLOCK_RUN.slice(-8)} (block clean_trips)`);
  expect(within(screen.getByTestId("origin-load_trips")).getByRole("link").getAttribute("href")).toBe(`/runs/${OLD_RUN}`);

  // clean_trips failed in its last run: the preview is its newest output, from the older run, and says so.
  expect(text("preview-of-clean_trips")).toBe(OLD_RUN);
  expect(text("preview-origin-clean_trips")).toBe(`output of run ${OLD_RUN.slice(-8)} (pipeline)`);
  expect(screen.queryByTestId("preview-origin-load_trips")).toBeNull();
  // An exporter has no output: nothing to preview, so nothing is asked for.
  expect(text("preview-of-save_trips")).toBe("none");
  expect(fake.requests.some((r) => r.path.includes("/output"))).toBe(false);

  // The failed block's log is read at once; the others' only when opened.
  await waitFor(() => expect(text("logs-clean_trips")).toContain("fare -3 in row 17"));
  expect(screen.queryByTestId("logs-save_trips")).toBeNull();
  await userEvent.click(within(screen.getByTestId("cell-save_trips")).getByText("logs"));
  await waitFor(() => expect(text("logs-save_trips")).toContain("copied 1180 rows"));
});

it("shows the notebook as of a run picked in the run picker, and back to each block's latest", async () => {
  renderEditor();
  await waitFor(() => expect(text("state-clean_trips")).toBe("failed"));
  const picker = screen.getByLabelText("Show");
  await act(async () => {
    picker.focus();
  });
  await waitFor(() => expect(within(picker).getAllByRole("option")).toHaveLength(3));
  expect(within(picker).getAllByRole("option").map((o) => o.textContent)).toEqual([
    "each block as last run",
    `2026-12-03 11:00:00 UTC · block clean_trips · failed · ${BLOCK_RUN.slice(-8)}`,
    `2026-12-03 10:00:00 UTC · pipeline · success · ${OLD_RUN.slice(-8)}`,
  ]);

  await userEvent.selectOptions(picker, OLD_RUN);
  await waitFor(() => expect(text("state-clean_trips")).toBe("success"));
  expect(text("preview-of-clean_trips")).toBe(OLD_RUN);
  expect(screen.queryByTestId("preview-origin-clean_trips")).toBeNull();
  expect(screen.getByRole("link", { name: "open run page" }).getAttribute("href")).toBe(`/runs/${OLD_RUN}`);

  await userEvent.selectOptions(picker, "");
  await waitFor(() => expect(text("state-clean_trips")).toBe("failed"));
  expect(text("preview-origin-clean_trips")).toContain(OLD_RUN.slice(-8));
});
