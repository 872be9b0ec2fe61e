import { runAnnouncements } from "./RunAnnouncer";

const status = (state: string, extra: Record<string, unknown> = {}) => ({ runId: "r1", state, rows: null, error: null, ...extra }) as Parameters<typeof runAnnouncements>[0]["status"][string];

describe("runAnnouncements", () => {
  it("announces a block that starts, then succeeds with its row count", () => {
    const idle = { status: {}, run: null };
    const running = { status: { load: status("running") }, run: { id: "r1", state: "running" as const } };
    const done = { status: { load: status("success", { rows: 12345 }) }, run: { id: "r1", state: "running" as const } };
    expect(runAnnouncements(idle, running)).toEqual(["Block load running"]);
    expect(runAnnouncements(running, done)).toEqual(["Block load succeeded, 12,345 rows"]);
  });

  it("says why a block failed, and that its downstream did not run, then the run's end", () => {
    const before = { status: { load: status("running"), clean: status("pending") }, run: { id: "r1", state: "running" as const } };
    const after = {
      status: { load: status("failed", { error: { code: "user_error", message: "boom" } }), clean: status("upstream_failed") },
      run: { id: "r1", state: "failed" as const },
    };
    expect(runAnnouncements(before, after)).toEqual(["Block load failed: boom", "Block clean not run: an upstream failed", "Run failed"]);
  });

  it("stays silent for unchanged blocks and for queued or pending ones", () => {
    const same = { status: { load: status("success", { rows: 1 }), clean: status("queued") }, run: { id: "r1", state: "running" as const } };
    expect(runAnnouncements(same, same)).toEqual([]);
    // Blocks of an earlier run, loaded when the page opens, are not news either.
    expect(runAnnouncements({ status: {}, run: null }, { status: { load: status("success", { rows: 1 }) }, run: null })).toEqual([]);
    expect(runAnnouncements({ status: {}, run: null }, { status: { clean: status("queued") }, run: null })).toEqual([]);
  });

  it("announces the same state again for a new run", () => {
    const first = { status: { load: status("success", { rows: 3 }) }, run: { id: "r1", state: "success" as const } };
    const second = { status: { load: status("success", { rows: 3, runId: "r2" }) }, run: { id: "r2", state: "success" as const } };
    expect(runAnnouncements(first, second)).toEqual(["Block load succeeded, 3 rows", "Run succeeded"]);
  });
});
