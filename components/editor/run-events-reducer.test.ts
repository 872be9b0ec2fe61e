/** How the run event stream moves the editor: the snapshot on connect, state changes, logs, outputs. */
import type { StreamMessage } from "@/lib/server/api/runs-service";
import type { RunInfo } from "./editor-store";
import { applyRunEvent, LOG_LINES_KEPT, withLoadedLogs, type RunEventSlice, type RunStateMessage } from "./run-events-reducer";

const RUN = "run_20201001_0000_a1b2c3";
const EARLIER_RUN = "run_20200930_2300_ffeedd";
const NOW = "2026-01-05T12:00:00.000Z";

function runInfo(id: string, state: RunInfo["state"] = "queued"): RunInfo {
  return { id, state, mode: "pipeline", block: null, blocks: [] };
}

function emptyState(run: RunInfo | null): RunEventSlice {
  return { status: {}, outputs: {}, logs: {}, progress: {}, run };
}

/** Deep-freezes a state so that a reducer writing into it throws instead of passing silently. */
function frozen<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const inner of Object.values(value)) frozen(inner);
    Object.freeze(value);
  }
  return value;
}

/** What the server sends when the editor connects to a green_taxi_etl run midway (see `runEvents`). */
function midRunSnapshot(): Extract<StreamMessage, { type: "snapshot" }> {
  const blockRun = { started_at: null, ended_at: null, duration_ms: null, rows: null, error: null, has_output: false, pokes: 0, last_poke_at: null, writes: null, tests: null };
  return {
    type: "snapshot",
    run: {
      id: RUN,
      pipeline: "green_taxi_etl",
      state: "running",
      trigger: "manual",
      mode: "pipeline",
      block: null,
      logical_date: "2020-10-01T00:00:00.000Z",
      data_interval: { start: "2020-10-01T00:00:00.000Z", end: "2020-10-01T00:00:00.000Z" },
      created_at: "2026-01-05T11:59:00.000Z",
      started_at: "2026-01-05T11:59:00.100Z",
      ended_at: null,
      error: null,
    },
    blocks: [
      { ...blockRun, block: "load_green_taxi", state: "success", attempt: 1, started_at: "2026-01-05T11:59:00.200Z", ended_at: "2026-01-05T11:59:04.900Z", duration_ms: 4700, rows: 95120, has_output: true },
      { ...blockRun, block: "clean_trips", state: "running", attempt: 1, started_at: "2026-01-05T11:59:05.000Z" },
      {
        ...blockRun,
        block: "to_postgres",
        state: "up_for_retry",
        attempt: 1,
        error: { code: "connection_refused", kind: "operational", message: "connect ECONNREFUSED 127.0.0.1:5432" },
      },
      { ...blockRun, block: "export_lake", state: "pending", attempt: 0 },
      { ...blockRun, block: "to_gcs", state: "queued", attempt: 0 },
    ],
  };
}

function blockState(block: string, state: Extract<StreamMessage, { type: "block_state" }>["state"], extra: Partial<Extract<StreamMessage, { type: "block_state" }>> = {}): RunStateMessage {
  return { type: "block_state", runId: RUN, block, state, attempt: 1, at: "2026-01-05T11:59:10.000Z", ...extra };
}

describe("the snapshot sent when the editor connects", () => {
  it("shows every block's state, the outputs already written, the run's state, and which logs to catch up on", () => {
    const state = frozen(emptyState(runInfo(RUN)));
    const { patch, outputSerial, logsToLoad } = applyRunEvent(state, midRunSnapshot(), 7, NOW);

    expect(Object.keys(patch.status ?? {})).toEqual(["load_green_taxi", "clean_trips", "to_postgres", "export_lake", "to_gcs"]);
    expect(patch.status?.load_green_taxi).toEqual({ runId: RUN, state: "success", attempt: 1, rows: 95120, durationMs: 4700, error: null, pokes: 0, writes: null, tests: null });
    expect(patch.status?.export_lake?.state).toBe("pending");
    expect(patch.run).toEqual({ ...runInfo(RUN), state: "running" });
    // Only the finished block with an output is announced, with the serial after the one given.
    expect(patch.outputs).toEqual({ load_green_taxi: { runId: RUN, serial: 8, endedAt: "2026-01-05T11:59:04.900Z" } });
    expect(outputSerial).toBe(8);
    // Blocks that have not started have no log lines to read.
    expect(logsToLoad).toEqual(["load_green_taxi", "clean_trips", "to_postgres"]);
  });

  it("keeps the error code and message a failed attempt shows in its cell", () => {
    const { patch } = applyRunEvent(emptyState(null), midRunSnapshot(), 0, NOW);
    expect(patch.status?.to_postgres?.error).toEqual({ code: "connection_refused", message: "connect ECONNREFUSED 127.0.0.1:5432" });
  });

  it("does not announce again an output the editor already shows (a reconnect), nor touch another run's bar", () => {
    const state = frozen({
      ...emptyState(runInfo(EARLIER_RUN, "success")),
      outputs: { load_green_taxi: { runId: RUN, serial: 3, endedAt: "2026-01-05T11:59:04.900Z" } },
    });
    const { patch, outputSerial } = applyRunEvent(state, midRunSnapshot(), 3, NOW);
    expect(patch.outputs?.load_green_taxi?.serial).toBe(3);
    expect(outputSerial).toBe(3);
    expect(patch.run).toEqual(runInfo(EARLIER_RUN, "success"));
  });

  it("dates an output without an end time by the time the snapshot arrived", () => {
    const snapshot = midRunSnapshot();
    const first = snapshot.blocks[0];
    if (!first) throw new Error("the fixture has blocks");
    first.ended_at = null;
    const { patch } = applyRunEvent(emptyState(null), snapshot, 0, NOW);
    expect(patch.outputs?.load_green_taxi?.endedAt).toBe(NOW);
  });
});

describe("run and block state changes", () => {
  it("moves the run bar only for the run it shows", () => {
    const state = frozen(emptyState(runInfo(RUN)));
    expect(applyRunEvent(state, { type: "run_state", runId: RUN, pipeline: "green_taxi_etl", state: "failed", at: NOW }, 0, NOW).patch).toEqual({ run: { ...runInfo(RUN), state: "failed" } });
    expect(applyRunEvent(state, { type: "run_state", runId: EARLIER_RUN, pipeline: "green_taxi_etl", state: "success", at: NOW }, 0, NOW).patch).toEqual({});
  });

  it("starts an empty log for a block's first attempt and keeps the earlier lines on a retry", () => {
    const earlier = [{ at: "2026-01-05T11:59:06.000Z", level: "error" as const, message: "connect ECONNREFUSED 127.0.0.1:5432" }];
    const state = frozen({ ...emptyState(runInfo(RUN)), logs: { to_postgres: earlier } });
    expect(applyRunEvent(state, blockState("to_postgres", "running"), 0, NOW).patch.logs).toEqual({ to_postgres: [] });
    expect(applyRunEvent(state, blockState("to_postgres", "running", { attempt: 2 }), 0, NOW).patch.logs).toBeUndefined();
  });

  it("keeps a block's row count through later events of the same run, but not from another run", () => {
    const state = frozen({
      ...emptyState(runInfo(RUN)),
      status: {
        clean_trips: { runId: RUN, state: "running" as const, attempt: 1, rows: 88000, durationMs: null, error: null },
        to_gcs: { runId: EARLIER_RUN, state: "success" as const, attempt: 1, rows: 12, durationMs: 900, error: null },
      },
    });
    expect(applyRunEvent(state, blockState("clean_trips", "failed"), 0, NOW).patch.status?.clean_trips?.rows).toBe(88000);
    expect(applyRunEvent(state, blockState("to_gcs", "running"), 0, NOW).patch.status?.to_gcs?.rows).toBeNull();
  });

  it("announces a new output when a block succeeds, and drops its progress bar", () => {
    const state = frozen({
      ...emptyState(runInfo(RUN)),
      progress: { clean_trips: { runId: RUN, rows: 50000 }, load_green_taxi: { runId: RUN, bytes: 10, totalBytes: 20 } },
    });
    const { patch, outputSerial } = applyRunEvent(state, blockState("clean_trips", "success", { rows: 94847, durationMs: 1830 }), 4, NOW);
    expect(patch.status?.clean_trips).toEqual({ runId: RUN, state: "success", attempt: 1, rows: 94847, durationMs: 1830, error: null });
    expect(patch.outputs?.clean_trips).toEqual({ runId: RUN, serial: 5, endedAt: "2026-01-05T11:59:10.000Z" });
    expect(outputSerial).toBe(5);
    expect(patch.progress).toEqual({ load_green_taxi: { runId: RUN, bytes: 10, totalBytes: 20 } });
  });

  it("keeps the progress of a running block, and announces no output for a failed, skipped or upstream_failed one", () => {
    const state = frozen({ ...emptyState(runInfo(RUN)), progress: { clean_trips: { runId: RUN, rows: 50000 } } });
    expect(applyRunEvent(state, blockState("clean_trips", "running", { attempt: 2 }), 0, NOW).patch.progress).toBeUndefined();
    for (const ended of ["failed", "skipped", "upstream_failed", "cancelled"] as const) {
      const { patch, outputSerial } = applyRunEvent(state, blockState("export_lake", ended), 2, NOW);
      expect(patch.outputs).toBeUndefined();
      expect(outputSerial).toBe(2);
      expect(patch.status?.export_lake?.state).toBe(ended);
    }
  });

  it("announces no output for an exporter that succeeded without one (its preview would only be a 404)", () => {
    const state = frozen({ ...emptyState(runInfo(RUN)), outputs: { export_lake: { runId: EARLIER_RUN, serial: 1, endedAt: NOW } } });
    const { patch, outputSerial } = applyRunEvent(state, blockState("export_lake", "success", { durationMs: 40 }), 2, NOW);
    expect(patch.status?.export_lake?.state).toBe("success");
    expect(patch.outputs).toBeUndefined();
    expect(outputSerial).toBe(2);
  });
});

describe("log lines", () => {
  it("appends a block's lines and keeps only the most recent ones", () => {
    let state: RunEventSlice = emptyState(runInfo(RUN));
    const total = LOG_LINES_KEPT + 20;
    for (let i = 0; i < total; i++) {
      const { patch } = applyRunEvent(frozen(state), { type: "log", runId: RUN, block: "load_green_taxi", attempt: 1, line: { at: NOW, level: "info", message: `line ${i}` } }, 0, NOW);
      state = { ...state, ...patch };
    }
    const lines = state.logs.load_green_taxi ?? [];
    expect(lines).toHaveLength(LOG_LINES_KEPT);
    expect(lines[0]?.message).toBe("line 20");
    expect(lines[lines.length - 1]?.message).toBe(`line ${total - 1}`);
  });

  it("takes lines read from the log store only when they are more than the stream delivered", () => {
    const streamed = [{ at: NOW, level: "info" as const, message: "downloaded green_tripdata_2020-10.csv.gz" }];
    const stored = [{ at: NOW, level: "info" as const, message: "reading months 10, 11, 12" }, ...streamed];
    expect(withLoadedLogs({ load_green_taxi: streamed }, "load_green_taxi", streamed)).toBeNull();
    expect(withLoadedLogs({ load_green_taxi: streamed }, "load_green_taxi", stored)).toEqual({ load_green_taxi: stored });
    const many = Array.from({ length: LOG_LINES_KEPT + 1 }, (_, i) => ({ at: NOW, level: "debug" as const, message: String(i) }));
    expect(withLoadedLogs({}, "load_green_taxi", many)?.load_green_taxi?.[0]?.message).toBe("1");
  });
});
