/**
 * What `sluice` prints when a command fails, and its exit code. One line, `sluice <command>: <message>`:
 * the user sees what went wrong and what to do, not Node's stack, which only `--debug` adds.
 *
 * Exit codes: 2 when what the user typed or wrote is wrong (a bad command line, then the command's usage;
 * an invalid project file, with its `file:line:col`); 1 when the command could not do its job (a missing
 * pipeline or run, a port in use, a database that does not answer, a refused start, a bug).
 */
import { formatLocation, isSluiceError, type AnySluiceError } from "../core/errors";
import { USAGE_ERROR_CODES } from "./command-line";

export interface FailureReport {
  /** What to print on stderr, ending with a newline. */
  text: string;
  exitCode: 1 | 2;
}

export interface FailureContext {
  /** `sluice run`: who is speaking. */
  commandPath: string;
  /** The command's usage line, printed after a usage error. */
  usage: string;
  /** Whether the command line was still being read (a bad option value is then a usage error). */
  parsing: boolean;
  debug: boolean;
}

/** Socket errors that mean "nothing answers there", with the words a user understands. */
const CONNECTION_FAILURES: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ETIMEDOUT: "timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ENOTFOUND: "unknown host",
  EAI_AGAIN: "host name lookup failed",
};

export function reportFailure(error: unknown, context: FailureContext): FailureReport {
  const stack = context.debug ? debugDetail(error) : "";
  if (isSluiceError(error)) {
    const usageError = error.kind === "user" && (context.parsing || USAGE_ERROR_CODES.has(error.code));
    // A message built for a standalone parse already ends with the usage line.
    const usage = usageError && !error.message.includes("\nusage: ") ? `${context.usage}\n` : "";
    const invalidFile = error.kind === "user" && error.location.file !== undefined;
    const bug = error.kind === "unexpected";
    const line = `${context.commandPath}: ${locatedMessage(error)}${bug && !context.debug ? " (a bug in Sluice: run with --debug for the stack)" : ""}`;
    return { text: `${line}\n${usage}${stack}`, exitCode: usageError || invalidFile ? 2 : 1 };
  }
  const connection = connectionFailure(error);
  if (connection !== null) return { text: `${context.commandPath}: ${connection}\n${stack}`, exitCode: 1 };
  const message = error instanceof Error ? firstLine(error.message) : String(error);
  const hint = context.debug ? "" : " (run with --debug for the stack)";
  return { text: `${context.commandPath}: ${message}${hint}\n${stack}`, exitCode: 1 };
}

/** `file:line:col: message` when the error knows where it is. */
export function locatedMessage(error: AnySluiceError): string {
  const where = formatLocation(error.location);
  return where && !error.message.startsWith(where) ? `${where}: ${error.message}` : error.message;
}

/**
 * "cannot connect to 127.0.0.1:5432 (connection refused)" for a socket error, else null. Checked by
 * the error's code, which Node sets on every socket error, so drivers that pass them through (pg, ioredis)
 * are covered too.
 */
export function connectionFailure(error: unknown): string | null {
  const code = errorCode(error);
  const reason = code === undefined ? undefined : CONNECTION_FAILURES[code];
  if (reason === undefined) return null;
  const address = stringField(error, "address") ?? stringField(error, "hostname");
  const port = numberField(error, "port");
  const target = address === undefined ? "" : ` to ${address.includes(":") ? `[${address}]` : address}${port === undefined ? "" : `:${port}`}`;
  return `cannot connect${target} (${reason}, ${code})`;
}

/** The code of a Node system error (`ECONNREFUSED`, `EADDRINUSE`), if it is one. */
export function errorCode(error: unknown): string | undefined {
  return stringField(error, "code");
}

function stringField(value: unknown, key: string): string | undefined {
  if (typeof value !== "object" || value === null || !(key in value)) return undefined;
  const field: unknown = Reflect.get(value, key);
  return typeof field === "string" ? field : undefined;
}

function numberField(value: unknown, key: string): number | undefined {
  if (typeof value !== "object" || value === null || !(key in value)) return undefined;
  const field: unknown = Reflect.get(value, key);
  return typeof field === "number" ? field : undefined;
}

function firstLine(text: string): string {
  return text.split("\n", 1)[0] ?? text;
}

/** The stack and the chain of causes, for `--debug`. */
function debugDetail(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    parts.push(current instanceof Error ? (current.stack ?? current.message) : String(current));
    current = current instanceof Error ? current.cause : undefined;
    if (current !== undefined) parts.push("caused by:");
  }
  return parts.join("\n") + "\n";
}
