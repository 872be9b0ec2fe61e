/**
 * `sluice run` owns its run: a signal cancels it cleanly before the process exits; a SIGKILLed run is
 * left alone while its lease may still be renewed and recovered (failed, saying whose it was) once the
 * lease expired. On both metadata stores, with real processes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { recoverOrphanedRuns } from "../../lib/scheduler/recovery";
import { napRunning, openSharedStore, spawnSluice, waitFor, writeNapProject, type SharedStore, type SluiceProcess } from "./process-helpers";

const LEASE_MS = 1500;

describe.each(["sqlite", "postgres"] as const)("sluice run ownership (%s)", (kind) => {
  let dir: string;
  let shared: SharedStore;
  let processes: SluiceProcess[];
  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "sluice-own-cli-"));
    writeNapProject(dir, 60_000);
    shared = await openSharedStore(kind, dir);
    processes = [];
  });
  afterEach(async () => {
    for (const p of processes) p.kill();
    await shared.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = () => {
    const p = spawnSluice(dir, ["run", "taxi_nap"], { ...shared.env, SLUICE_LEASE_MS: String(LEASE_MS) });
    processes.push(p);
    return p;
  };

  it("SIGTERM cancels the run cleanly (blocks cancelled, exit 143) before exiting", async () => {
    const cli = start();
    const runId = await waitFor("nap running", napRunning(shared.store));
    const signalledAt = Date.now();
    cli.child.kill("SIGTERM");
    const { code } = await cli.exited;
    expect({ code, output: cli.output() }).toMatchObject({ code: 143 });
    expect(Date.now() - signalledAt).toBeLessThan(5000); // the 60 s nap was killed, not waited for
    expect(cli.output()).toContain(`sluice run: SIGTERM: run ${runId} cancelled`);
    const after = await shared.store.getRun(runId);
    expect(after?.run.state).toBe("cancelled");
    expect(after?.blockRuns.map((b) => [b.block, b.state])).toEqual([
      ["trips", "success"],
      ["nap", "cancelled"],
      ["after", "cancelled"],
    ]);
    expect(after?.blockRuns[0].rows).toBeGreaterThan(50_000); // the whole January 2024 file went through
    expect(await shared.store.findRunsInState(["queued", "running"])).toEqual([]);
  }, 120_000);

  it("SIGKILL: the run is spared while its lease may be renewed, then failed naming its owner", async () => {
    const cli = start();
    const runId = await waitFor("nap running", napRunning(shared.store));
    const pid = cli.child.pid;
    cli.child.kill("SIGKILL");
    expect((await cli.exited).signal).toBe("SIGKILL");
    const killedAt = Date.now();

    // Right after the kill the lease still holds: recovery cannot tell a dead owner from a slow one.
    expect(await recoverOrphanedRuns(shared.store, new Date())).toEqual([]);
    expect((await shared.store.getRun(runId))?.run.state).toBe("running");

    await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 300 - (Date.now() - killedAt)));
    const recovered = await recoverOrphanedRuns(shared.store, new Date());
    expect(recovered.map((r) => r.runId)).toEqual([runId]);
    const after = await shared.store.getRun(runId);
    expect(after?.run.state).toBe("failed");
    expect(after?.run.error).toMatch(new RegExp(`^orphaned: owner \\S+:${pid} \\(cli\\) stopped heartbeating at \\S+; its lease expired at`));
    expect(after?.blockRuns.map((b) => [b.block, b.state])).toEqual([
      ["trips", "success"],
      ["nap", "failed"],
      ["after", "cancelled"],
    ]);
    expect(await shared.store.findRunsInState(["queued", "running"])).toEqual([]);
  }, 120_000);
});

describe("sluice run on SIGINT", () => {
  it("cancels its run and exits 130", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "sluice-own-int-"));
    writeNapProject(dir, 60_000);
    const shared = await openSharedStore("sqlite", dir);
    const cli = spawnSluice(dir, ["run", "taxi_nap", "--json"], { ...shared.env, SLUICE_LEASE_MS: String(LEASE_MS) });
    try {
      const runId = await waitFor("nap running", napRunning(shared.store));
      cli.child.kill("SIGINT");
      expect((await cli.exited).code).toBe(130);
      const summary = JSON.parse(cli.output().split("\n").find((line) => line.startsWith("{")) ?? "null");
      expect(summary).toMatchObject({ run_id: runId, status: "cancelled", blocks: [{ name: "trips", status: "success" }, { name: "nap", status: "cancelled" }, { name: "after", status: "cancelled" }] });
      expect((await shared.store.getRun(runId))?.run.state).toBe("cancelled");
    } finally {
      cli.kill();
      await shared.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
