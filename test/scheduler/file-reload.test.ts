/**
 * The loop re-reads `triggers.yaml` when it changes: a trigger added by hand (or by the triggers page)
 * fires within about a second, and one deleted from the file stops firing.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Scheduler } from "../../lib/scheduler/scheduler";
import { recordingStartRun } from "../../lib/scheduler/test-helpers";
import { SqliteRunStore } from "../../lib/store/metadata/sqlite-run-store";
import { TriggerFiles } from "../../lib/store/trigger-files";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("Scheduler.start with TriggerFiles", () => {
  it("picks up an added trigger and drops a deleted one", async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), "sluice-reload-"));
    const store = await SqliteRunStore.open(":memory:");
    try {
      mkdirSync(path.join(root, "etl"));
      writeFileSync(path.join(root, "etl", "pipeline.yaml"), "version: 1\nname: etl\nblocks: []\n");
      const recorder = recordingStartRun(store);
      const scheduler = new Scheduler({ store: store.triggers, source: new TriggerFiles(root), startRun: recorder.startRun });
      scheduler.start();
      await sleep(300);
      expect(recorder.requests).toEqual([]);
      writeFileSync(
        path.join(root, "etl", "triggers.yaml"),
        "version: 1\ntriggers:\n  - name: fast\n    type: schedule\n    interval: 1s\n    missed_run_policy: none\n",
      );
      await sleep(2600);
      const fired = recorder.requests.length;
      expect(fired).toBeGreaterThanOrEqual(1);
      expect(recorder.requests.every((r) => r.pipeline === "etl" && r.triggerId === "fast")).toBe(true);
      writeFileSync(path.join(root, "etl", "triggers.yaml"), "version: 1\ntriggers: []\n");
      await sleep(1300);
      const afterDelete = recorder.requests.length;
      await sleep(1500);
      expect(recorder.requests.length).toBe(afterDelete);
      await scheduler.stop();
      expect(await store.triggers.listTriggerStates()).toEqual([]);
    } finally {
      await store.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
