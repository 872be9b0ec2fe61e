import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { tableFromArrays, tableToIPC } from "apache-arrow";
import { SqliteRunStore } from "../store/metadata/sqlite-run-store";
import { OutputStore } from "../store/output-store";
import { cleanOldRuns } from "./retention";

const base = { pipeline: "retention_etl", trigger: "manual" as const, variables: {}, mode: "pipeline" as const };
const DAY = 86_400_000;

describe("cleanOldRuns with the real output store", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-retention-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("keeps each block's latest successful output and what a live run reads; deletes the rest", async () => {
    const store = await SqliteRunStore.open(path.join(dir, "sluice.db"));
    const outputs = new OutputStore(dir);
    const logs = { deleteRun: async () => undefined };
    try {
      const finished = async (createdAt: string, value: number) => {
        const run = await store.createRun({ ...base, logicalDate: createdAt, blocks: ["load"], createdAt });
        const output = await outputs.writeArrow(run.id, "load", tableToIPC(tableFromArrays({ value: Int32Array.from([value]) })));
        await store.updateBlockRun(run.id, "load", { state: "success", output, endedAt: createdAt });
        await store.updateRunState(run.id, "success", { at: createdAt });
        return { run, output };
      };
      const oldest = await finished("2024-01-01T00:00:00.000Z", 1);
      const readByLiveRun = await finished("2024-01-02T00:00:00.000Z", 2);
      const latest = await finished("2024-01-03T00:00:00.000Z", 3);
      // A `--block` run still going that read the second output when it started.
      await store.createRun({ ...base, logicalDate: "2024-03-01T00:00:00.000Z", blocks: ["next"], mode: "block", block: "next", cachedInputs: { load: readByLiveRun.output } });

      const report = await cleanOldRuns({ runs: store, outputs, logs }, { olderThan: 30 * DAY, now: new Date("2024-04-01T00:00:00Z") });
      expect(report.filesDeleted).toBe(3);
      expect(await outputs.read(oldest.run.id, "load")).toBeNull();
      expect((await store.getRun(oldest.run.id))?.blockRuns[0].output).toBeNull();
      expect(await outputs.read(readByLiveRun.run.id, "load")).not.toBeNull();
      const kept = await outputs.read(latest.run.id, "load");
      expect(kept).not.toBeNull();
      if (!kept) throw new Error("the latest output was deleted");
      const page = await outputs.readPage(kept.ref, 0, 10);
      expect(page.rows.map((row) => Number(row.value))).toEqual([3]);
      expect((await store.latestSuccessfulOutput("retention_etl", "load"))?.ref).toEqual(latest.output.ref);
    } finally {
      await outputs.close();
      await store.close();
    }
  });
});
