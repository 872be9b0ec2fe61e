/**
 * A process killed with SIGKILL in the middle of a run leaves the run `running`; start-up recovery fails
 * it (and its block runs) so that nothing stays `running` forever (DESIGN §4).
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { recoverOrphanedRuns } from "../../lib/scheduler/recovery";
import { SqliteRunStore } from "../../lib/store/metadata/sqlite-run-store";

const REPO_ROOT = path.resolve(__dirname, "..", "..");

function writeProject(dir: string): void {
  const pipelineDir = path.join(dir, "pipelines", "slow");
  mkdirSync(pipelineDir, { recursive: true });
  writeFileSync(
    path.join(pipelineDir, "pipeline.yaml"),
    `version: 1
name: slow
blocks:
  - name: nap
    type: loader
    language: ts
    upstream: []
  - name: after
    type: transformer
    language: ts
    upstream: [nap]
`,
  );
  writeFileSync(
    path.join(pipelineDir, "nap.ts"),
    `export default async function load() {
  await new Promise((resolve) => setTimeout(resolve, 60_000));
  return [{ x: 1 }];
}
`,
  );
  writeFileSync(path.join(pipelineDir, "after.ts"), `export default async function transform(input: unknown) {\n  return input;\n}\n`);
}

async function waitFor<T>(probe: () => Promise<T | null>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("SIGKILL in the middle of a run", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "sluice-kill-"));
    writeProject(dir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("leaves no run stuck in running after recovery", async () => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, "bin", "sluice.cjs"), "run", "slow"], {
      cwd: dir,
      env: { ...process.env, SLUICE_PROJECT_DIR: dir, DATABASE_URL: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
    const dbFile = path.join(dir, ".sluice", "sluice.db");
    const store = await waitFor(async () => {
      try {
        return await SqliteRunStore.open(dbFile);
      } catch {
        return null;
      }
    }, 30_000);
    try {
      const runId = await waitFor(async () => {
        const [run] = await store.findRunsInState(["running"]);
        if (!run) return null;
        const detail = await store.getRun(run.id);
        return detail?.blockRuns.find((b) => b.block === "nap")?.state === "running" ? run.id : null;
      }, 60_000);

      child.kill("SIGKILL");
      expect(await exited).toBe("SIGKILL");
      expect((await store.getRun(runId))?.run.state).toBe("running"); // the dead process left it so

      const recovered = await recoverOrphanedRuns(store, new Date());
      expect(recovered.map((r) => r.runId)).toEqual([runId]);
      expect(await store.findRunsInState(["queued", "running"])).toEqual([]);
      const after = await store.getRun(runId);
      expect(after?.run.state).toBe("failed");
      expect(after?.run.error).toMatch(/orphaned/);
      expect(after?.blockRuns.map((b) => [b.block, b.state])).toEqual([
        ["nap", "failed"],
        ["after", "cancelled"],
      ]);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await store.close();
    }
    expect(stderr).not.toMatch(/Error:/);
  }, 120_000);
});
