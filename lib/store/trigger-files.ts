/**
 * `pipelines/<p>/triggers.yaml` on disk: the scheduler reads every pipeline's triggers
 * through here, and the triggers page writes them. Reads are cached by file modification time and size,
 * so the scheduler can ask every second without re-parsing unchanged files; a file that fails to parse
 * is reported with its located error instead of hiding the other pipelines' triggers.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { isSluiceError, messageOf, UnexpectedError, type AnySluiceError } from "../core/errors";
import { NAME_PATTERN } from "../core/model";
import { parseTriggersYaml, serializeTriggers, type Trigger } from "../core/triggers-schema";
import { writeFileAtomic } from "./atomic-write";
import { PIPELINE_FILE, TRIGGERS_FILE } from "./pipeline-files";
import { isErrno, resolveInside } from "./safe-path";

/** The triggers of one pipeline as last read. */
export interface PipelineTriggers {
  pipeline: string;
  /** Empty when the pipeline has no triggers file, or when it is broken (see `error`). */
  triggers: Trigger[];
  /** Why the file could not be used; its triggers are then treated as absent-but-kept (not deleted). */
  error?: AnySluiceError;
}

/** A snapshot of every pipeline's triggers; `version` changes whenever any file changed. */
export interface TriggerSnapshot {
  version: string;
  pipelines: PipelineTriggers[];
}

/** Where the scheduler gets triggers from (files in production, a list in tests and benchmarks). */
export interface TriggerSource {
  load(): Promise<TriggerSnapshot>;
}

interface CacheEntry {
  stamp: string;
  value: PipelineTriggers;
}

/** Reads and writes the triggers files under a pipelines root. */
export class TriggerFiles implements TriggerSource {
  readonly root: string;
  private readonly cache = new Map<string, CacheEntry>();

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  /** Every pipeline folder's triggers (pipelines without a triggers file have none), sorted by pipeline. */
  async load(): Promise<TriggerSnapshot> {
    let names: string[];
    try {
      const entries = await readdir(this.root, { withFileTypes: true });
      names = entries.filter((e) => e.isDirectory() && NAME_PATTERN.test(e.name)).map((e) => e.name).sort();
    } catch (error) {
      if (isErrno(error, "ENOENT")) return { version: "empty", pipelines: [] };
      throw error;
    }
    const pipelines: PipelineTriggers[] = [];
    const stamps: string[] = [];
    for (const name of names) {
      const pipelineStat = await statOrNull(path.join(this.root, name, PIPELINE_FILE));
      if (pipelineStat === null) continue;
      const file = path.join(this.root, name, TRIGGERS_FILE);
      const fileStat = await statOrNull(file);
      const stamp = fileStat === null ? "none" : `${fileStat.mtimeMs}:${fileStat.size}`;
      stamps.push(`${name}=${stamp}`);
      const cached = this.cache.get(name);
      if (cached && cached.stamp === stamp) {
        pipelines.push(cached.value);
        continue;
      }
      const value = fileStat === null ? { pipeline: name, triggers: [] } : await this.parse(name, file);
      this.cache.set(name, { stamp, value });
      pipelines.push(value);
    }
    for (const name of [...this.cache.keys()]) if (!names.includes(name)) this.cache.delete(name);
    return { version: stamps.join("|"), pipelines };
  }

  /** One pipeline's triggers; none when it has no triggers file. @throws UserError for a broken file. */
  async read(pipeline: string): Promise<Trigger[]> {
    const file = await resolveInside(this.root, pipeline, TRIGGERS_FILE);
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      if (isErrno(error, "ENOENT")) return [];
      throw error;
    }
    return parseTriggersYaml(text, `${pipeline}/${TRIGGERS_FILE}`).triggers;
  }

  /** One trigger by pipeline and name, or null (e.g. `ApiTriggers`' `findTrigger`). @throws UserError for a broken file. */
  async find(pipeline: string, name: string): Promise<Trigger | null> {
    return (await this.read(pipeline)).find((t) => t.name === name) ?? null;
  }

  /** Writes a pipeline's triggers atomically (temp file + rename), in the clean file format. */
  async write(pipeline: string, triggers: readonly Trigger[]): Promise<void> {
    const file = await resolveInside(this.root, pipeline, TRIGGERS_FILE);
    await writeFileAtomic(file, serializeTriggers(triggers));
    this.cache.delete(pipeline);
  }

  private async parse(pipeline: string, file: string): Promise<PipelineTriggers> {
    try {
      const text = await readFile(file, "utf8");
      return { pipeline, triggers: parseTriggersYaml(text, `${pipeline}/${TRIGGERS_FILE}`).triggers };
    } catch (error) {
      const known = isSluiceError(error) ? error : new UnexpectedError("unexpected", messageOf(error));
      return { pipeline, triggers: [], error: known };
    }
  }
}

async function statOrNull(file: string): Promise<{ mtimeMs: number; size: number } | null> {
  try {
    const s = await stat(file);
    return s.isFile() ? { mtimeMs: s.mtimeMs, size: s.size } : null;
  } catch (error) {
    if (isErrno(error, "ENOENT") || isErrno(error, "ENOTDIR")) return null;
    throw error;
  }
}
