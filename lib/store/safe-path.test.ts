import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { UserError } from "../core/errors";
import { isErrno, resolveInside } from "./safe-path";

let base: string;
let root: string;

beforeEach(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), "sluice-safe-path-"));
  root = path.join(base, "pipelines");
  await mkdir(path.join(root, "etl"), { recursive: true });
  await writeFile(path.join(root, "etl", "pipeline.yaml"), "version: 1\n");
  await mkdir(path.join(base, "outside"));
  await writeFile(path.join(base, "outside", "secret.txt"), "secret");
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

async function refusal(...segments: string[]): Promise<UserError> {
  try {
    await resolveInside(root, ...segments);
  } catch (error) {
    if (error instanceof UserError) return error;
    throw error;
  }
  throw new Error(`resolveInside accepted ${segments.join("/")}`);
}

describe("resolveInside", () => {
  it("resolves names inside the root, existing or not", async () => {
    expect(await resolveInside(root, "etl", "pipeline.yaml")).toBe(path.join(root, "etl", "pipeline.yaml"));
    expect(await resolveInside(root, "etl", "new_block.ts")).toBe(path.join(root, "etl", "new_block.ts"));
    expect(await resolveInside(root, "new_pipeline", "deep", "file")).toBe(path.join(root, "new_pipeline", "deep", "file"));
    expect(await resolveInside(root, "etl/pipeline.yaml")).toBe(path.join(root, "etl", "pipeline.yaml"));
    expect(await resolveInside(root)).toBe(root);
  });

  it("accepts a relative root", async () => {
    const relative = path.relative(process.cwd(), root);
    expect(await resolveInside(relative, "etl")).toBe(path.join(root, "etl"));
  });

  it.each([
    [["..", "outside", "secret.txt"]],
    [["etl", "..", "..", "outside"]],
    [["etl/../../outside"]],
    [["etl", ".."]],
    [["etl\\..\\..\\outside"]],
  ])("refuses .. in %j", async (segments) => {
    const error = await refusal(...segments);
    expect(error.code).toBe("path_escape");
    expect(error.message).toContain('".." is not accepted');
  });

  it("refuses absolute segments", async () => {
    expect((await refusal("/etc/passwd")).code).toBe("path_escape");
    expect((await refusal("etl", path.join(base, "outside"))).code).toBe("path_escape");
  });

  it("refuses NUL bytes", async () => {
    const error = await refusal("etl\0.yaml");
    expect(error.code).toBe("path_escape");
    expect(error.message).toBe('path "etl\\0.yaml" is not allowed: it contains a NUL byte');
  });

  it("refuses a symlinked folder pointing outside", async () => {
    await symlink(path.join(base, "outside"), path.join(root, "evil"));
    expect((await refusal("evil", "secret.txt")).message).toContain("a symbolic link leads outside the folder");
    expect((await refusal("evil", "not_yet_there.ts")).code).toBe("path_escape");
    expect((await refusal("evil")).code).toBe("path_escape");
  });

  it("refuses a symlinked file pointing outside", async () => {
    await symlink(path.join(base, "outside", "secret.txt"), path.join(root, "etl", "block.ts"));
    expect((await refusal("etl", "block.ts")).code).toBe("path_escape");
  });

  it("refuses a dangling symlink", async () => {
    await symlink(path.join(base, "nowhere"), path.join(root, "etl", "ghost.ts"));
    expect((await refusal("etl", "ghost.ts")).message).toContain("symbolic link to a missing target");
  });

  it("accepts a symlink that stays inside, and a root reached through a symlink", async () => {
    await symlink(path.join(root, "etl"), path.join(root, "alias"));
    expect(await resolveInside(root, "alias", "pipeline.yaml")).toBe(path.join(root, "alias", "pipeline.yaml"));
    const linkedRoot = path.join(base, "linked_root");
    await symlink(root, linkedRoot);
    expect(await resolveInside(linkedRoot, "etl", "pipeline.yaml")).toBe(path.join(linkedRoot, "etl", "pipeline.yaml"));
  });

  it("works when the root does not exist yet", async () => {
    const missingRoot = path.join(base, "not_created");
    expect(await resolveInside(missingRoot, "a", "b")).toBe(path.join(missingRoot, "a", "b"));
  });
});

describe("isErrno", () => {
  it("matches Node system errors by code", () => {
    expect(isErrno(Object.assign(new Error("x"), { code: "ENOENT" }), "ENOENT")).toBe(true);
    expect(isErrno(new Error("x"), "ENOENT")).toBe(false);
    expect(isErrno("ENOENT", "ENOENT")).toBe(false);
  });
});
