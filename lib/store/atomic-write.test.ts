import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { OperationalError } from "../core/errors";
import { writeFileAtomic } from "./atomic-write";

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "sluice-atomic-"));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("writeFileAtomic", () => {
  it("creates a file and leaves no temporary file behind", async () => {
    const file = path.join(dir, "pipeline.yaml");
    await writeFileAtomic(file, "version: 1\n");
    expect(await readFile(file, "utf8")).toBe("version: 1\n");
    expect(await readdir(dir)).toEqual(["pipeline.yaml"]);
  });

  it("replaces an existing file and keeps its permissions", async () => {
    const file = path.join(dir, "run.sh");
    await writeFile(file, "old");
    await chmod(file, 0o750);
    await writeFileAtomic(file, new TextEncoder().encode("new"));
    expect(await readFile(file, "utf8")).toBe("new");
    expect((await stat(file)).mode & 0o777).toBe(0o750);
  });

  it("uses an explicit mode for a new file", async () => {
    const file = path.join(dir, "secret.txt");
    await writeFileAtomic(file, "x", { mode: 0o600 });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it("fails as an OperationalError without touching anything when the folder is missing", async () => {
    const file = path.join(dir, "missing", "file.txt");
    await expect(writeFileAtomic(file, "x")).rejects.toBeInstanceOf(OperationalError);
    await expect(writeFileAtomic(file, "x")).rejects.toMatchObject({ code: "write_failed" });
    expect(await readdir(dir)).toEqual([]);
  });

  it("leaves the old content when the rename cannot happen", async () => {
    // A folder where the file should be: the rename fails, the temp file is cleaned up.
    const target = path.join(dir, "target");
    await writeFile(path.join(dir, "keep.txt"), "kept");
    await mkdir(path.join(target, "inner"), { recursive: true });
    await expect(writeFileAtomic(target, "x")).rejects.toBeInstanceOf(OperationalError);
    expect((await readdir(dir)).sort()).toEqual(["keep.txt", "target"]);
  });

  it("survives many concurrent writers: the file is always one complete version", async () => {
    const file = path.join(dir, "busy.txt");
    const versions = Array.from({ length: 20 }, (_, i) => `version ${i}\n`.repeat(1000));
    await Promise.all(versions.map((content) => writeFileAtomic(file, content)));
    expect(versions).toContain(await readFile(file, "utf8"));
    expect(await readdir(dir)).toEqual(["busy.txt"]);
  });
});
