/**
 * The pipelines folder on disk: one folder per pipeline with `pipeline.yaml`, one code file
 * per block (`<block>.ts` / `<block>.sql`) and an optional `triggers.yaml`. The editor, the API and the
 * CLI read and write pipelines only through this class, so that:
 * - every write is atomic (temp file + fsync + rename) and carries the version it was based on, so a
 *   stale editor tab cannot silently overwrite a newer file (a hand edit, another tab, a `git pull`);
 * - every path is built from validated names through `resolveInside`, so no request leaves the root;
 * - the YAML is always validated (`validatePipeline`) before it is written.
 *
 * Versions are content hashes (`contentVersion`), so a file edited by hand gets a new version without
 * any bookkeeping. Writes made through one `PipelineFiles` are serialised in process; two processes
 * writing the same file at the same instant can still race between the version check and the rename.
 */
import { createHash, randomBytes } from "node:crypto";
import { copyFile, lstat, mkdir, readdir, readFile, rename, rm, unlink } from "node:fs/promises";
import path from "node:path";
import { parseDocument } from "yaml";
import { newPipeline } from "../core/builders";
import { isSluiceError, messageOf, OperationalError, StaleVersionError, UnexpectedError, UserError, type ErrorLocation } from "../core/errors";
import { blockFileName, NAME_PATTERN, type BlockSpec, type Pipeline } from "../core/model";
import type { PipelineChange } from "../core/pipeline-changes";
import { parsePipelineYaml, serializePipeline, validatePipeline } from "../core/pipeline-schema";
import { editPipelineYaml, updatePipelineYaml } from "../core/yaml-edit";
import { loadYaml } from "../core/yaml-file";
import { syncDirectory, writeFileAtomic } from "./atomic-write";
import { isErrno, resolveInside } from "./safe-path";

/** The pipeline definition inside each pipeline folder. */
export const PIPELINE_FILE = "pipeline.yaml";
/** Optional schedules and API triggers of a pipeline (owned by the triggers code; not copied by `create`). */
export const TRIGGERS_FILE = "triggers.yaml";

/**
 * The version of a file: the first 16 hex characters of the SHA-256 of its bytes. Content-derived, so
 * two readers of the same bytes agree without any shared state. A missing block file has the version
 * of empty content.
 */
export function contentVersion(content: string | Uint8Array): string {
  return createHash("sha256").update(content).digest("hex").slice(0, 16);
}

/**
 * One row of the pipelines list. A pipeline that cannot be read is listed with its error (and no
 * block count or version) instead of failing the list.
 */
export interface PipelineSummary {
  name: string;
  /** Empty for a pipeline that cannot be read. */
  description: string;
  /** Number of blocks; absent when the pipeline cannot be read. */
  blockCount?: number;
  /** Version of `pipeline.yaml`; absent when the pipeline cannot be read. */
  version?: string;
  /** Why the pipeline cannot be used: the message of the error `read` would throw (starts with `file:line:col:`). */
  error?: string;
  /** Code of that error (`unknown_key`, `cycle`, `invalid_yaml`, …). */
  errorCode?: string;
  /** Location of that error (file relative to the root, key path, line, column, block). */
  errorLocation?: ErrorLocation;
}

/** A pipeline as read from disk. */
export interface LoadedPipeline {
  pipeline: Pipeline;
  /** Version of `pipeline.yaml`: pass it back as `expectedVersion` when saving. */
  version: string;
  /** Absolute path of the pipeline folder. */
  dir: string;
}

/** A block's settings and code. */
export interface LoadedBlock {
  spec: BlockSpec;
  /** The code file's content; empty when the file does not exist yet. */
  code: string;
  /** Version of the code file: pass it back to `writeBlock`. */
  version: string;
  /** Absolute path of the code file. */
  file: string;
  /** False when `pipeline.yaml` lists the block but its file is missing (e.g. after a hand edit). */
  exists: boolean;
}

/** Options of structural edits: the `pipeline.yaml` version they were based on, checked when given. */
export interface EditOptions {
  expectedVersion?: string;
}

/** Versions after an edit that touched `pipeline.yaml` and a block file. */
export interface BlockEditResult {
  pipelineVersion: string;
  blockVersion: string;
}

/** Result of `renameBlock`. */
export interface RenameBlockResult extends BlockEditResult {
  /**
   * Direct downstream blocks whose `upstream:` entry was rewritten but whose code still uses the old
   * name (`ctx.inputs.<old>` in TypeScript, the table `<old>` in SQL); the editor should point at them.
   */
  downstreamToReview: string[];
}

/**
 * File-system access to a folder of pipelines. See the module comment for the guarantees. Create one
 * instance per root and share it (the server wires it once): writes are serialised per instance.
 */
export class PipelineFiles {
  /** Absolute path of the pipelines folder. */
  readonly root: string;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  /**
   * Every pipeline folder (a folder named `[a-z0-9_]+` holding `pipeline.yaml`), sorted by name. A
   * pipeline that fails to load is listed with its `error` instead of failing the whole list, so one bad
   * hand edit does not hide every other pipeline. A missing root lists nothing.
   */
  async list(): Promise<PipelineSummary[]> {
    let entries;
    try {
      entries = await readdir(this.root, { withFileTypes: true });
    } catch (error) {
      if (isErrno(error, "ENOENT")) return [];
      throw ioError("list pipelines", ".", error);
    }
    const names = entries.filter((e) => e.isDirectory() && NAME_PATTERN.test(e.name)).map((e) => e.name);
    const summaries: PipelineSummary[] = [];
    for (const name of names.sort()) {
      const file = path.join(this.root, name, PIPELINE_FILE);
      if (!(await isFile(file))) continue;
      try {
        const { pipeline, version } = await this.read(name);
        summaries.push({ name, description: pipeline.description, blockCount: pipeline.blocks.length, version });
      } catch (error) {
        const known = isSluiceError(error) ? error : new UnexpectedError("unexpected", messageOf(error));
        summaries.push({ name, description: "", error: known.message, errorCode: known.code, errorLocation: known.location });
      }
    }
    return summaries;
  }

  /** Whether a pipeline folder with a `pipeline.yaml` exists (valid or not). */
  async exists(name: string): Promise<boolean> {
    assertName(name, "pipeline");
    return isFile(await resolveInside(this.root, name, PIPELINE_FILE));
  }

  /**
   * Read and validate a pipeline.
   *
   * @throws UserError `not_found`, any `parsePipelineYaml` error (file named `<name>/pipeline.yaml`),
   *   or `invalid_value` when the `name:` in the file differs from the folder name.
   */
  async read(name: string): Promise<LoadedPipeline> {
    const { pipeline, version, dir } = await this.load(name);
    return { pipeline, version, dir };
  }

  /**
   * A block's settings, code and code version.
   *
   * @throws UserError `not_found` for an unknown pipeline or block, or the pipeline's parse error.
   */
  async readBlock(pipelineName: string, blockName: string): Promise<LoadedBlock> {
    const { pipeline } = await this.load(pipelineName);
    const spec = findBlock(pipeline, blockName);
    const file = await resolveInside(this.root, pipelineName, blockFileName(spec));
    const current = await readVersioned(file, displayPath(pipelineName, blockFileName(spec)));
    return { spec, code: current?.text ?? "", version: current?.version ?? contentVersion(""), file, exists: current !== null };
  }

  /**
   * Create a pipeline folder: empty, or a copy of pipeline `from` (its `pipeline.yaml` with the new
   * name, its block files and any other regular files; not `triggers.yaml`, whose schedules and API
   * tokens belong to the original, and not symlinks). The folder is assembled under a temporary name
   * and renamed into place, so it appears complete or not at all.
   *
   * @throws UserError `invalid_value` for a bad name, `already_exists`, `not_found` for `from`.
   */
  async create(name: string, options: { from?: string; description?: string } = {}): Promise<LoadedPipeline> {
    assertName(name, "pipeline");
    return this.exclusive(async () => {
      const dir = await resolveInside(this.root, name);
      if (await exists(dir)) throw new UserError("already_exists", `a pipeline or folder named "${name}" already exists`);
      const pipeline = newPipeline(name, { description: options.description ?? "" });
      let text = serializePipeline(pipeline);
      await mkdir(this.root, { recursive: true });
      const staging = await resolveInside(this.root, `.create-${name}-${randomBytes(4).toString("hex")}`);
      try {
        if (options.from !== undefined) {
          const source = await this.load(options.from);
          // A copy keeps the source's comments and layout: only the name (and description) change.
          text = updatePipelineYaml(source.text, source.pipeline, { ...source.pipeline, name, description: options.description ?? source.pipeline.description });
          await copyTree(source.dir, staging, (relative) => relative !== TRIGGERS_FILE && relative !== PIPELINE_FILE);
        } else {
          await mkdir(staging);
        }
        await writeFileAtomic(path.join(staging, PIPELINE_FILE), text);
        try {
          await rename(staging, dir);
        } catch (error) {
          if (isErrno(error, "ENOTEMPTY") || isErrno(error, "EEXIST")) throw new UserError("already_exists", `a pipeline or folder named "${name}" already exists`);
          throw error;
        }
      } catch (error) {
        await rm(staging, { recursive: true, force: true });
        throw isSluiceError(error) ? error : ioError("create", name, error);
      }
      await syncDirectory(this.root);
      return this.read(name);
    });
  }

  /** Copy pipeline `name` to `newName` (see `create` with `from`). */
  async duplicate(name: string, newName: string): Promise<LoadedPipeline> {
    return this.create(newName, { from: name });
  }

  /**
   * Rename a pipeline: its folder and the `name:` in its `pipeline.yaml` (other content, comments
   * included, is kept). Runs, outputs and triggers recorded elsewhere under the old name are not
   * touched.
   *
   * @throws UserError `not_found`, `already_exists`, `invalid_value` for a bad new name, `stale_version`.
   */
  async rename(oldName: string, newName: string, options: EditOptions = {}): Promise<LoadedPipeline> {
    assertName(oldName, "pipeline");
    assertName(newName, "pipeline");
    return this.exclusive(async () => {
      const current = await this.load(oldName);
      checkVersion(options.expectedVersion, current.version, displayPath(oldName, PIPELINE_FILE));
      if (oldName === newName) return { pipeline: current.pipeline, version: current.version, dir: current.dir };
      const dir = await resolveInside(this.root, newName);
      if (await exists(dir)) throw new UserError("already_exists", `a pipeline or folder named "${newName}" already exists`);
      const doc = parseDocument(current.text);
      doc.set("name", newName);
      const text = doc.toString();
      await renameOrFail(current.dir, dir, oldName);
      try {
        await writeFileAtomic(await resolveInside(this.root, newName, PIPELINE_FILE), text);
      } catch (error) {
        await rename(dir, current.dir).catch(() => undefined);
        throw error;
      }
      await syncDirectory(this.root);
      return this.read(newName);
    });
  }

  /**
   * Delete a pipeline folder and everything in it. The folder is first renamed away, so readers never
   * see it half-deleted.
   *
   * @throws UserError `not_found`, `stale_version`.
   */
  async delete(name: string, options: EditOptions = {}): Promise<void> {
    assertName(name, "pipeline");
    await this.exclusive(async () => {
      const dir = await resolveInside(this.root, name);
      const file = await resolveInside(this.root, name, PIPELINE_FILE);
      const current = await readVersioned(file, displayPath(name, PIPELINE_FILE));
      if (current === null) throw notFound(name);
      checkVersion(options.expectedVersion, current.version, displayPath(name, PIPELINE_FILE));
      const trash = await resolveInside(this.root, `.delete-${name}-${randomBytes(4).toString("hex")}`);
      await renameOrFail(dir, trash, name);
      await syncDirectory(this.root);
      await rm(trash, { recursive: true, force: true });
    });
  }

  /**
   * Replace `pipeline.yaml` with `pipeline` (validated first). Only what differs is rewritten: comments,
   * key order and formatting of the file stay (`updatePipelineYaml`).
   * Block files are not created, renamed or deleted here: use `addBlock`, `renameBlock`, `removeBlock`
   * for that, or a block added here reads as empty code until written.
   *
   * @throws UserError `stale_version` (with the current version) when the file changed since
   *   `expectedVersion`; a validation error; `invalid_value` when `pipeline.name` is not `name`.
   */
  async savePipeline(name: string, pipeline: Pipeline, expectedVersion: string): Promise<{ version: string }> {
    assertName(name, "pipeline");
    if (pipeline.name !== name) {
      throw new UserError("invalid_value", `the pipeline is named "${pipeline.name}" but is saved as "${name}"; use rename to change a pipeline's name`, {
        file: displayPath(name, PIPELINE_FILE),
        path: "name",
      });
    }
    validatePipeline(pipeline, displayPath(name, PIPELINE_FILE));
    return this.exclusive(async () => {
      const file = await resolveInside(this.root, name, PIPELINE_FILE);
      const current = await this.load(name);
      checkVersion(expectedVersion, current.version, displayPath(name, PIPELINE_FILE));
      return { version: await writeIfChanged(file, updatePipelineYaml(current.text, current.pipeline, pipeline), current.text) };
    });
  }

  /**
   * Apply editor changes to `pipeline.yaml` through its YAML document (comments and formatting stay), on top
   * of `expectedVersion`. The edited text is validated as if written by hand.
   *
   * @throws UserError `stale_version`; the refusal of a change (`cycle`, `missing_upstream`, `not_found`…);
   *   the located error of a result that is not a valid pipeline.
   */
  async applyChanges(name: string, changes: readonly PipelineChange[], expectedVersion: string): Promise<{ version: string; pipeline: Pipeline }> {
    return this.exclusive(async () => {
      const current = await this.load(name);
      const shown = displayPath(name, PIPELINE_FILE);
      checkVersion(expectedVersion, current.version, shown);
      const edited = editPipelineYaml(current.text, shown, changes);
      if (!edited.ok) {
        const { error } = edited;
        if (error instanceof UserError) throw error;
        throw new UserError(error.code, error.message, { file: shown, ...(error.block ? { block: error.block } : {}) });
      }
      return { version: await writeIfChanged(await this.pipelineFile(name), edited.text, current.text), pipeline: edited.pipeline };
    });
  }

  /**
   * Replace a block's code.
   *
   * @throws UserError `not_found` for an unknown pipeline or block; `stale_version` (with the current
   *   version) when the file changed since `expectedVersion`.
   */
  async writeBlock(pipelineName: string, blockName: string, code: string, expectedVersion: string): Promise<{ version: string }> {
    return this.exclusive(async () => {
      const { pipeline } = await this.load(pipelineName);
      const spec = findBlock(pipeline, blockName);
      const file = await resolveInside(this.root, pipelineName, blockFileName(spec));
      const shown = displayPath(pipelineName, blockFileName(spec));
      const current = await readVersioned(file, shown);
      checkVersion(expectedVersion, current?.version ?? contentVersion(""), shown);
      return { version: await writeIfChanged(file, code, current?.text) };
    });
  }

  /**
   * Add a block at the end of the pipeline and write its code file (the file first, so the pipeline
   * never lists a block whose file was not written).
   *
   * @throws UserError from validation (bad name, duplicate, missing upstream…), `already_exists` when a
   *   file of that name is already in the folder, `stale_version`.
   */
  async addBlock(pipelineName: string, spec: BlockSpec, code: string, options: EditOptions = {}): Promise<BlockEditResult> {
    return this.exclusive(async () => {
      const current = await this.load(pipelineName);
      checkVersion(options.expectedVersion, current.version, displayPath(pipelineName, PIPELINE_FILE));
      const next: Pipeline = { ...current.pipeline, blocks: [...current.pipeline.blocks, spec] };
      validatePipeline(next, displayPath(pipelineName, PIPELINE_FILE));
      const file = await resolveInside(this.root, pipelineName, blockFileName(spec));
      if (await exists(file)) {
        throw new UserError("already_exists", `${displayPath(pipelineName, blockFileName(spec))} already exists; delete it or choose another block name`, {
          block: spec.name,
        });
      }
      await writeFileAtomic(file, code);
      const pipelineVersion = await writeIfChanged(await this.pipelineFile(pipelineName), updatePipelineYaml(current.text, current.pipeline, next), current.text);
      return { pipelineVersion, blockVersion: contentVersion(code) };
    });
  }

  /**
   * Remove a block from `pipeline.yaml` and delete its code file. Refused while other blocks list it
   * as upstream, unless `detach` is set: then it is also removed from their `upstream:` lists (their
   * code may still read it — `ctx.inputs.<block>` or the SQL table — and will fail at run time).
   *
   * @throws UserError `not_found`, `block_in_use` naming the downstream blocks, `stale_version`.
   */
  async removeBlock(pipelineName: string, blockName: string, options: EditOptions & { detach?: boolean } = {}): Promise<{ pipelineVersion: string }> {
    return this.exclusive(async () => {
      const current = await this.load(pipelineName);
      checkVersion(options.expectedVersion, current.version, displayPath(pipelineName, PIPELINE_FILE));
      const spec = findBlock(current.pipeline, blockName);
      const downstream = current.pipeline.blocks.filter((b) => b.upstream.includes(blockName)).map((b) => b.name);
      if (downstream.length > 0 && options.detach !== true) {
        throw new UserError(
          "block_in_use",
          `block "${blockName}" is an upstream of ${downstream.map((d) => `"${d}"`).join(", ")}; remove it from their upstream lists first, or remove it with detach`,
          { file: displayPath(pipelineName, PIPELINE_FILE), block: blockName },
        );
      }
      const next: Pipeline = {
        ...current.pipeline,
        blocks: current.pipeline.blocks.filter((b) => b.name !== blockName).map((b) => ({ ...b, upstream: b.upstream.filter((u) => u !== blockName) })),
      };
      validatePipeline(next, displayPath(pipelineName, PIPELINE_FILE));
      const pipelineVersion = await writeIfChanged(await this.pipelineFile(pipelineName), updatePipelineYaml(current.text, current.pipeline, next), current.text);
      const file = await resolveInside(this.root, pipelineName, blockFileName(spec));
      await unlink(file).catch((error: unknown) => {
        if (!isErrno(error, "ENOENT")) throw ioError("delete", displayPath(pipelineName, blockFileName(spec)), error);
      });
      return { pipelineVersion };
    });
  }

  /**
   * Rename a block: its code file, its `name:`, and every `upstream:` entry naming it. Code is not
   * rewritten: downstream TypeScript blocks reading `ctx.inputs.<old>` and downstream SQL blocks
   * selecting from the table `<old>` keep the old name (rewriting SQL text safely needs a SQL parser);
   * they are returned in `downstreamToReview`. Past runs and outputs keep the old name.
   *
   * @throws UserError `not_found`, validation errors for the new name (pattern, duplicate),
   *   `already_exists` when the new file name is taken, `stale_version`.
   */
  async renameBlock(pipelineName: string, oldName: string, newName: string, options: EditOptions = {}): Promise<RenameBlockResult> {
    return this.exclusive(async () => {
      const current = await this.load(pipelineName);
      checkVersion(options.expectedVersion, current.version, displayPath(pipelineName, PIPELINE_FILE));
      const spec = findBlock(current.pipeline, oldName);
      const oldFile = await resolveInside(this.root, pipelineName, blockFileName(spec));
      const downstreamToReview = current.pipeline.blocks.filter((b) => b.upstream.includes(oldName)).map((b) => b.name);
      if (oldName === newName) {
        const code = await readVersioned(oldFile, displayPath(pipelineName, blockFileName(spec)));
        return { pipelineVersion: current.version, blockVersion: code?.version ?? contentVersion(""), downstreamToReview: [] };
      }
      const next: Pipeline = {
        ...current.pipeline,
        blocks: current.pipeline.blocks.map((b) => ({
          ...b,
          name: b.name === oldName ? newName : b.name,
          upstream: b.upstream.map((u) => (u === oldName ? newName : u)),
        })),
      };
      validatePipeline(next, displayPath(pipelineName, PIPELINE_FILE));
      const newFileName = blockFileName({ ...spec, name: newName });
      const newFile = await resolveInside(this.root, pipelineName, newFileName);
      if (await exists(newFile)) {
        throw new UserError("already_exists", `${displayPath(pipelineName, newFileName)} already exists; delete it or choose another block name`, { block: newName });
      }
      const code = await readVersioned(oldFile, displayPath(pipelineName, blockFileName(spec)));
      if (code !== null) await renameOrFail(oldFile, newFile, displayPath(pipelineName, blockFileName(spec)));
      let pipelineVersion: string;
      try {
        pipelineVersion = await writeIfChanged(await this.pipelineFile(pipelineName), updatePipelineYaml(current.text, current.pipeline, next, { blocks: { [oldName]: newName } }), current.text);
      } catch (error) {
        if (code !== null) await rename(newFile, oldFile).catch(() => undefined);
        throw error;
      }
      await syncDirectory(current.dir);
      return { pipelineVersion, blockVersion: code?.version ?? contentVersion(""), downstreamToReview };
    });
  }

  private async pipelineFile(name: string): Promise<string> {
    return resolveInside(this.root, name, PIPELINE_FILE);
  }

  /** Read, parse and check the folder name; keeps the text for edits that preserve it. */
  private async load(name: string): Promise<LoadedPipeline & { text: string }> {
    assertName(name, "pipeline");
    const dir = await resolveInside(this.root, name);
    const shown = displayPath(name, PIPELINE_FILE);
    const current = await readVersioned(await resolveInside(this.root, name, PIPELINE_FILE), shown);
    if (current === null) throw notFound(name);
    const pipeline = parsePipelineYaml(current.text, shown);
    if (pipeline.name !== name) {
      const { line, column } = loadYaml(current.text, shown).locate(["name"]);
      throw new UserError(
        "invalid_value",
        `${shown}:${line}:${column}: name: "${pipeline.name}" does not match the folder name "${name}"; they must be the same`,
        { file: shown, path: "name", line, column },
      );
    }
    return { pipeline, version: current.version, dir, text: current.text };
  }

  /** Run writes one at a time, in call order, so a version check and its write are not interleaved. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work, work);
    this.queue = result.catch(() => undefined);
    return result;
  }
}

function assertName(name: string, what: "pipeline" | "block"): void {
  if (typeof name !== "string" || !NAME_PATTERN.test(name)) {
    throw new UserError("invalid_value", `${what} name "${String(name).replace(/\0/g, "\\0")}" must be lowercase letters, digits and _ only ([a-z0-9_]+)`);
  }
}

function findBlock(pipeline: Pipeline, blockName: string): BlockSpec {
  assertName(blockName, "block");
  const spec = pipeline.blocks.find((b) => b.name === blockName);
  if (!spec) throw new UserError("not_found", `pipeline "${pipeline.name}" has no block named "${blockName}"`, { block: blockName });
  return spec;
}

function notFound(name: string): UserError {
  return new UserError("not_found", `there is no pipeline named "${name}"`);
}

/** Paths in messages are relative to the pipelines folder: they name the file without leaking server paths. */
function displayPath(pipelineName: string, fileName: string): string {
  return `${pipelineName}/${fileName}`;
}

function checkVersion(expected: string | undefined, current: string, shown: string): void {
  if (expected === undefined || expected === current) return;
  throw new StaleVersionError(
    `${shown} changed since it was read (version ${expected}, now ${current}); reload it and apply the change again`,
    current,
    { file: shown },
  );
}

async function readVersioned(file: string, shown: string): Promise<{ text: string; version: string } | null> {
  try {
    const bytes = await readFile(file);
    return { text: bytes.toString("utf8"), version: contentVersion(bytes) };
  } catch (error) {
    if (isErrno(error, "ENOENT")) return null;
    throw ioError("read", shown, error);
  }
}

/** Write atomically unless the content is already the same; returns the new version. */
async function writeIfChanged(file: string, text: string, previous: string | undefined): Promise<string> {
  if (text !== previous) await writeFileAtomic(file, text);
  return contentVersion(text);
}

async function renameOrFail(from: string, to: string, shown: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if (isErrno(error, "ENOTEMPTY") || isErrno(error, "EEXIST")) throw new UserError("already_exists", `cannot move "${shown}": the target already exists`);
    throw ioError("rename", shown, error);
  }
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await lstat(file)).isFile();
  } catch (error) {
    if (isErrno(error, "ENOENT") || isErrno(error, "ENOTDIR")) return false;
    throw error;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch (error) {
    if (isErrno(error, "ENOENT")) return false;
    throw error;
  }
}

/** Copy regular files and folders from `from` to `to` (created), skipping symlinks and what `keep` rejects. */
async function copyTree(from: string, to: string, keep: (relative: string) => boolean, prefix = ""): Promise<void> {
  await mkdir(to);
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const relative = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    if (!keep(relative) || entry.name.endsWith(".tmp")) continue;
    if (entry.isDirectory()) await copyTree(path.join(from, entry.name), path.join(to, entry.name), keep, relative);
    else if (entry.isFile()) await copyFile(path.join(from, entry.name), path.join(to, entry.name));
  }
}

function ioError(operation: string, shown: string, error: unknown): OperationalError {
  const reason = messageOf(error);
  return new OperationalError("io_error", `could not ${operation} ${shown}: ${reason}`, {}, { cause: error });
}
