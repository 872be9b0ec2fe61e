import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { newBlockSpec } from "../core/builders";
import { StaleVersionError, UserError } from "../core/errors";
import { parsePipelineYaml } from "../core/pipeline-schema";
import { contentVersion, PipelineFiles } from "./pipeline-files";

let base: string;
let root: string;
let files: PipelineFiles;

//   load_trips ──► clean_trips ──► to_postgres
//                       └────────► summary (sql)
const ETL_YAML = `version: 1
name: etl
description: Trips ETL # a comment that survives a rename
blocks:
  - name: load_trips
    type: loader
    language: ts
    upstream: []
  - name: clean_trips
    type: transformer
    language: sql
    upstream: [load_trips]
  - name: to_postgres
    type: exporter
    language: ts
    upstream: [clean_trips]
  - name: summary
    type: transformer
    language: sql
    upstream: [clean_trips]
`;

async function writePipeline(name: string, yaml: string, blocks: Record<string, string> = {}): Promise<void> {
  await mkdir(path.join(root, name), { recursive: true });
  await writeFile(path.join(root, name, "pipeline.yaml"), yaml);
  for (const [file, code] of Object.entries(blocks)) await writeFile(path.join(root, name, file), code);
}

const read = (...parts: string[]) => readFile(path.join(root, ...parts), "utf8");

async function caught(promise: Promise<unknown>): Promise<UserError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof UserError) return error;
    throw error;
  }
  throw new Error("expected a UserError");
}

beforeEach(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), "sluice-pipeline-files-"));
  root = path.join(base, "pipelines");
  await mkdir(root);
  files = new PipelineFiles(root);
  await writePipeline("etl", ETL_YAML, {
    "load_trips.ts": "export default async function load() { return []; }\n",
    "clean_trips.sql": "SELECT * FROM load_trips\n",
    "to_postgres.ts": "export default async function save() {}\n",
    "summary.sql": "SELECT count(*) FROM clean_trips\n",
    "triggers.yaml": "triggers: []\n",
    "README.md": "notes\n",
  });
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

describe("contentVersion", () => {
  it("is the first 16 hex chars of sha256, equal for string and bytes", () => {
    expect(contentVersion("")).toBe("e3b0c44298fc1c14");
    expect(contentVersion("abc")).toBe(contentVersion(new TextEncoder().encode("abc")));
    expect(contentVersion("abc")).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe("list", () => {
  it("lists pipelines sorted, broken ones with their error, and skips other folders", async () => {
    await writePipeline("broken", "version: 1\nname: broken\nblocks:\n  - name: a\n    type: loader\n    language: ts\n    upstrem: []\n");
    await writePipeline("aaa_empty", "version: 1\nname: aaa_empty\n");
    await mkdir(path.join(root, "not_a_pipeline"));
    await mkdir(path.join(root, "Bad-Folder"));
    await writeFile(path.join(root, "Bad-Folder", "pipeline.yaml"), "version: 1\nname: x\n");
    await writeFile(path.join(root, "stray.txt"), "x");

    const list = await files.list();
    expect(list.map((p) => p.name)).toEqual(["aaa_empty", "broken", "etl"]);
    expect(list[0]).toEqual({ name: "aaa_empty", description: "", blockCount: 0, version: contentVersion("version: 1\nname: aaa_empty\n") });
    expect(list[2]).toMatchObject({ name: "etl", description: "Trips ETL", blockCount: 4 });
    expect(list[1]).toMatchObject({ name: "broken", description: "", errorCode: "unknown_key" });
    expect(list[1].errorLocation).toMatchObject({ file: "broken/pipeline.yaml", line: 7, path: "blocks[0].upstrem" });
    expect(list[1].error).toContain('broken/pipeline.yaml:7:5: blocks[0].upstrem: unknown key "upstrem"');
    expect(list[1].blockCount).toBeUndefined();
  });

  it("lists nothing when the root does not exist", async () => {
    expect(await new PipelineFiles(path.join(base, "missing")).list()).toEqual([]);
  });
});

describe("read / readBlock", () => {
  it("reads the pipeline with its version and folder", async () => {
    const loaded = await files.read("etl");
    expect(loaded.version).toBe(contentVersion(ETL_YAML));
    expect(loaded.dir).toBe(path.join(root, "etl"));
    expect(loaded.pipeline.blocks.map((b) => b.name)).toEqual(["load_trips", "clean_trips", "to_postgres", "summary"]);
    expect(await files.exists("etl")).toBe(true);
    expect(await files.exists("nope")).toBe(false);
  });

  it("reads a block's spec, code and version", async () => {
    const block = await files.readBlock("etl", "clean_trips");
    expect(block.spec).toMatchObject({ name: "clean_trips", language: "sql", upstream: ["load_trips"] });
    expect(block.code).toBe("SELECT * FROM load_trips\n");
    expect(block.version).toBe(contentVersion("SELECT * FROM load_trips\n"));
    expect(block.exists).toBe(true);
    expect(block.file).toBe(path.join(root, "etl", "clean_trips.sql"));
  });

  it("reads a block whose file is missing as empty", async () => {
    await rm(path.join(root, "etl", "summary.sql"));
    expect(await files.readBlock("etl", "summary")).toMatchObject({ code: "", version: contentVersion(""), exists: false });
  });

  it("reports missing pipelines and blocks as not_found", async () => {
    expect((await caught(files.read("nope"))).code).toBe("not_found");
    expect((await caught(files.readBlock("etl", "nope"))).code).toBe("not_found");
    expect((await caught(files.readBlock("nope", "a"))).code).toBe("not_found");
  });

  it("refuses a name: that does not match the folder, at its line", async () => {
    await writePipeline("moved", "version: 1\nname: original\n");
    const error = await caught(files.read("moved"));
    expect(error.code).toBe("invalid_value");
    expect(error.location).toEqual({ file: "moved/pipeline.yaml", path: "name", line: 2, column: 7 });
  });

  it("refuses names that could leave the root", async () => {
    for (const name of ["../etl", "/etc", "etl/../etl", "a\0b", "", "ETL"]) {
      expect((await caught(files.read(name))).code).toBe("invalid_value");
    }
    expect((await caught(files.readBlock("etl", "../../secret"))).code).toBe("invalid_value");
  });

  it("refuses a pipeline folder that is a symlink to outside the root", async () => {
    await mkdir(path.join(base, "outside"));
    await writeFile(path.join(base, "outside", "pipeline.yaml"), "version: 1\nname: evil\n");
    await symlink(path.join(base, "outside"), path.join(root, "evil"));
    expect((await caught(files.read("evil"))).code).toBe("path_escape");
    expect((await files.list()).map((p) => p.name)).toEqual(["etl"]);
  });

  it("refuses a block file that is a symlink to outside the root", async () => {
    await writeFile(path.join(base, "secret.txt"), "secret");
    await rm(path.join(root, "etl", "summary.sql"));
    await symlink(path.join(base, "secret.txt"), path.join(root, "etl", "summary.sql"));
    expect((await caught(files.readBlock("etl", "summary"))).code).toBe("path_escape");
    expect((await caught(files.writeBlock("etl", "summary", "x", contentVersion("secret")))).code).toBe("path_escape");
    expect(await readFile(path.join(base, "secret.txt"), "utf8")).toBe("secret");
  });
});

describe("create / duplicate", () => {
  it("creates an empty pipeline", async () => {
    const created = await files.create("fresh", { description: "New one" });
    expect(created.pipeline).toEqual({ version: 1, name: "fresh", description: "New one", variables: {}, blocks: [] });
    expect(await read("fresh", "pipeline.yaml")).toBe("version: 1\nname: fresh\ndescription: New one\nblocks: []\n");
    expect((await readdir(root)).sort()).toEqual(["etl", "fresh"]);
  });

  it("refuses an existing name and a bad name", async () => {
    expect((await caught(files.create("etl"))).code).toBe("already_exists");
    await mkdir(path.join(root, "plain_folder"));
    expect((await caught(files.create("plain_folder"))).code).toBe("already_exists");
    expect((await caught(files.create("Bad Name"))).code).toBe("invalid_value");
  });

  it("copies a pipeline with its block files and other files, but not its triggers", async () => {
    const copy = await files.create("etl_copy", { from: "etl" });
    expect(copy.pipeline.name).toBe("etl_copy");
    expect(copy.pipeline.description).toBe("Trips ETL");
    expect(copy.pipeline.blocks).toEqual((await files.read("etl")).pipeline.blocks);
    expect((await readdir(path.join(root, "etl_copy"))).sort()).toEqual([
      "README.md",
      "clean_trips.sql",
      "load_trips.ts",
      "pipeline.yaml",
      "summary.sql",
      "to_postgres.ts",
    ]);
    expect(await read("etl_copy", "clean_trips.sql")).toBe("SELECT * FROM load_trips\n");
    expect((await readdir(root)).sort()).toEqual(["etl", "etl_copy"]);
  });

  it("duplicates, and refuses a missing source without leaving a folder behind", async () => {
    await files.duplicate("etl", "etl2");
    expect((await files.read("etl2")).pipeline.name).toBe("etl2");
    expect((await caught(files.create("x", { from: "nope" }))).code).toBe("not_found");
    expect((await readdir(root)).sort()).toEqual(["etl", "etl2"]);
  });
});

describe("rename / delete", () => {
  it("renames the folder and the name:, keeping comments", async () => {
    const { version } = await files.read("etl");
    const renamed = await files.rename("etl", "trips", { expectedVersion: version });
    expect(renamed.pipeline.name).toBe("trips");
    expect((await readdir(root)).sort()).toEqual(["trips"]);
    const text = await read("trips", "pipeline.yaml");
    expect(text).toContain("name: trips\n");
    expect(text).toContain("# a comment that survives a rename");
    expect(await read("trips", "summary.sql")).toBe("SELECT count(*) FROM clean_trips\n");
  });

  it("refuses to rename onto an existing pipeline, or from a stale version", async () => {
    await files.create("other");
    expect((await caught(files.rename("etl", "other"))).code).toBe("already_exists");
    expect((await caught(files.rename("etl", "x", { expectedVersion: "0000000000000000" }))).code).toBe("stale_version");
    expect(await files.exists("etl")).toBe(true);
  });

  it("deletes a pipeline folder", async () => {
    await files.delete("etl", { expectedVersion: contentVersion(ETL_YAML) });
    expect(await readdir(root)).toEqual([]);
    expect((await caught(files.delete("etl"))).code).toBe("not_found");
  });

  it("refuses to delete from a stale version", async () => {
    expect((await caught(files.delete("etl", { expectedVersion: "stale" }))).code).toBe("stale_version");
    expect(await files.exists("etl")).toBe(true);
  });
});

describe("savePipeline", () => {
  it("writes the validated pipeline and returns the new version", async () => {
    const { pipeline, version } = await files.read("etl");
    const edited = { ...pipeline, description: "Edited", variables: { months: [10, 11] } };
    const saved = await files.savePipeline("etl", edited, version);
    const text = await read("etl", "pipeline.yaml");
    expect(saved.version).toBe(contentVersion(text));
    expect(parsePipelineYaml(text, "p.yaml")).toEqual(edited);
  });

  it("refuses a stale version with the current one, and changes nothing", async () => {
    const { pipeline, version } = await files.read("etl");
    const handEdited = ETL_YAML.replace("Trips ETL", "Edited by hand");
    await writeFile(path.join(root, "etl", "pipeline.yaml"), handEdited);
    const error = await caught(files.savePipeline("etl", { ...pipeline, description: "From the editor" }, version));
    expect(error).toBeInstanceOf(StaleVersionError);
    expect(error.code).toBe("stale_version");
    expect(error instanceof StaleVersionError && error.currentVersion).toBe(contentVersion(handEdited));
    expect(error.location.file).toBe("etl/pipeline.yaml");
    expect(await read("etl", "pipeline.yaml")).toBe(handEdited);
  });

  it("validates before writing", async () => {
    const { pipeline, version } = await files.read("etl");
    const broken = { ...pipeline, blocks: [...pipeline.blocks, newBlockSpec({ name: "x", upstream: ["ghost"] })] };
    const error = await caught(files.savePipeline("etl", broken, version));
    expect(error.code).toBe("missing_upstream");
    expect(error.location).toMatchObject({ file: "etl/pipeline.yaml", path: "blocks[4].upstream[0]", block: "x" });
    expect(await read("etl", "pipeline.yaml")).toBe(ETL_YAML);
  });

  it("refuses to change the name through save", async () => {
    const { pipeline, version } = await files.read("etl");
    expect((await caught(files.savePipeline("etl", { ...pipeline, name: "other" }, version))).code).toBe("invalid_value");
  });

  it("lets exactly one of two concurrent saves from the same version win", async () => {
    const { pipeline, version } = await files.read("etl");
    const results = await Promise.allSettled([
      files.savePipeline("etl", { ...pipeline, description: "first" }, version),
      files.savePipeline("etl", { ...pipeline, description: "second" }, version),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected"]);
    expect((await files.read("etl")).pipeline.description).toBe("first");
  });
});

describe("writeBlock", () => {
  it("writes code and returns its version; a stale version changes nothing", async () => {
    const block = await files.readBlock("etl", "clean_trips");
    const written = await files.writeBlock("etl", "clean_trips", "SELECT 1\n", block.version);
    expect(written.version).toBe(contentVersion("SELECT 1\n"));
    expect(await read("etl", "clean_trips.sql")).toBe("SELECT 1\n");
    const error = await caught(files.writeBlock("etl", "clean_trips", "SELECT 2\n", block.version));
    expect(error.code).toBe("stale_version");
    expect(error instanceof StaleVersionError && error.currentVersion).toBe(written.version);
    expect(await read("etl", "clean_trips.sql")).toBe("SELECT 1\n");
  });

  it("creates a missing file from the version of empty content", async () => {
    await rm(path.join(root, "etl", "summary.sql"));
    await files.writeBlock("etl", "summary", "SELECT 2\n", contentVersion(""));
    expect(await read("etl", "summary.sql")).toBe("SELECT 2\n");
  });

  it("refuses an unknown block", async () => {
    expect((await caught(files.writeBlock("etl", "ghost", "x", contentVersion("")))).code).toBe("not_found");
  });
});

describe("addBlock / removeBlock", () => {
  it("adds a block and its file", async () => {
    const spec = newBlockSpec({ name: "report", type: "exporter", upstream: ["summary"] });
    const result = await files.addBlock("etl", spec, "export default async function save() {}\n", { expectedVersion: contentVersion(ETL_YAML) });
    const loaded = await files.read("etl");
    expect(loaded.version).toBe(result.pipelineVersion);
    expect(loaded.pipeline.blocks[4]).toEqual(spec);
    expect(result.blockVersion).toBe(contentVersion(await read("etl", "report.ts")));
  });

  it("refuses a duplicate or invalid block, or a file already there, changing nothing", async () => {
    expect((await caught(files.addBlock("etl", newBlockSpec({ name: "summary", language: "sql" }), "x"))).code).toBe("duplicate_block");
    expect((await caught(files.addBlock("etl", newBlockSpec({ name: "x", upstream: ["ghost"] }), "x"))).code).toBe("missing_upstream");
    expect((await caught(files.addBlock("etl", newBlockSpec({ name: "../x" }), "x"))).code).toBe("invalid_value");
    await writeFile(path.join(root, "etl", "orphan.ts"), "keep me");
    expect((await caught(files.addBlock("etl", newBlockSpec({ name: "orphan" }), "x"))).code).toBe("already_exists");
    expect(await read("etl", "orphan.ts")).toBe("keep me");
    expect(await read("etl", "pipeline.yaml")).toBe(ETL_YAML);
    expect((await caught(files.addBlock("etl", newBlockSpec({ name: "y" }), "x", { expectedVersion: "old" }))).code).toBe("stale_version");
  });

  it("removes a leaf block and its file", async () => {
    await files.removeBlock("etl", "to_postgres");
    expect((await files.read("etl")).pipeline.blocks.map((b) => b.name)).toEqual(["load_trips", "clean_trips", "summary"]);
    expect((await readdir(path.join(root, "etl"))).includes("to_postgres.ts")).toBe(false);
  });

  it("refuses to remove a block others depend on, naming them", async () => {
    const error = await caught(files.removeBlock("etl", "clean_trips"));
    expect(error.code).toBe("block_in_use");
    expect(error.message).toBe(
      'block "clean_trips" is an upstream of "to_postgres", "summary"; remove it from their upstream lists first, or remove it with detach',
    );
    expect(await read("etl", "pipeline.yaml")).toBe(ETL_YAML);
  });

  it("detaches downstream blocks when asked", async () => {
    await files.removeBlock("etl", "clean_trips", { detach: true });
    const { pipeline } = await files.read("etl");
    expect(pipeline.blocks.map((b) => [b.name, b.upstream])).toEqual([
      ["load_trips", []],
      ["to_postgres", []],
      ["summary", []],
    ]);
    expect((await readdir(path.join(root, "etl"))).includes("clean_trips.sql")).toBe(false);
  });
});

describe("renameBlock", () => {
  //   load_trips ──► clean_trips ──► to_postgres          load_trips ──► trips ──► to_postgres
  //                       └────────► summary (sql)   ⇒                     └─────► summary (sql)
  it("renames the file and every upstream reference, not the SQL text", async () => {
    const result = await files.renameBlock("etl", "clean_trips", "trips");
    const { pipeline, version } = await files.read("etl");
    expect(version).toBe(result.pipelineVersion);
    expect(pipeline.blocks.map((b) => [b.name, b.upstream])).toEqual([
      ["load_trips", []],
      ["trips", ["load_trips"]],
      ["to_postgres", ["trips"]],
      ["summary", ["trips"]],
    ]);
    expect(await read("etl", "trips.sql")).toBe("SELECT * FROM load_trips\n");
    expect((await readdir(path.join(root, "etl"))).includes("clean_trips.sql")).toBe(false);
    expect(await read("etl", "summary.sql")).toBe("SELECT count(*) FROM clean_trips\n");
    expect(result.downstreamToReview).toEqual(["to_postgres", "summary"]);
    expect(result.blockVersion).toBe(contentVersion("SELECT * FROM load_trips\n"));
  });

  it("refuses a taken or invalid new name, changing nothing", async () => {
    expect((await caught(files.renameBlock("etl", "clean_trips", "summary"))).code).toBe("duplicate_block");
    expect((await caught(files.renameBlock("etl", "clean_trips", "Bad"))).code).toBe("invalid_value");
    await writeFile(path.join(root, "etl", "taken.sql"), "x");
    expect((await caught(files.renameBlock("etl", "clean_trips", "taken"))).code).toBe("already_exists");
    expect((await caught(files.renameBlock("etl", "ghost", "x"))).code).toBe("not_found");
    expect(await read("etl", "pipeline.yaml")).toBe(ETL_YAML);
    expect(await read("etl", "clean_trips.sql")).toBe("SELECT * FROM load_trips\n");
  });
});

describe("edits keep the file's comments and layout", () => {
  const COMMENTED = `# The trips ETL — hand-written.
version: 1
name: etl
description: Trips ETL   # shown on the home page

blocks:
  # Reads the TLC files.
  - name: load_trips
    type: loader
    language: ts

  - name: clean_trips   # drops bad rows
    type: transformer
    language: sql
    upstream: [load_trips]
`;

  beforeEach(async () => {
    await writePipeline("etl", COMMENTED, { "load_trips.ts": "export default async function load() { return []; }\n", "clean_trips.sql": "SELECT * FROM load_trips\n" });
  });

  it("applyChanges writes only what changed, on top of the version read", async () => {
    const { version } = await files.read("etl");
    const saved = await files.applyChanges("etl", [{ type: "set_variable", name: "year", value: 2021 }, { type: "set_block_settings", block: "clean_trips", settings: { timeoutMs: 600_000 } }], version);
    const text = await readFile(path.join(root, "etl", "pipeline.yaml"), "utf8");
    expect(text).toBe(COMMENTED.replace("\nblocks:", "variables:\n  year: 2021\n\nblocks:").replace("upstream: [load_trips]\n", "upstream: [load_trips]\n    timeout: 10m\n"));
    expect(saved.version).toBe(contentVersion(text));
    expect(saved.pipeline.variables).toEqual({ year: 2021 });
    expect(await caught(files.applyChanges("etl", [{ type: "set_description", description: "late" }], version))).toBeInstanceOf(StaleVersionError);
  });

  it("refuses a change that breaks the file with the located error, and leaves the file as it was", async () => {
    const { version } = await files.read("etl");
    const error = await caught(files.applyChanges("etl", [{ type: "set_block_settings", block: "clean_trips", settings: { memoryBytes: 1024 ** 3 } }], version));
    expect(error.message).toMatch(/^etl\/pipeline\.yaml:\d+:\d+: blocks\[1\]\.memory: applies to TypeScript blocks only/);
    expect(await readFile(path.join(root, "etl", "pipeline.yaml"), "utf8")).toBe(COMMENTED);
  });

  it("adding, renaming and removing blocks touch only their lines", async () => {
    await files.addBlock("etl", newBlockSpec({ name: "save", type: "exporter", upstream: ["clean_trips"] }), "export default async function save() {}\n");
    await files.renameBlock("etl", "clean_trips", "tidy_trips");
    await files.removeBlock("etl", "save");
    expect(await readFile(path.join(root, "etl", "pipeline.yaml"), "utf8")).toBe(COMMENTED.replace("clean_trips   # drops", "tidy_trips   # drops"));
  });
});
