import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { ownershipContract } from "./ownership.contract";
import { runStoreContract } from "./run-store.contract";
import { SqliteRunStore } from "./sqlite-run-store";
import { triggerStoreContract } from "./trigger-store.contract";

function sqliteFixture() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "sluice-runs-"));
  const file = path.join(dir, "nested", "sluice.db");
  return {
    open: () => SqliteRunStore.open(file),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

runStoreContract("sqlite (temp file)", async () => sqliteFixture());
triggerStoreContract("sqlite (temp file)", async () => sqliteFixture());
ownershipContract("sqlite (temp file)", async () => sqliteFixture());

describe("SqliteRunStore", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "sluice-sqlite-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("puts the database in WAL mode and creates the schema once", async () => {
    const file = path.join(dir, "sluice.db");
    const first = await SqliteRunStore.open(file);
    const second = await SqliteRunStore.open(file); // migrations already applied: no error
    await first.close();
    await second.close();
    const raw = new Database(file, { readonly: true });
    try {
      expect(raw.pragma("journal_mode", { simple: true })).toBe("wal");
      const tables = raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
      expect(tables).toEqual(
        expect.arrayContaining([{ name: "block_attempts" }, { name: "block_runs" }, { name: "runs" }, { name: "kysely_migration" }]),
      );
    } finally {
      raw.close();
    }
  });

  it("opens an in-memory database", async () => {
    const store = await SqliteRunStore.open(":memory:");
    const run = await store.createRun({ pipeline: "p", trigger: "api", logicalDate: "2024-01-01T00:00:00.000Z", variables: {}, mode: "pipeline", blocks: ["a"] });
    expect((await store.getRun(run.id))?.blockRuns).toHaveLength(1);
    await store.close();
  });

  it("shares the file with another process writing at the same time", async () => {
    const file = path.join(dir, "shared.db");
    const store = await SqliteRunStore.open(file);
    const perProcess = 60;
    const child = spawn(process.execPath, [require.resolve("tsx/cli"), path.join(__dirname, "sqlite-run-store.child.ts"), file, String(perProcess)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    for (let i = 0; i < perProcess; i++) {
      const run = await store.createRun({ pipeline: "parent", trigger: "manual", logicalDate: "2024-01-01T00:00:00.000Z", variables: { i }, mode: "pipeline", blocks: ["a", "b"] });
      await store.updateBlockRun(run.id, "a", { state: "success", rows: i });
      await store.updateRunState(run.id, "success", { at: new Date().toISOString() });
    }
    expect(await exited).toBe(0);
    expect(stderr).toBe("");
    const all = await store.listRuns({ limit: 1000 });
    expect(all.filter((r) => r.pipeline === "parent")).toHaveLength(perProcess);
    expect(all.filter((r) => r.pipeline === "child")).toHaveLength(perProcess);
    expect(all.every((r) => r.state === "success")).toBe(true);
    await store.close();
  });
});
