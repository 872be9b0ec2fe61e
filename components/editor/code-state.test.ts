/** The editor's code decisions: when an autosave sends, what a conflict says, what survives a reload, Shift+Enter. */
import { readFileSync } from "node:fs";
import path from "node:path";
import { blockFileName } from "@/lib/core/model";
import { parsePipelineYaml } from "@/lib/core/pipeline-schema";
import type { PipelineDocument } from "@/lib/server/api/pipelines-service";
import { codeStateOf, conflictFor, focusedRunMode, reloadedCode, saveDecision } from "./code-state";
import type { BlockCodeState, EditorState } from "./editor-store";

const EXAMPLE = path.join(__dirname, "../../pipelines/green_taxi_etl");

/** The shipped example pipeline as the editor opens it (GET /api/pipelines/green_taxi_etl). */
function exampleDocument(versionSuffix = "1"): PipelineDocument {
  const pipeline = parsePipelineYaml(readFileSync(path.join(EXAMPLE, "pipeline.yaml"), "utf8"), "pipeline.yaml");
  return {
    pipeline,
    version: `pipeline-${versionSuffix}`,
    blocks: pipeline.blocks.map((b) => ({ name: b.name, code: readFileSync(path.join(EXAMPLE, blockFileName(b)), "utf8"), version: `${b.name}-${versionSuffix}`, exists: true })),
  };
}

function edited(state: BlockCodeState, code: string): BlockCodeState {
  return { ...state, code };
}

describe("loading and saving block code", () => {
  const doc = exampleDocument();
  const code = codeStateOf(doc);
  const clean = code.clean_trips;
  if (!clean) throw new Error("the example has clean_trips");

  it("opens every block of the pipeline with nothing unsaved", () => {
    expect(Object.keys(code)).toEqual(["months", "green_files", "load_green_taxi", "clean_trips", "export_lake", "to_postgres", "to_gcs", "to_bigquery"]);
    expect(clean.code).toContain("FROM load_green_taxi");
    expect(clean).toEqual({ code: clean.savedCode, savedCode: clean.savedCode, version: "clean_trips-1", saving: false });
  });

  it("sends only unsaved code, counts a vanished block as saved, and holds a block in conflict until the user chooses", () => {
    const changed = edited(clean, `${clean.code}\n-- keep only trips with a distance`);
    expect(saveDecision(clean, null, "clean_trips", false)).toBe("skip");
    expect(saveDecision(undefined, null, "clean_trips", false)).toBe("skip");
    expect(saveDecision(changed, null, "clean_trips", false)).toBe("send");
    expect(saveDecision(changed, { block: "clean_trips", message: "changed on disk" }, "clean_trips", false)).toBe("refuse");
    // A conflict on another block or on pipeline.yaml does not hold this one.
    expect(saveDecision(changed, { block: "load_green_taxi", message: "changed on disk" }, "clean_trips", false)).toBe("send");
    expect(saveDecision(changed, { block: null, message: "changed on disk" }, "clean_trips", false)).toBe("send");
    // "Overwrite" sends even unchanged code, over the conflict.
    expect(saveDecision(clean, { block: "clean_trips", message: "changed on disk" }, "clean_trips", true)).toBe("send");
  });
});

describe("conflicts", () => {
  it("names the block or pipeline.yaml when someone else changed it, and passes other refusals through", () => {
    const stale = { code: "stale_version", message: "If-Match does not match the current version" };
    expect(conflictFor("clean_trips", stale).message).toBe('Block "clean_trips" changed since you opened it — in another tab or on disk. Your change was not saved.');
    expect(conflictFor(null, stale)).toEqual({ block: null, message: "pipeline.yaml changed since you opened it — in another tab or on disk. Your change was not saved." });
    expect(conflictFor("clean_trips", { code: "file_exists", message: "clean_trips.sql already exists" })).toEqual({ block: "clean_trips", message: "clean_trips.sql already exists" });
  });
});

describe("reloading the pipeline", () => {
  it("keeps my unsaved edits of blocks unchanged on disk and takes the server's code for the others", () => {
    const mine = codeStateOf(exampleDocument());
    const cleanTrips = mine.clean_trips;
    const loader = mine.load_green_taxi;
    if (!cleanTrips || !loader) throw new Error("the example has these blocks");
    mine.clean_trips = edited(cleanTrips, "select 1");
    mine.load_green_taxi = edited(loader, "// my loader");

    const fresh = exampleDocument("1");
    // Someone else saved load_green_taxi meanwhile: a new version on disk.
    fresh.blocks = fresh.blocks.map((b) => (b.name === "load_green_taxi" ? { ...b, code: "// their loader", version: "load_green_taxi-2" } : b));
    const code = reloadedCode(fresh, mine);

    expect(code.clean_trips?.code).toBe("select 1");
    expect(code.load_green_taxi).toEqual({ code: "// their loader", savedCode: "// their loader", version: "load_green_taxi-2", saving: false });
  });

  it("drops the code of a block removed on disk", () => {
    const mine = codeStateOf(exampleDocument());
    const fresh = exampleDocument();
    fresh.blocks = fresh.blocks.filter((b) => b.name !== "to_bigquery");
    expect(Object.keys(reloadedCode(fresh, mine))).not.toContain("to_bigquery");
  });
});

describe("Shift+Enter", () => {
  const { pipeline } = exampleDocument();
  const base: Pick<EditorState, "pipeline" | "outputs" | "status"> = { pipeline, outputs: {}, status: {} };

  it("runs a block alone once every upstream has an output, else with its upstreams", () => {
    expect(focusedRunMode(base, "months")).toBe("block");
    expect(focusedRunMode(base, "load_green_taxi")).toBe("with_upstream");
    expect(focusedRunMode(base, "clean_trips")).toBe("with_upstream");
    const loaded = { ...base, outputs: { load_green_taxi: { runId: "run_a", serial: 1, endedAt: "2026-01-05T11:59:04.900Z" } } };
    expect(focusedRunMode(loaded, "clean_trips")).toBe("block");
    const succeeded = { ...base, status: { load_green_taxi: { runId: "run_a", state: "success" as const, attempt: 1, rows: 95120, durationMs: 4700, error: null } } };
    expect(focusedRunMode(succeeded, "clean_trips")).toBe("block");
    const failed = { ...base, status: { load_green_taxi: { runId: "run_a", state: "failed" as const, attempt: 3, rows: null, durationMs: 900, error: { code: "http_404", message: "404" } } } };
    expect(focusedRunMode(failed, "clean_trips")).toBe("with_upstream");
  });

  it("does nothing for a block that is not in the pipeline", () => {
    expect(focusedRunMode(base, "no_such_block")).toBeNull();
  });
});
