/**
 * Errors say who caused them and whether a retry helps.
 * - UserError: bad pipeline, bad SQL, bad input. Fail, do not retry, show the message.
 * - OperationalError: network, database down, a timeout. Retry with backoff.
 * - UnexpectedError: a bug in Sluice.
 */
import { isRetryableCode } from "./error-codes";

export type ErrorKind = "user" | "operational" | "unexpected";

export interface ErrorLocation {
  file?: string;
  /** Key path inside a YAML file, e.g. `blocks[2].upstream`. */
  path?: string;
  line?: number;
  column?: number;
  block?: string;
}

abstract class SluiceError extends Error {
  abstract readonly kind: ErrorKind;
  readonly code: string;
  readonly location: ErrorLocation;
  constructor(code: string, message: string, location: ErrorLocation = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.location = location;
  }
}

export class UserError extends SluiceError {
  readonly kind = "user" as const;
  override name = "UserError";
}

export class OperationalError extends SluiceError {
  readonly kind = "operational" as const;
  override name = "OperationalError";
}

export class UnexpectedError extends SluiceError {
  readonly kind = "unexpected" as const;
  override name = "UnexpectedError";
}

export type AnySluiceError = UserError | OperationalError | UnexpectedError;

export function isSluiceError(value: unknown): value is AnySluiceError {
  return value instanceof UserError || value instanceof OperationalError || value instanceof UnexpectedError;
}

/** Whether a failure of this kind is worth another attempt: the code's rule in `ERROR_CODES`, else its kind's. */
export function isRetryable(error: unknown): boolean {
  if (isSluiceError(error)) return isRetryableCode(error.kind, error.code);
  // Plain errors thrown by block code: the block author decides with retries in pipeline.yaml.
  return true;
}

/**
 * The message of anything thrown, for a log line or an error that wraps it. Duck-typed on purpose: an
 * error from native code (DuckDB), a worker or another realm (Node's fetch, jest's sandbox) may fail
 * `instanceof Error`, and `String(error)` would then prefix "Error: " or print "[object Object]".
 */
export function messageOf(error: unknown): string {
  if (typeof error === "object" && error !== null) {
    const message: unknown = Reflect.get(error, "message");
    if (typeof message === "string") return message;
  }
  return String(error);
}

/** `file:line:column` prefix for messages, omitting what is unknown. */
export function formatLocation(location: ErrorLocation): string {
  const parts: string[] = [];
  if (location.file) parts.push(location.file);
  if (location.line !== undefined) parts.push(String(location.line));
  if (location.line !== undefined && location.column !== undefined) parts.push(String(location.column));
  return parts.join(":");
}

/**
 * A write based on a read that is no longer current: the file changed since (another tab, a hand edit,
 * a `git pull`). Carries the current version so that the editor can reload or merge instead of
 * overwriting silently; the API answers 409.
 */
export class StaleVersionError extends UserError {
  /** Version of the file as it is now. */
  readonly currentVersion: string;
  constructor(message: string, currentVersion: string, location: ErrorLocation = {}) {
    super("stale_version", message, location);
    this.currentVersion = currentVersion;
  }
}
