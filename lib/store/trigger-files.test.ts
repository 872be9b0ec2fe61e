import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseTriggersYaml } from "../core/triggers-schema";
import { TriggerFiles } from "./trigger-files";

describe("TriggerFiles", () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), "sluice-triggers-"));
    for (const name of ["a", "b", "c"]) {
      mkdirSync(path.join(root, name));
      writeFileSync(path.join(root, name, "pipeline.yaml"), `version: 1\nname: ${name}\nblocks: []\n`);
    }
    mkdirSync(path.join(root, "not_a_pipeline"));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("lists every pipeline's triggers, reports a broken file, and changes version only when a file changes", async () => {
    writeFileSync(path.join(root, "a", "triggers.yaml"), "version: 1\ntriggers:\n  - name: hourly\n    type: schedule\n    schedule: '@hourly'\n");
    writeFileSync(path.join(root, "b", "triggers.yaml"), "version: 1\ntriggers:\n  - name: x\n    type: schedule\n    schedule: '@hourly'\n    timezone: Nowhere/City\n");
    const files = new TriggerFiles(root);
    const first = await files.load();
    expect(first.pipelines.map((p) => [p.pipeline, p.triggers.map((t) => t.name), p.error?.code ?? null])).toEqual([
      ["a", ["hourly"], null],
      ["b", [], "invalid_value"],
      ["c", [], null],
    ]);
    expect(first.pipelines[1].error?.message).toMatch(/^b\/triggers.yaml:6:15: .*unknown time zone/);
    const again = await files.load();
    expect(again.version).toBe(first.version);
    expect(again.pipelines[0]).toBe(first.pipelines[0]); // cached, not re-parsed
    writeFileSync(path.join(root, "a", "triggers.yaml"), "version: 1\ntriggers:\n  - name: daily\n    type: schedule\n    schedule: '@daily'\n");
    const later = new Date(Date.now() + 5000);
    utimesSync(path.join(root, "a", "triggers.yaml"), later, later);
    const changed = await files.load();
    expect(changed.version).not.toBe(first.version);
    expect(changed.pipelines[0].triggers.map((t) => t.name)).toEqual(["daily"]);
  });

  it("writes atomically in the clean format and reads back", async () => {
    const files = new TriggerFiles(root);
    const triggers = parseTriggersYaml("version: 1\ntriggers:\n  - name: hook\n    type: api\n", "x").triggers;
    await files.write("c", triggers);
    expect(await files.read("c")).toEqual(triggers);
    expect(await files.read("a")).toEqual([]);
    expect(await files.find("c", "hook")).toEqual(triggers[0]);
    expect(await files.find("c", "nope")).toBeNull();
    await expect(files.read("../etc")).rejects.toMatchObject({ code: "path_escape" });
    expect(await new TriggerFiles(path.join(root, "missing")).load()).toEqual({ version: "empty", pipelines: [] });
  });
});
