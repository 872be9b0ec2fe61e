/**
 * What every `sluice` command shares about its command line: how a command declares its options (one
 * declaration serves `--help`, validation, shell completion and parsing), how a bad command line turns into
 * an error that names the flag and the value, and the `usage:` line printed after it.
 */
import { Command, CommanderError, type OptionValues } from "commander";
import { parseDuration } from "../core/duration";
import { messageOf, UserError } from "../core/errors";

/** Adds a command's description, usage, arguments, options and examples to a commander `Command`. */
export type DefineCommand = (command: Command) => Command;

export interface ParsedCommandLine<T extends OptionValues> {
  options: T;
  /** The positional arguments, in order. */
  operands: string[];
}

/** Error codes that mean "the command line is wrong": exit 2 and the command's usage. */
export const USAGE_ERROR_CODES: ReadonlySet<string> = new Set(["usage", "invalid_value", "invalid_var"]);

/**
 * Parses `argv` (what follows `sluice <name>`) against a command's declaration. Each command function parses
 * its own arguments so that scripts and tests can call it directly; `sluice` itself has checked the same
 * declaration before it opened anything.
 *
 * @throws UserError `usage` (an unknown option, a missing or extra argument) or the option's own code
 *   (`invalid_value`, `invalid_var`), its message followed by the command's usage line.
 */
export function parseCommandLine<T extends OptionValues>(name: string, define: DefineCommand, argv: readonly string[]): ParsedCommandLine<T> {
  const root = new Command("sluice")
    .exitOverride()
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined, outputError: () => undefined });
  const command = define(root.command(name)).helpOption(false);
  try {
    command.parse([...argv], { from: "user" });
  } catch (error) {
    throw withUsage(error, command);
  }
  return { options: command.opts<T>(), operands: command.args };
}

/** `error` as a UserError whose message ends with the command's usage line. */
function withUsage(error: unknown, command: Command): UserError {
  const usage = usageLine(command);
  if (error instanceof CommanderError) return new UserError("usage", `${commanderMessage(error)}\n${usage}`);
  if (error instanceof UserError) return new UserError(error.code, `${error.message}\n${usage}`, error.location);
  return new UserError("usage", `${messageOf(error)}\n${usage}`);
}

/** Commander's message on one line, without its `error: ` prefix (the caller says who is speaking). */
export function commanderMessage(error: CommanderError): string {
  return error.message
    .replace(/^error: /, "")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .join(" ");
}

/** `sluice run` for the run command, `sluice profile from-terraform` for a nested one, `sluice` for the root. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let current: Command | null = command; current?.parent; current = current.parent) names.unshift(current.name());
  return ["sluice", ...names].join(" ");
}

/** `usage: sluice run <pipeline> [--var k=v]...`: the line printed after a usage error. */
export function usageLine(command: Command): string {
  return `usage: ${commandPath(command)} ${command.usage()}`;
}

/** Examples, printed at the end of the command's `--help`. */
export function withExamples(command: Command, ...examples: string[]): Command {
  return command.addHelpText("after", `\nExample${examples.length > 1 ? "s" : ""}:\n${examples.map((e) => `  ${e}`).join("\n")}\n`);
}

// Option value parsers. They throw UserError, which commander lets through unchanged, so the message names
// the flag and the value the way the rest of Sluice does.

/** `--port`: 0 (any free port) to 65535. */
export function portNumber(flag: string): (text: string) => number {
  return (text) => {
    const port = Number(text);
    if (text.trim() === "" || !Number.isInteger(port) || port < 0 || port > 65535) throw new UserError("invalid_value", `${flag}: "${text}" is not a port number (0 to 65535)`);
    return port;
  };
}

/** A whole number ≥ 1 (`--concurrency 4`, `--grace 30000`). */
export function wholeNumber(flag: string): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (text.trim() === "" || !Number.isInteger(n) || n < 1) throw new UserError("invalid_value", `${flag}: "${text}" is not a whole number ≥ 1`);
    return n;
  };
}

/** An ISO 8601 date or date-time, returned as a UTC ISO string. */
export function isoDate(flag: string): (text: string) => string {
  return (text) => {
    // `new Date` alone accepts "1" or "March 7"; an ISO date starts with a four-digit year.
    const date = /^\d{4}-\d{2}-\d{2}/.test(text) ? new Date(text) : new Date(Number.NaN);
    if (Number.isNaN(date.getTime())) throw new UserError("invalid_value", `${flag}: "${text}" is not an ISO date (e.g. 2024-01-31 or 2024-01-31T06:00:00Z)`);
    return date.toISOString();
  };
}

/** A duration as `pipeline.yaml` writes them (`30d`, `12h`, `500ms`), in milliseconds. */
export function duration(flag: string): (text: string) => number {
  return (text) => parseDuration(text, { path: flag });
}

/** A repeatable `key=value` option (`--var months=[1,2] --var n=3`), collected in order. */
export function keyValuePairs(flag: string): (text: string, previous: string[] | undefined) => string[] {
  return (text, previous) => {
    if (text.indexOf("=") <= 0) throw new UserError("invalid_var", `${flag} expects key=value, got "${text}"`);
    return [...(previous ?? []), text];
  };
}

/** A repeatable option collected in order (`--queue a --queue b`). */
export function repeated(text: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), text];
}
