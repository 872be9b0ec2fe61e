/**
 * The standalone scheduler (as docker-compose runs it) killed with SIGKILL in the middle of a scheduled
 * run leaves the run `running`; the next scheduler to start recovers it once the dead one's lease expired,
 * so nothing stays `running` forever and the trigger can fire again. SIGTERM instead cancels the run
 * cleanly before the scheduler exits.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { napRunning, openSharedStore, spawnSluice, waitFor, writeNapProject, type SharedStore, type SluiceProcess } from "../ownership/process-helpers";

const LEASE_MS = 1500;

function writeOnceTrigger(dir: string): void {
  writeFileSync(
    path.join(dir, "pipelines", "taxi_nap", "triggers.yaml"),
    `version: 1
triggers:
  - name: once
    type: schedule
    schedule: "@once"
    start_date: 2024-01-01T00:00:00Z
    missed_run_policy: all
`,
  );
}

describe.each(["sqlite", "postgres"] as const)("standalone scheduler killed mid-run (%s)", (kind) => {
  let dir: string;
  let shared: SharedStore;
  let processes: SluiceProcess[];
  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "sluice-kill-"));
    writeNapProject(dir, 60_000);
    writeOnceTrigger(dir);
    shared = await openSharedStore(kind, dir);
    processes = [];
  });
  afterEach(async () => {
    for (const p of processes) p.kill();
    await shared.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const scheduler = (...args: string[]) => {
    const p = spawnSluice(dir, ["scheduler", ...args], { ...shared.env, SLUICE_LEASE_MS: String(LEASE_MS) });
    processes.push(p);
    return p;
  };

  it("SIGKILL: the next scheduler fails the dead one's run once its lease expired, naming the owner", async () => {
    const first = scheduler();
    const runId = await waitFor("nap running", napRunning(shared.store));
    const pid = first.child.pid;
    first.child.kill("SIGKILL");
    expect((await first.exited).signal).toBe("SIGKILL");
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 300));

    const second = scheduler("--once");
    const { code } = await second.exited;
    expect({ code, output: second.output() }).toMatchObject({ code: 0 });
    expect(second.output()).toContain(`recovered run ${runId} (taxi_nap): running → failed: orphaned: owner`);
    expect(await shared.store.findRunsInState(["queued", "running"])).toEqual([]);
    const after = await shared.store.getRun(runId);
    expect(after?.run).toMatchObject({ state: "failed", trigger: "schedule", triggerId: "once" });
    expect(after?.run.error).toMatch(new RegExp(`owner \\S+:${pid} \\(scheduler\\) stopped heartbeating`));
    expect(after?.blockRuns.map((b) => [b.block, b.state])).toEqual([
      ["trips", "success"],
      ["nap", "failed"],
      ["after", "cancelled"],
    ]);
  }, 180_000);

  it("SIGTERM: stops taking work, cancels its run and exits", async () => {
    const only = scheduler();
    const runId = await waitFor("nap running", napRunning(shared.store));
    only.child.kill("SIGTERM");
    const { code } = await only.exited;
    expect({ code, output: only.output() }).toMatchObject({ code: 0 });
    expect(only.output()).toContain(`cancelling 1 run(s) in progress: ${runId}`);
    const after = await shared.store.getRun(runId);
    expect(after?.run.state).toBe("cancelled");
    expect(after?.blockRuns.map((b) => b.state)).toEqual(["success", "cancelled", "cancelled"]);
  }, 180_000);
});
