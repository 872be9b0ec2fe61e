/**
 * Loading hand-written YAML config (`pipeline.yaml`, and the same way `triggers.yaml`, `sluice.yaml`)
 * so that every error names file, line and column: the YAML is parsed into a document that keeps source
 * positions, validated with a zod schema, and each issue's key path is mapped back to its node.
 * Pure: it takes text, never reads files.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document } from "yaml";
import type { z } from "zod";
import { messageOf, UserError, type ErrorLocation } from "./errors";
import { formatKeyPath, type PathSegment } from "./key-path";
import { didYouMean } from "./suggest";

/** 1-based, as editors show them. */
export interface YamlPosition {
  line: number;
  column: number;
}

/** A parsed YAML file: its plain value and a way back from key paths to source positions. */
export interface LoadedYaml {
  file: string;
  value: unknown;
  /**
   * Position of the node at `path` (its key with `at: "key"`), or of the nearest ancestor that exists
   * when the path does not (a missing required key points at the map that lacks it).
   */
  locate(path: readonly PathSegment[], at?: "key" | "value"): YamlPosition;
}

/**
 * Parse YAML text keeping positions.
 *
 * @throws UserError code `invalid_yaml` with line and column of the first syntax error (also for
 *   duplicate keys, several documents in one file, keys that are lists or maps, and alias bombs).
 */
export function loadYaml(text: string, file: string): LoadedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const [first] = doc.errors;
  if (first) {
    const { line, col } = lineCounter.linePos(first.pos[0]);
    throw yamlError(file, { line, column: col }, first.message);
  }
  visit(doc, {
    Pair(_, pair) {
      if (!isScalar(pair.key) && pair.key !== null) {
        const offset = isNodeWithRange(pair.key) ? pair.key.range[0] : 0;
        const { line, col } = lineCounter.linePos(offset);
        throw yamlError(file, { line, column: col }, "keys must be plain words or strings, not lists or maps");
      }
    },
  });
  const position = (offset: number): YamlPosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  let value: unknown;
  try {
    // A low alias budget refuses "billion laughs" files that expand aliases exponentially.
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    const detail = messageOf(error);
    throw yamlError(file, { line: 1, column: 1 }, detail);
  }
  return {
    file,
    value,
    locate: (path, at = "value") => position(locateOffset(doc, path, at)),
  };
}

function yamlError(file: string, where: YamlPosition, detail: string): UserError {
  const message = `${file}:${where.line}:${where.column}: invalid YAML: ${detail}`;
  return new UserError("invalid_yaml", message, { file, line: where.line, column: where.column });
}

interface NodeWithRange {
  range: [number, number, number];
}

function isNodeWithRange(value: unknown): value is NodeWithRange {
  if (typeof value !== "object" || value === null || !("range" in value)) return false;
  const { range } = value;
  return Array.isArray(range) && typeof range[0] === "number";
}

function locateOffset(doc: Document, path: readonly PathSegment[], at: "key" | "value"): number {
  let node: unknown = doc.contents;
  let offset = isNodeWithRange(node) ? node.range[0] : 0;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i];
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) return offset;
      if (last && at === "key" && isNodeWithRange(pair.key)) return pair.key.range[0];
      node = pair.value;
      if (isNodeWithRange(node)) offset = node.range[0];
      else if (isNodeWithRange(pair.key)) offset = pair.key.range[0];
      else return offset;
    } else if (isSeq(node) && typeof segment === "number") {
      node = node.items[segment];
      if (!isNodeWithRange(node)) return offset;
      offset = node.range[0];
    } else {
      return offset;
    }
  }
  return offset;
}

/** Options for turning zod issues into located errors. */
export interface SchemaErrorOptions {
  /** Keys allowed in the map at `path`, to suggest a fix for an unknown key. */
  knownKeys?: (path: readonly PathSegment[]) => readonly string[];
  /** The block a path falls in, for `location.block`. */
  blockAt?: (path: readonly PathSegment[]) => string | undefined;
}

/**
 * One `UserError` per zod issue (one per unknown key), in file order, each with file,
 * key path, line and column. Codes: `unknown_key` for keys the strict schema does not know,
 * `invalid_value` for everything else (wrong type, missing key, bad enum value, custom checks).
 * Parse with `error: yamlErrorMap` for messages in the same voice.
 */
export function schemaErrors(issues: readonly z.core.$ZodIssue[], loaded: LoadedYaml, options: SchemaErrorOptions = {}): UserError[] {
  const errors: UserError[] = [];
  for (const issue of issues) {
    const path = issue.path.filter((s): s is PathSegment => typeof s === "string" || typeof s === "number");
    if (issue.code === "unrecognized_keys") {
      const known = options.knownKeys?.(path) ?? [];
      for (const key of issue.keys) {
        const keyPath = [...path, key];
        errors.push(locatedError(loaded, "unknown_key", keyPath, `unknown key "${key}"${didYouMean(key, known)}`, options, "key"));
      }
      continue;
    }
    errors.push(locatedError(loaded, "invalid_value", path, issue.message, options));
  }
  return sortByPosition(errors);
}

/** Errors in the order they appear in the file (stable for equal positions). */
export function sortByPosition(errors: readonly UserError[]): UserError[] {
  const key = (e: UserError): number => (e.location.line ?? 0) * 1_000_000 + (e.location.column ?? 0);
  return [...errors].sort((a, b) => key(a) - key(b));
}

/** A `UserError` at a key path of a loaded file: `file:line:col: path: detail`. */
export function locatedError(
  loaded: LoadedYaml,
  code: string,
  path: readonly PathSegment[],
  detail: string,
  options: Pick<SchemaErrorOptions, "blockAt"> = {},
  at: "key" | "value" = "value",
): UserError {
  const { line, column } = loaded.locate(path, at);
  const pathText = formatKeyPath(path);
  const location: ErrorLocation = { file: loaded.file, line, column };
  if (pathText !== "") location.path = pathText;
  const block = options.blockAt?.(path);
  if (block !== undefined) location.block = block;
  const message = `${loaded.file}:${line}:${column}: ${pathText === "" ? "" : `${pathText}: `}${detail}`;
  return new UserError(code, message, location);
}

/**
 * Messages for zod issues as a YAML author reads them ("missing required key", "expected a list, got
 * the text \"a\""). Pass it as the `error` option of `safeParse`; messages set on a schema still win.
 */
export const yamlErrorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return "missing required key";
      return `expected ${describeExpected(issue.expected)}, got ${describeValue(issue.input)}`;
    case "invalid_value": {
      if (issue.input === undefined) return "missing required key";
      const options = issue.values.map((v) => String(v));
      const typo = typeof issue.input === "string" ? didYouMean(issue.input, options) : "";
      return `expected ${options.length === 1 ? options[0] : `one of ${options.join(", ")}`}, got ${describeValue(issue.input)}${typo}`;
    }
    case "too_small":
      return issue.origin === "string" ? "must not be empty" : `must be ≥ ${String(issue.minimum)}`;
    default:
      return undefined;
  }
};

function describeExpected(expected: string): string {
  switch (expected) {
    case "object":
    case "record":
      return "a mapping (key: value)";
    case "array":
      return "a list";
    case "int":
      return "a whole number";
    default:
      return `a ${expected}`;
  }
}

/** How a wrong value is named in a message: the value itself if short, else its kind. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null (an empty value)";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value !== "string") return String(value);
  const shown = JSON.stringify(value);
  return shown.length <= 40 ? `the text ${shown}` : `the text ${shown.slice(0, 37)}…`;
}
