/**
 * `sluice start` shares the metadata store with a `sluice run` in progress: its start-up and periodic
 * recovery must leave the live CLI run alone (it ends `success`, no error recorded), and cancelling a
 * CLI-owned run through the server's API reaches the CLI process, which stops the run within 2 s.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startSluice, type StartedServer } from "../../e2e/server";
import { napRunning, openSharedStore, spawnSluice, waitFor, writeNapProject, type SharedStore, type SluiceProcess } from "./process-helpers";

const LEASE_MS = 1500;

describe("sluice start beside a live sluice run", () => {
  let dir: string;
  let shared: SharedStore;
  let server: StartedServer | null = null;
  const processes: SluiceProcess[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "sluice-own-srv-"));
    writeNapProject(dir, 8_000);
    shared = await openSharedStore("sqlite", dir);
  });
  afterAll(async () => {
    for (const p of processes) p.kill();
    await server?.stop();
    await shared.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("leaves the CLI's run alone, and cancels a CLI-owned run through the API within 2 s", async () => {
    const env = { ...shared.env, SLUICE_LEASE_MS: String(LEASE_MS) };
    // A first start builds the app when needed (minutes under load); the start that matters comes later.
    const warmUp = await startSluice(dir, [], env);
    await warmUp.stop();
    const cli = spawnSluice(dir, ["run", "taxi_nap", "--var", "nap_ms=20000"], env);
    processes.push(cli);
    const liveRun = await waitFor("nap running", napRunning(shared.store), 120_000);
    // The server comes up (recovering at start and every lease period) while the CLI's block is running.
    server = await startSluice(dir, [], env);
    const { code } = await cli.exited;
    expect({ code, output: cli.output() }).toMatchObject({ code: 0 });
    const finished = await shared.store.getRun(liveRun);
    expect(finished?.run).toMatchObject({ state: "success", error: null });
    expect(finished?.blockRuns.map((b) => [b.block, b.state, b.error])).toEqual([
      ["trips", "success", null],
      ["nap", "success", null],
      ["after", "success", null],
    ]);
    expect(server.output()).not.toContain(liveRun);

    // A second CLI run, cancelled from the server's API: the CLI notices the request and stops it.
    const second = spawnSluice(dir, ["run", "taxi_nap"], env);
    processes.push(second);
    const secondRun = await waitFor("second nap running", napRunning(shared.store), 120_000);
    const response = await fetch(`${server.url}/api/runs/${secondRun}/cancel`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Origin: server.url },
      body: "{}",
    });
    // Written to the store by the time the server answers; from then on the CLI process has 2 s.
    const askedAt = Date.now();
    expect({ status: response.status, body: await response.text(), output: response.status === 202 ? "" : server.output().slice(-3000) }).toMatchObject({ status: 202 });
    const cancelled = await waitFor(
      "run cancelled",
      async () => {
        const detail = await shared.store.getRun(secondRun);
        return detail?.run.state === "cancelled" ? detail : null;
      },
      10_000,
      50,
    );
    expect(Date.now() - askedAt).toBeLessThan(2000);
    expect(cancelled.blockRuns.map((b) => b.state)).toEqual(["success", "cancelled", "cancelled"]);
    expect((await second.exited).code).toBe(1); // a cancelled run is not a success
  }, 600_000);
});
