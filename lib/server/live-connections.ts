/**
 * The project's connections while the process runs: `sluice.yaml` and `.env` are read again when either
 * changes (a debounced watch of the project folder) and after every write of the connections page, with no
 * restart. The `Profiles` object handed to the executor is updated in place, so the next block that asks for
 * a connection gets the new one. A file that became invalid keeps the last good connections in use and the
 * problem (with file:line:column) is shown on the page until the file is fixed.
 *
 * The page's edits go through here too: read the file, apply the edit to the YAML document (comments and
 * formatting kept, `sluice-yaml-merge.ts`), validate the whole new file with the loader itself, then write it
 * atomically. Nothing that leaves this module holds a secret value (`profile-edit.ts`).
 */
import { watch, type FSWatcher } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { StaleVersionError, UserError, messageOf, type ErrorLocation } from "../core/errors";
import { testConnection, type ConnectionTestResult } from "../io/connection-test";
import { connectionFields, connectionVersion, connectionView, editedConnection, fieldOfPath, kindDescription, CONNECTION_KINDS, type ConnectionEdit, type ConnectionFieldSpec, type ConnectionView } from "../io/profile-edit";
import { loadDotEnv, loadProfiles, parseProfiles, type ConnectionKind, type Profiles } from "../io/profiles";
import type { Redactor } from "../io/redact";
import { connectionEntries, removeConnection, replaceConnection } from "../io/sluice-yaml-merge";
import { writeFileAtomic } from "../store/atomic-write";

export const SLUICE_YAML = "sluice.yaml";
/** Editors save in bursts (write, rename, chmod): one reload after the burst. */
const DEBOUNCE_MS = 150;

/** Why the file on disk is not the one in use. */
export interface ConnectionsProblem {
  message: string;
  line: number | null;
  column: number | null;
}

export interface ConnectionsListing {
  /** Absolute path of `sluice.yaml` (it may not exist yet). */
  file: string;
  exists: boolean;
  connections: Array<ConnectionView & { line: number | null }>;
  /** The file on disk is invalid: the connections in use are the last good ones. */
  problem: ConnectionsProblem | null;
  /** When the connections in use were read (ISO). */
  loaded_at: string;
  kinds: Array<{ kind: ConnectionKind; description: string; fields: ConnectionFieldSpec[] }>;
}

/** A field the file's validator refused, for the form to show beside it. */
export interface ConnectionFieldError {
  field: string | null;
  message: string;
}

export interface LiveConnectionsOptions {
  projectDir: string;
  dataDir: string;
  /** The process environment (lib/server/env.ts reads it); `.env` fills what it lacks. */
  env: () => Readonly<Record<string, string | undefined>>;
  redactor: Redactor;
  /** Told about each reload that failed (the server logs it). */
  onProblem?: (problem: ConnectionsProblem) => void;
  /** Test connection time limit (default 10 s). */
  testTimeoutMs?: number;
}

export class LiveConnections {
  /** Updated in place on every successful reload: the executor holds this very object. */
  readonly profiles: Profiles;
  /** `.env` merged under the process environment for block code (`ctx.env`), updated in place too. */
  readonly blockEnv: Record<string, string | undefined>;
  private problem: ConnectionsProblem | null = null;
  private loadedAt = new Date();
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Reloads and writes one at a time, in order. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly options: LiveConnectionsOptions,
    profiles: Profiles,
    dotenv: Record<string, string>,
  ) {
    this.profiles = { file: profiles.file, connections: profiles.connections };
    this.blockEnv = { ...dotenv, ...options.env() };
  }

  /**
   * Loads the connections once.
   * @throws UserError (located) when `sluice.yaml` is invalid at start: a process does not start on a broken file
   */
  static async open(options: LiveConnectionsOptions): Promise<LiveConnections> {
    const profiles = await loadProfiles(options.projectDir, options.env());
    return new LiveConnections(options, profiles, await loadDotEnv(options.projectDir));
  }

  get file(): string {
    return path.join(this.options.projectDir, SLUICE_YAML);
  }

  /** Watches the project folder for changes of `sluice.yaml` and `.env` until `close()`. */
  watch(): void {
    if (this.watcher !== null) return;
    try {
      this.watcher = watch(this.options.projectDir, { persistent: false }, (_event, filename) => {
        const name = filename === null ? null : String(filename);
        if (name === null || name === SLUICE_YAML || name === ".env") this.scheduleReload();
      });
      this.watcher.on("error", (error) => this.report({ message: `watching ${SLUICE_YAML} stopped: ${messageOf(error)}`, line: null, column: null }));
    } catch (error) {
      // No watch (a full inotify table, an unsupported file system): the page's writes still reload.
      this.report({ message: `cannot watch ${SLUICE_YAML} for changes (${messageOf(error)}); edits through the connections page still apply`, line: null, column: null });
    }
  }

  private scheduleReload(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.reload();
    }, DEBOUNCE_MS);
    this.timer.unref();
  }

  private report(problem: ConnectionsProblem): void {
    this.options.onProblem?.({ ...problem, message: this.options.redactor.redact(problem.message) });
  }

  /** Reads `sluice.yaml` and `.env` again. A broken file keeps the connections in use and is remembered as the problem. */
  reload(): Promise<void> {
    return this.serial(async () => {
      try {
        const next = await loadProfiles(this.options.projectDir, this.options.env());
        const dotenv = await loadDotEnv(this.options.projectDir);
        this.profiles.file = next.file;
        this.profiles.connections = next.connections;
        for (const key of Object.keys(this.blockEnv)) delete this.blockEnv[key];
        Object.assign(this.blockEnv, dotenv, this.options.env());
        this.problem = null;
        this.loadedAt = new Date();
      } catch (error) {
        const location: ErrorLocation = error instanceof UserError ? error.location : {};
        this.problem = { message: this.options.redactor.redact(messageOf(error)), line: location.line ?? null, column: location.column ?? null };
        this.report(this.problem);
      }
    });
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async readText(): Promise<string | null> {
    return readFile(this.file, "utf8").catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return null;
      throw error;
    });
  }

  /** Every connection of the file on disk, masked, with the problem of the file if it has one. */
  async list(): Promise<ConnectionsListing> {
    const text = await this.readText();
    let entries: ReturnType<typeof connectionEntries> = [];
    try {
      entries = connectionEntries(text);
    } catch {
      // unreadable YAML: the problem says why; nothing to list
    }
    return {
      file: this.file,
      exists: text !== null,
      connections: entries.map((entry) => ({ ...this.view(entry.name, entry.value), line: entry.line })),
      problem: this.problem,
      loaded_at: this.loadedAt.toISOString(),
      kinds: CONNECTION_KINDS.map((kind) => ({ kind, description: kindDescription(kind), fields: connectionFields(kind) })),
    };
  }

  /** One connection, masked. @throws UserError `connection_not_found` */
  async get(name: string): Promise<ConnectionView> {
    const entry = connectionEntries(await this.readText()).find((e) => e.name === name);
    if (entry === undefined) throw this.notFound(name);
    return this.view(name, entry.value);
  }

  /**
   * Not passed through the redactor: it holds no secret value by construction, and masking a plain value that
   * happens to equal a `.env` value (a host, say) would put the mask into the form and, on save, into the file.
   */
  private view(name: string, value: unknown): ConnectionView {
    return connectionView(name, value);
  }

  private notFound(name: string): UserError {
    const names = Object.keys(this.profiles.connections);
    return new UserError("connection_not_found", `${SLUICE_YAML}: no connection "${name}" (known: ${names.join(", ") || "none"})`, { file: SLUICE_YAML });
  }

  /**
   * The file as it would be after the edit, validated by the loader (every problem, located).
   * @throws UserError `invalid_connection` with `details.errors` (field, message) for the form
   */
  private async edited(name: string, edit: ConnectionEdit): Promise<{ text: string; created: boolean; profiles: Profiles }> {
    const text = await this.readText();
    const stored = connectionEntries(text).find((e) => e.name === name)?.value;
    const next = replaceConnection(text, SLUICE_YAML, name, editedConnection(stored, edit));
    const env = { ...(await loadDotEnv(this.options.projectDir)), ...definedOnly(this.options.env()) };
    try {
      return { ...next, profiles: parseProfiles(next.text, SLUICE_YAML, env) };
    } catch (error) {
      throw this.invalid(error, name);
    }
  }

  private invalid(error: unknown, name: string): Error {
    if (!(error instanceof UserError)) return error instanceof Error ? error : new Error(messageOf(error));
    const all = Array.isArray(error.cause) ? error.cause.filter((e): e is UserError => e instanceof UserError) : [error];
    const errors: ConnectionFieldError[] = all.map((e) => ({ field: fieldOfPath(e.location.path, name), message: this.options.redactor.redact(e.message) }));
    const inside = (at: string | undefined): boolean => at === `connections.${name}` || (at ?? "").startsWith(`connections.${name}.`);
    const elsewhere = all.some((e) => !inside(e.location.path));
    const lead = elsewhere ? `${SLUICE_YAML} has problems outside this connection; fix the file first:\n` : "";
    const refused = new UserError("invalid_connection", `${lead}${errors.map((e) => e.message).join("\n")}`, { file: SLUICE_YAML });
    return Object.assign(refused, { details: { errors } });
  }

  /**
   * Refuses a write based on an older read: `expected` is the version the page read, or "new" when it means to
   * add a connection (then an existing one of that name is not overwritten). Undefined skips the check.
   */
  private async checkVersion(name: string, expected: string | undefined): Promise<void> {
    if (expected === undefined) return;
    const entry = connectionEntries(await this.readText()).find((e) => e.name === name);
    if (expected === "new") {
      if (entry !== undefined) throw new UserError("already_exists", `${SLUICE_YAML}: a connection "${name}" exists already (line ${entry.line ?? "?"}); edit it or choose another name`, { file: SLUICE_YAML });
      return;
    }
    const current = entry === undefined ? "none" : connectionVersion(entry.value);
    if (current !== expected) {
      throw new StaleVersionError(`${SLUICE_YAML}: connection "${name}" changed since this page read it (by hand or in another tab); reload to see it`, current, { file: SLUICE_YAML });
    }
  }

  /** Adds or replaces a connection, writes the file atomically and reloads. */
  put(name: string, edit: ConnectionEdit, expectedVersion?: string): Promise<{ connection: ConnectionView; created: boolean }> {
    return this.serial(async () => {
      await this.checkVersion(name, expectedVersion);
      const next = await this.edited(name, edit);
      await writeFileAtomic(this.file, next.text);
      return { connection: this.view(name, connectionEntries(next.text).find((e) => e.name === name)?.value), created: next.created };
    }).then(async (result) => {
      await this.reload();
      return result;
    });
  }

  /** Deletes a connection, writes the file atomically and reloads. @throws UserError `connection_not_found` */
  remove(name: string, expectedVersion?: string): Promise<void> {
    return this.serial(async () => {
      await this.checkVersion(name, expectedVersion);
      const text = await this.readText();
      if (!connectionEntries(text).some((e) => e.name === name)) throw this.notFound(name);
      await writeFileAtomic(this.file, removeConnection(text, SLUICE_YAML, name));
    }).then(() => this.reload());
  }

  /**
   * Connects with a connection: the saved one in use, or — with `edit` — the form's values as they would be
   * saved (stored secrets filled in), without writing anything.
   */
  async test(name: string, edit?: ConnectionEdit): Promise<ConnectionTestResult> {
    const profile = edit === undefined ? this.profiles.connections[name] : (await this.edited(name, edit)).profiles.connections[name];
    if (profile === undefined) throw this.notFound(name);
    const result = await testConnection(name, profile, { projectDir: this.options.projectDir, dataDir: this.options.dataDir, timeoutMs: this.options.testTimeoutMs });
    return { ...result, message: this.options.redactor.redact(result.message) };
  }

  close(): void {
    this.watcher?.close();
    this.watcher = null;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}

function definedOnly(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}
