/**
 * HTTP source (DuckDB's httpfs is not available offline, so downloads are
 * done in Node). A download streams to a temp file — never the whole body as one string — with progress
 * events (bytes of total), retries with exponential backoff on 5xx/429 and connection failures (including a
 * body cut short), and `.gz` decompressed on the way so a truncated archive is caught while downloading.
 * The file is then parsed by DuckDB's CSV reader (explicit column types or detected), or read as Parquet or
 * Arrow IPC, and deleted.
 *
 * Errors name the URL with credentials hidden: 404 and other 4xx are UserErrors (no retry), an unreachable
 * host or a 5xx after the last retry an OperationalError, a damaged `.gz` or a malformed CSV row a UserError
 * with the line.
 */
import { createWriteStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { createGunzip } from "node:zlib";
import { tableFromIPC, type Table } from "apache-arrow";
import { OperationalError, UserError, isSluiceError } from "../core/errors";
import { readParquetFile } from "../arrow/parquet-arrow";
import { readCsvFile, type CsvOptions } from "./csv-read";
import { checkParquetFile, defaultWarning } from "./csv-verify";
import type { FileReadOptions } from "./files";
import { openDuckDB, removeDir, scratchDir } from "./duckdb-session";
import { errorMessage, redactUrl } from "./redact";
import type { ArrowSource, IoOptions } from "./types";

/** Settings of an `http` profile. */
export interface HttpSettings {
  /** Relative URLs resolve against this. */
  baseUrl?: string;
  /** Sent with every request (e.g. Authorization); values are treated as secrets. */
  headers?: Readonly<Record<string, string>>;
  /** Retries after the first attempt (default 4). */
  retries?: number;
  /** First backoff delay; doubles per retry, capped at 30 s (default 500 ms). */
  retryDelayMs?: number;
  /** Abort a request that sends nothing for this long (default 60 s). */
  timeoutMs?: number;
  /** Where downloads go (default: the OS temp dir). */
  tempDir?: string;
}

export type HttpFormat = "csv" | "parquet" | "arrow";

/** What to download and how to parse it. */
export interface HttpReadTarget extends CsvOptions {
  url: string;
  /** Default: from the URL path (`.csv`, `.csv.gz`, `.tsv`, `.parquet`, `.arrow`). */
  format?: HttpFormat;
}

/** A finished download: a local file, removed by `cleanup()`. */
export interface Download {
  path: string;
  bytes: number;
  cleanup(): Promise<void>;
}

/** Why a request failed, and whether trying again may help. */
class AttemptError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly final: Error,
  ) {
    super(message);
  }
}

/** Error-like values from another realm (fetch's errors are Node's own, not the caller's `Error`). */
function isErrorLike(value: unknown): value is { message: string; code?: unknown; cause?: unknown } {
  return typeof value === "object" && value !== null && "message" in value && typeof value.message === "string";
}

function causeText(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && isErrorLike(current); depth++) {
    const code = typeof current.code === "string" ? current.code : "";
    const message = current.message || code;
    parts.push(code && !message.includes(code) ? `${code} ${message}` : message);
    current = current.cause;
  }
  return parts.filter((p) => p !== "").join(": ");
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
      },
      { once: true },
    );
  });
}

/** Downloads and parses files over HTTP(S). Stateless apart from its settings. */
export class HttpConnector implements ArrowSource<HttpReadTarget | string> {
  readonly description: string;

  constructor(
    private readonly settings: HttpSettings = {},
    name = "default",
  ) {
    this.description = `http "${name}"`;
  }

  private resolve(url: string): string {
    try {
      return new URL(url, this.settings.baseUrl).toString();
    } catch {
      throw new UserError("invalid_url", `${this.description}: not a URL: ${redactUrl(url)}`);
    }
  }

  /**
   * Streams `url` to a temp file (gunzipped when `gunzip`), retrying as described above.
   * @throws UserError for 4xx, a damaged .gz; OperationalError when the host stays unreachable or keeps failing.
   */
  async download(url: string, options: IoOptions & { gunzip?: boolean } = {}): Promise<Download> {
    const full = this.resolve(url);
    const shown = redactUrl(full);
    const dir = await scratchDir(this.settings.tempDir);
    const name = new URL(full).pathname.split("/").pop() || "download";
    const path = join(dir, options.gunzip ? name.replace(/\.gz$/i, "") : name);
    const retries = this.settings.retries ?? 4;
    const baseDelay = this.settings.retryDelayMs ?? 500;
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          const bytes = await this.attempt(full, shown, path, options);
          return { path, bytes, cleanup: () => removeDir(dir) };
        } catch (error) {
          if (!(error instanceof AttemptError)) throw error;
          if (!error.retryable || attempt >= retries || options.signal?.aborted) throw error.final;
          const delay = Math.min(30_000, baseDelay * 2 ** attempt);
          options.onProgress?.({ message: `GET ${shown}: ${error.message}; retry ${attempt + 1} of ${retries} in ${delay} ms` });
          await sleep(delay, options.signal);
        }
      }
    } catch (error) {
      await removeDir(dir);
      throw error;
    }
  }

  private async attempt(url: string, shown: string, path: string, options: IoOptions & { gunzip?: boolean }): Promise<number> {
    const timeout = AbortSignal.timeout(this.settings.timeoutMs ?? 60_000);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    let response: Response;
    try {
      response = await fetch(url, { headers: { ...this.settings.headers }, signal, redirect: "follow" });
    } catch (error) {
      if (options.signal?.aborted) throw new AttemptError("aborted", false, new UserError("cancelled", `GET ${shown}: cancelled`));
      const detail = errorMessage(causeText(error));
      const final = new OperationalError("http_unreachable", `GET ${shown}: cannot reach the server (${detail})`, { file: shown }, { cause: error });
      throw new AttemptError(detail, !/ENOTFOUND/.test(detail), final);
    }
    if (!response.ok || response.body === null) {
      await response.body?.cancel().catch(() => undefined);
      const status = `HTTP ${response.status} ${response.statusText}`.trim();
      const retryable = response.status >= 500 || response.status === 429 || response.status === 408;
      const final = retryable
        ? new OperationalError("http_error", `GET ${shown}: ${status} (after retries)`, { file: shown })
        : new UserError(response.status === 404 ? "not_found" : "http_error", `GET ${shown}: ${status}`, { file: shown });
      throw new AttemptError(status, retryable, final);
    }
    const totalHeader = Number(response.headers.get("content-length"));
    const totalBytes = Number.isFinite(totalHeader) && totalHeader > 0 ? totalHeader : undefined;
    let bytes = 0;
    let reportedAt = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        if (bytes - reportedAt >= 1 << 20) {
          reportedAt = bytes;
          options.onProgress?.({ bytes, totalBytes, message: `GET ${shown}` });
        }
        callback(null, chunk);
      },
    });
    const body = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
    let gunzipFailed: Error | null = null;
    const gunzip = options.gunzip ? createGunzip() : null;
    gunzip?.on("error", (error) => (gunzipFailed ??= error));
    try {
      if (gunzip) await pipeline(body, counter, gunzip, createWriteStream(path));
      else await pipeline(body, counter, createWriteStream(path));
    } catch (error) {
      if (options.signal?.aborted) throw new AttemptError("aborted", false, new UserError("cancelled", `GET ${shown}: cancelled`));
      const complete = totalBytes === undefined || bytes >= totalBytes;
      if (gunzipFailed !== null && complete) {
        const final = new UserError("corrupt_file", `GET ${shown}: the .gz file is truncated or damaged (${errorMessage(gunzipFailed)})`, { file: shown }, { cause: error });
        throw new AttemptError("corrupt", false, final);
      }
      const detail = errorMessage(causeText(error));
      const final = new OperationalError("http_interrupted", `GET ${shown}: the download broke off after ${bytes} of ${totalBytes ?? "?"} bytes (${detail})`, { file: shown }, { cause: error });
      throw new AttemptError(detail, true, final);
    }
    if (totalBytes !== undefined && bytes < totalBytes) {
      throw new AttemptError("short body", true, new OperationalError("http_interrupted", `GET ${shown}: got ${bytes} of ${totalBytes} bytes`, { file: shown }));
    }
    options.onProgress?.({ bytes, totalBytes: totalBytes ?? bytes, message: `GET ${shown}` });
    return bytes;
  }

  /** Downloads and parses a CSV(.gz), Parquet or Arrow file into a Table. */
  async read(target: HttpReadTarget | string, options: FileReadOptions = {}): Promise<Table> {
    const t: HttpReadTarget = typeof target === "string" ? { url: target } : target;
    const full = this.resolve(t.url);
    const shown = redactUrl(full);
    const format = t.format ?? formatOfUrl(full);
    const download = await this.download(full, { ...options, gunzip: format === "csv" && new URL(full).pathname.toLowerCase().endsWith(".gz") });
    try {
      let table: Table;
      if (format === "csv") {
        const session = await openDuckDB();
        try {
          const context = { tempDir: this.settings.tempDir, signal: options.signal, onWarning: options.onWarning ?? defaultWarning };
          table = await readCsvFile(session.connection, download.path, `GET ${shown}`, t, context);
        } finally {
          session.close();
        }
      } else if (format === "parquet") {
        await checkParquetFile(download.path, `GET ${shown}`);
        table = await readParquetFile(download.path).catch((error: unknown) => {
          throw new UserError("corrupt_file", `GET ${shown}: not a readable Parquet file (${errorMessage(error)})`, { file: shown }, { cause: error });
        });
      } else {
        table = tableFromIPC(await readFile(download.path));
      }
      options.onProgress?.({ rows: table.numRows, message: `GET ${shown}` });
      return table;
    } catch (error) {
      if (isSluiceError(error)) throw error;
      throw new UserError("parse_error", `GET ${shown}: ${errorMessage(error)}`, { file: shown }, { cause: error });
    } finally {
      await download.cleanup();
    }
  }
}

/** The format a URL's path suggests (CSV when it says nothing). */
export function formatOfUrl(url: string): HttpFormat {
  const path = new URL(url).pathname.toLowerCase().replace(/\.gz$/, "");
  if (path.endsWith(".parquet")) return "parquet";
  if (path.endsWith(".arrow") || path.endsWith(".feather") || path.endsWith(".ipc")) return "arrow";
  return "csv";
}
