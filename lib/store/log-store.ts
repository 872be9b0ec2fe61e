/**
 * Block logs on disk: one append-only JSON-lines file per block attempt,
 * `<dataDir>/logs/<runId>/<block>.<attempt>.jsonl`, so that the runs pages can show the log of any attempt
 * after the process that ran it is gone.
 *
 * Appends are buffered in memory and written in batches (a chatty block logs thousands of lines a second;
 * one `appendFile` per line would make logging the bottleneck). `flush()` and every `read()` write what is
 * pending first, so a reader in this process always sees every line appended before it asked.
 */
import { appendFile, mkdir, readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { UserError } from "../core/errors";
import type { LogLine } from "../core/execution";
import { isErrno } from "./safe-path";

/** A log line with the attempt it belongs to. */
export interface LogRecord extends LogLine {
  attempt: number;
}

/** How eagerly buffered log lines reach the disk. */
export interface LogStoreOptions {
  /** How long appended lines may wait in memory before they are written. Default 200 ms. */
  flushIntervalMs?: number;
  /** Pending lines (all files together) that trigger an immediate write. Default 1000. */
  maxPendingLines?: number;
  /**
   * Applied to every message before it is kept: the process's secret redactor, so that no log file holds a
   * secret whoever appends the line. Default: messages are kept as given.
   */
  redact?: (text: string) => string;
}

// Block names, and dynamic instances' (`child[0]`, `child[2020-10]`): brackets are safe in file names.
const NAME = /^[A-Za-z0-9_-]{1,200}(\[[A-Za-z0-9_-]{1,100}\])?$/;
const LEVELS = new Set<string>(["debug", "info", "warn", "error"]);
const FILE_PATTERN = /^(.+)\.(\d+)\.jsonl$/;

function checkName(kind: "run id" | "block name", value: string): void {
  if (!NAME.test(value)) {
    throw new UserError("invalid_name", `invalid ${kind} ${JSON.stringify(value)}: use letters, digits, _ and - only`);
  }
}

function checkAttempt(attempt: number): void {
  if (!Number.isSafeInteger(attempt) || attempt < 0) throw new UserError("invalid_attempt", `invalid attempt number ${attempt}`);
}

function isLogLine(value: unknown): value is LogLine {
  return (
    typeof value === "object" &&
    value !== null &&
    "at" in value &&
    typeof value.at === "string" &&
    "level" in value &&
    typeof value.level === "string" &&
    LEVELS.has(value.level) &&
    "message" in value &&
    typeof value.message === "string"
  );
}

/** Parses JSON lines, skipping any that do not parse (a crash can leave the last line half written). */
function parseLines(text: string, attempt: number): LogRecord[] {
  const records: LogRecord[] = [];
  for (const raw of text.split("\n")) {
    if (raw.length === 0) continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      continue;
    }
    if (isLogLine(value)) records.push({ at: value.at, level: value.level, message: value.message, attempt });
  }
  return records;
}

/** Buffered, append-only JSON-lines logs per (run, block, attempt). */
export class LogStore {
  readonly logsDir: string;
  private readonly pending = new Map<string, string[]>();
  private pendingLines = 0;
  /** Per file, the promise of its last write: writes to one file stay in order. */
  private readonly writing = new Map<string, Promise<void>>();
  private readonly createdDirs = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private failure: unknown = null;
  private readonly flushIntervalMs: number;
  private readonly maxPendingLines: number;
  private readonly redact: (text: string) => string;

  constructor(dataDir: string, options: LogStoreOptions = {}) {
    this.logsDir = path.join(path.resolve(dataDir), "logs");
    this.flushIntervalMs = options.flushIntervalMs ?? 200;
    this.maxPendingLines = options.maxPendingLines ?? 1000;
    this.redact = options.redact ?? ((text) => text);
  }

  private runDir(runId: string): string {
    checkName("run id", runId);
    return path.join(this.logsDir, runId);
  }

  private filePath(runId: string, block: string, attempt: number): string {
    checkName("block name", block);
    checkAttempt(attempt);
    return path.join(this.runDir(runId), `${block}.${attempt}.jsonl`);
  }

  /**
   * Queues one line; it reaches the file within `flushIntervalMs`. Synchronous so that log callbacks of
   * running blocks never wait on the disk. A write failure is reported by the next `flush()`.
   */
  append(runId: string, block: string, attempt: number, line: LogLine): void {
    const file = this.filePath(runId, block, attempt);
    const text = JSON.stringify({ at: line.at, level: line.level, message: this.redact(line.message) });
    const lines = this.pending.get(file);
    if (lines) lines.push(text);
    else this.pending.set(file, [text]);
    this.pendingLines++;
    if (this.pendingLines >= this.maxPendingLines) {
      void this.flushPending().catch(() => undefined);
    } else if (this.timer === null) {
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.flushPending().catch(() => undefined);
      }, this.flushIntervalMs);
      this.timer.unref();
    }
  }

  private writeFile(file: string, lines: string[]): Promise<void> {
    const previous = this.writing.get(file) ?? Promise.resolve();
    const next = previous.then(async () => {
      const dir = path.dirname(file);
      if (!this.createdDirs.has(dir)) {
        await mkdir(dir, { recursive: true });
        this.createdDirs.add(dir);
      }
      await appendFile(file, lines.join("\n") + "\n");
    });
    const settled = next.catch((error: unknown) => {
      this.failure ??= error;
    });
    this.writing.set(file, settled);
    void settled.then(() => {
      if (this.writing.get(file) === settled) this.writing.delete(file);
    });
    return settled;
  }

  /** Starts writing everything pending; resolves when those writes are done. */
  private async flushPending(filter?: (file: string) => boolean): Promise<void> {
    const writes: Promise<void>[] = [];
    for (const [file, lines] of [...this.pending]) {
      if (filter && !filter(file)) continue;
      this.pending.delete(file);
      this.pendingLines -= lines.length;
      writes.push(this.writeFile(file, lines));
    }
    for (const [file, write] of this.writing) if (!filter || filter(file)) writes.push(write);
    await Promise.all(writes);
  }

  /**
   * Writes every pending line.
   *
   * @throws the first write error since the previous flush (disk full, permissions).
   */
  async flush(): Promise<void> {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    await this.flushPending();
    const failure = this.failure;
    this.failure = null;
    if (failure !== null) throw failure;
  }

  /** Attempt numbers that have a log file for this block, ascending. */
  async listAttempts(runId: string, block: string): Promise<number[]> {
    const dir = this.runDir(runId);
    checkName("block name", block);
    await this.flushPending((file) => path.dirname(file) === dir);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      if (isErrno(error, "ENOENT")) return [];
      throw error;
    }
    const attempts: number[] = [];
    for (const name of names) {
      const match = FILE_PATTERN.exec(name);
      if (match && match[1] === block) attempts.push(Number(match[2]));
    }
    return attempts.sort((a, b) => a - b);
  }

  /**
   * The log of one attempt, or of every attempt in order when `attempt` is omitted. Unknown runs and
   * blocks have an empty log.
   */
  async read(runId: string, block: string, attempt?: number): Promise<LogRecord[]> {
    const attempts = attempt === undefined ? await this.listAttempts(runId, block) : [attempt];
    const records: LogRecord[] = [];
    for (const n of attempts) {
      const file = this.filePath(runId, block, n);
      await this.flushPending((candidate) => candidate === file);
      try {
        records.push(...parseLines(await readFile(file, "utf8"), n));
      } catch (error) {
        if (!isErrno(error, "ENOENT")) throw error;
      }
    }
    return records;
  }

  /** Deletes every log of a run (retention); lines still pending for it are dropped. */
  async deleteRun(runId: string): Promise<void> {
    const dir = this.runDir(runId);
    const inRun = (file: string): boolean => path.dirname(file) === dir;
    for (const [file, lines] of [...this.pending]) {
      if (!inRun(file)) continue;
      this.pending.delete(file);
      this.pendingLines -= lines.length;
    }
    await this.flushPending(inRun);
    this.createdDirs.delete(dir);
    await rm(dir, { recursive: true, force: true });
  }

  /** Flushes and stops the timer; the store may still be used afterwards (it restarts the timer). */
  async close(): Promise<void> {
    await this.flush();
  }
}
