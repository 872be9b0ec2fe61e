/**
 * The editor store end to end through its IO seam (`EditorApi`): autosave after a pause, a stale-version
 * conflict and its overwrite, and the run event stream with batched progress. The API here answers the way
 * the server's routes do (a version per write, 409 `stale_version` on a stale If-Match).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { blockFileName } from "@/lib/core/model";
import { parsePipelineYaml } from "@/lib/core/pipeline-schema";
import type { PipelineDocument } from "@/lib/server/api/pipelines-service";
import type { StreamMessage } from "@/lib/server/api/runs-service";
import type { ApiResult } from "../ui/api-client";
import { createEditorStore, type EditorApi } from "./editor-store";

const EXAMPLE = path.join(__dirname, "../../pipelines/green_taxi_etl");
const RUN = "run_20201001_0000_a1b2c3";

interface SentCall {
  path: string;
  method: string;
  body: unknown;
  version: string | undefined;
}

/**
 * Block files with content versions, as the pipelines API keeps them: a PUT with the current version
 * writes and returns the next one; any other version is refused as stale.
 */
class PipelineFilesApi implements EditorApi {
  readonly calls: SentCall[] = [];
  readonly versions = new Map<string, number>();
  readonly code = new Map<string, string>();
  private stream: ((message: StreamMessage) => void) | null = null;

  constructor(readonly doc: PipelineDocument) {
    for (const b of doc.blocks) {
      this.versions.set(b.name, 1);
      this.code.set(b.name, b.code);
    }
  }

  /** Someone else saves a block (another tab, or a hand edit on disk). */
  editElsewhere(block: string, code: string): void {
    this.code.set(block, code);
    this.versions.set(block, (this.versions.get(block) ?? 0) + 1);
  }

  document(): PipelineDocument {
    return { ...this.doc, blocks: this.doc.blocks.map((b) => ({ ...b, code: this.code.get(b.name) ?? "", version: `v${this.versions.get(b.name)}` })) };
  }

  async call<T>(callPath: string, init: { method?: string; body?: unknown; version?: string } = {}): Promise<ApiResult<T>> {
    const method = init.method ?? "GET";
    this.calls.push({ path: callPath, method, body: init.body, version: init.version });
    const block = /^\/api\/pipelines\/green_taxi_etl\/blocks\/([a-z0-9_]+)$/.exec(callPath)?.[1];
    if (method === "PUT" && block) {
      const current = `v${this.versions.get(block)}`;
      if (init.version !== current) return { ok: false, status: 409, error: { code: "stale_version", message: `${blockFileName({ name: block, language: "sql" })} changed: version ${current}` } };
      const body = init.body;
      if (typeof body === "object" && body !== null && "code" in body && typeof body.code === "string") this.editElsewhere(block, body.code);
      return this.answer({ version: `v${this.versions.get(block)}` });
    }
    if (method === "GET" && callPath === "/api/pipelines/green_taxi_etl") return this.answer(this.document());
    if (method === "GET" && callPath.endsWith("/logs")) return this.answer({ lines: [] });
    if (method === "POST" && callPath === "/api/pipelines/green_taxi_etl/runs") return this.answer({ run_id: RUN }, 201);
    return { ok: false, status: 404, error: { code: "not_found", message: `no route ${method} ${callPath}` } };
  }

  subscribe(runId: string, onMessage: (message: StreamMessage) => void): () => void {
    expect(runId).toBe(RUN);
    this.stream = onMessage;
    return () => {
      this.stream = null;
    };
  }

  send(message: StreamMessage): void {
    if (!this.stream) throw new Error("nobody subscribed to the run");
    this.stream(message);
  }

  private answer<T, D>(data: D, status = 200): ApiResult<T> {
    // The store trusts response bodies to have the documented shape, as `apiCall` does.
    const parsed: T = JSON.parse(JSON.stringify(data));
    return { ok: true, status, data: parsed };
  }
}

function exampleDocument(): PipelineDocument {
  const pipeline = parsePipelineYaml(readFileSync(path.join(EXAMPLE, "pipeline.yaml"), "utf8"), "pipeline.yaml");
  return {
    pipeline,
    version: "pipeline-v1",
    blocks: pipeline.blocks.map((b) => ({ name: b.name, code: readFileSync(path.join(EXAMPLE, blockFileName(b)), "utf8"), version: "v1", exists: true })),
  };
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe("autosave", () => {
  it("saves a block once typing pauses, with the version it was based on", async () => {
    const api = new PipelineFilesApi(exampleDocument());
    const store = createEditorStore(api.document(), api);
    const base = store.getState().code.clean_trips?.code ?? "";
    store.getState().setCode("clean_trips", `${base}\n  AND`);
    await jest.advanceTimersByTimeAsync(400);
    store.getState().setCode("clean_trips", `${base}\n  AND total_amount > 0`);
    await jest.advanceTimersByTimeAsync(400);
    expect(api.calls.filter((c) => c.method === "PUT")).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(500);

    const puts = api.calls.filter((c) => c.method === "PUT");
    expect(puts).toEqual([{ path: "/api/pipelines/green_taxi_etl/blocks/clean_trips", method: "PUT", body: { code: `${base}\n  AND total_amount > 0` }, version: "v1" }]);
    expect(store.getState().code.clean_trips).toEqual({ code: `${base}\n  AND total_amount > 0`, savedCode: `${base}\n  AND total_amount > 0`, version: "v2", saving: false });
    store.getState().dispose();
  });

  it("stops at a stale version with a conflict, saves nothing more, and overwrites only when asked", async () => {
    const api = new PipelineFilesApi(exampleDocument());
    const store = createEditorStore(api.document(), api);
    api.editElsewhere("clean_trips", "SELECT * FROM load_green_taxi -- theirs");
    store.getState().setCode("clean_trips", "SELECT * FROM load_green_taxi -- mine");
    await jest.advanceTimersByTimeAsync(900);

    expect(store.getState().conflict).toEqual({ block: "clean_trips", message: 'Block "clean_trips" changed since you opened it — in another tab or on disk. Your change was not saved.' });
    store.getState().setCode("clean_trips", "SELECT * FROM load_green_taxi -- mine, again");
    await jest.advanceTimersByTimeAsync(900);
    expect(api.calls.filter((c) => c.method === "PUT")).toHaveLength(1);
    expect(api.code.get("clean_trips")).toBe("SELECT * FROM load_green_taxi -- theirs");

    await store.getState().resolveConflict("overwrite");
    expect(store.getState().conflict).toBeNull();
    expect(api.code.get("clean_trips")).toBe("SELECT * FROM load_green_taxi -- mine, again");
    expect(api.calls.filter((c) => c.method === "PUT").map((c) => c.version)).toEqual(["v1", "v2"]);
    store.getState().dispose();
  });
});

describe("the run event stream", () => {
  it("shows progress at most every 100 ms and never brings it back after the block ended", async () => {
    const api = new PipelineFilesApi(exampleDocument());
    const store = createEditorStore(api.document(), api);
    await store.getState().runBlock("load_green_taxi", "block");
    expect(store.getState().run).toEqual({ id: RUN, state: "queued", mode: "block", block: "load_green_taxi", blocks: [] });

    const at = "2026-01-05T11:59:00.000Z";
    api.send({ type: "run_state", runId: RUN, pipeline: "green_taxi_etl", state: "running", at });
    api.send({ type: "block_state", runId: RUN, block: "load_green_taxi", state: "running", attempt: 1, at });
    api.send({ type: "progress", runId: RUN, block: "load_green_taxi", progress: { bytes: 1_048_576, totalBytes: 5_242_880 } });
    api.send({ type: "progress", runId: RUN, block: "load_green_taxi", progress: { rows: 20_000 } });
    expect(store.getState().progress).toEqual({});
    await jest.advanceTimersByTimeAsync(100);
    expect(store.getState().progress).toEqual({ load_green_taxi: { runId: RUN, bytes: 1_048_576, totalBytes: 5_242_880, rows: 20_000 } });

    // A last report still waiting for the next flush when the block ends must not reappear.
    api.send({ type: "progress", runId: RUN, block: "load_green_taxi", progress: { rows: 95_120 } });
    api.send({ type: "block_state", runId: RUN, block: "load_green_taxi", state: "success", attempt: 1, at: "2026-01-05T11:59:04.900Z", rows: 95_120, durationMs: 4_900 });
    await jest.advanceTimersByTimeAsync(200);
    expect(store.getState().progress).toEqual({});
    expect(store.getState().status.load_green_taxi).toMatchObject({ state: "success", rows: 95_120 });
    expect(store.getState().outputs.load_green_taxi).toEqual({ runId: RUN, serial: 1, endedAt: "2026-01-05T11:59:04.900Z" });

    api.send({ type: "run_state", runId: RUN, pipeline: "green_taxi_etl", state: "success", at });
    expect(store.getState().run?.state).toBe("success");
    store.getState().dispose();
  });
});
