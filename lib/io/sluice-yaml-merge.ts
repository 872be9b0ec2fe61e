/**
 * Writing connections into a `sluice.yaml` someone already edits by hand. Pure: text in, text out. The file is
 * edited as a YAML document (the `yaml` package's Document API), not re-serialised from values, so comments,
 * quoting, `{{ env_var() }}` strings, other connections and other top-level keys come out as they went in.
 */
import { isMap, isScalar, parseDocument, type Document, LineCounter, type YAMLMap } from "yaml";
import { UserError } from "../core/errors";
import { loadYaml } from "../core/yaml-file";
import type { ConnectionProfile } from "./profiles";

/** One connection to write. */
export interface ConnectionToWrite {
  name: string;
  profile: ConnectionProfile;
  /**
   * Keys to delete from an existing connection of that name: those that would contradict the new values
   * (a `credentials_json` left beside a new `credentials_file` would make the two disagree about who we are).
   */
  removeKeys?: readonly string[];
}

/** What happened to each connection, for the command to report. */
export interface MergeResult {
  text: string;
  created: string[];
  updated: string[];
}

/**
 * Sets each connection under `connections:`. A new name is appended; an existing connection of the same kind
 * gets the profile's keys set in place (keys the profile does not mention, such as `api_endpoint`, stay) and
 * `removeKeys` deleted. An existing connection of another kind is refused rather than overwritten.
 *
 * @param text the current file, or null when there is none
 * @throws UserError `invalid_yaml` (located), `invalid_sluice_yaml` (the top level or `connections` is not a
 *   map), `connection_kind_conflict` (naming the connection, its kind and line)
 */
export function mergeConnections(text: string | null, file: string, connections: readonly ConnectionToWrite[]): MergeResult {
  // The loader's own checks first (syntax, duplicate keys, alias bombs), with its located messages.
  if (text !== null) loadYaml(text, file);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text ?? "", { lineCounter });
  const root = rootMap(doc, file);
  const map = connectionsMap(doc, root, file, lineCounter);
  const created: string[] = [];
  const updated: string[] = [];
  for (const { name, profile, removeKeys = [] } of connections) {
    const existing: unknown = map.get(name, true);
    if (existing === undefined || (isScalar(existing) && existing.value === null)) {
      map.set(name, doc.createNode(profile));
      created.push(name);
      continue;
    }
    if (!isMap(existing)) throw new UserError("invalid_sluice_yaml", `${where(file, existing, lineCounter)}: connections.${name} is not a map`, { file });
    const kind = existing.get("kind");
    if (kind !== profile.kind) {
      throw new UserError(
        "connection_kind_conflict",
        `${where(file, existing, lineCounter)}: connection "${name}" is ${typeof kind === "string" ? `a ${kind}` : "a"} connection, not ${profile.kind}; it was left as it is (write the new connections under other names)`,
        { file },
      );
    }
    for (const [key, value] of Object.entries(profile)) existing.set(key, value);
    for (const key of removeKeys) if (!(key in profile)) existing.delete(key);
    updated.push(name);
  }
  // lineWidth 0: never fold a long value (a URL, a path) onto a second line.
  return { text: doc.toString({ lineWidth: 0 }), created, updated };
}

function rootMap(doc: Document, file: string): YAMLMap {
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    const fresh = doc.createNode({});
    doc.contents = fresh;
    return fresh;
  }
  if (!isMap(doc.contents)) throw new UserError("invalid_sluice_yaml", `${file}: the top level is not a map of settings`, { file });
  return doc.contents;
}

function connectionsMap(doc: Document, root: YAMLMap, file: string, lineCounter: LineCounter): YAMLMap {
  const found: unknown = root.get("connections", true);
  if (found === undefined || (isScalar(found) && found.value === null)) {
    const fresh = doc.createNode({});
    root.set("connections", fresh);
    return fresh;
  }
  if (!isMap(found)) throw new UserError("invalid_sluice_yaml", `${where(file, found, lineCounter)}: connections is not a map of named connections`, { file });
  return found;
}

/** `file:line:column` of a node, for messages. */
function where(file: string, node: unknown, lineCounter: LineCounter): string {
  if (typeof node !== "object" || node === null || !("range" in node) || !Array.isArray(node.range) || typeof node.range[0] !== "number") return file;
  const { line, col } = lineCounter.linePos(node.range[0]);
  return `${file}:${line}:${col}`;
}

/**
 * Puts one connection under `connections:` as the connections page edits it: a new name is appended; an
 * existing connection of the same kind is edited key by key (an unchanged value keeps its node, so its quoting
 * and comments stay; keys the new value lacks are deleted); one of another kind is replaced whole.
 *
 * @param value the connection as the file will hold it (uninterpolated: `{{ env_var() }}` stays text)
 * @throws UserError as `mergeConnections`
 */
export function replaceConnection(text: string | null, file: string, name: string, value: Readonly<Record<string, unknown>>): { text: string; created: boolean } {
  if (text !== null) loadYaml(text, file);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text ?? "", { lineCounter });
  const map = connectionsMap(doc, rootMap(doc, file), file, lineCounter);
  const existing: unknown = map.get(name, true);
  const created = existing === undefined;
  if (!isMap(existing) || existing.get("kind") !== value.kind) {
    map.set(name, doc.createNode(value));
  } else {
    for (const [key, next] of Object.entries(value)) {
      if (!sameValue(existing.get(key, true), next)) existing.set(key, doc.createNode(next));
    }
    for (const item of [...existing.items]) {
      const key: unknown = isScalar(item.key) ? item.key.value : item.key;
      if (typeof key === "string" && !(key in value)) existing.delete(key);
    }
  }
  return { text: doc.toString({ lineWidth: 0 }), created };
}

/**
 * Deletes one connection; the rest of the file (comments included) stays.
 * @throws UserError `connection_not_found` when there is none of that name
 */
export function removeConnection(text: string | null, file: string, name: string): string {
  if (text !== null) loadYaml(text, file);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text ?? "", { lineCounter });
  const found: unknown = isMap(doc.contents) ? doc.contents.get("connections", true) : undefined;
  if (!isMap(found) || !found.has(name)) throw new UserError("connection_not_found", `${file}: no connection "${name}"`, { file });
  found.delete(name);
  return doc.toString({ lineWidth: 0 });
}

/** The connections of a file as written (uninterpolated), with the line each starts on; none → `[]`. */
export function connectionEntries(text: string | null): Array<{ name: string; value: unknown; line: number | null }> {
  if (text === null) return [];
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const found: unknown = isMap(doc.contents) ? doc.contents.get("connections", true) : undefined;
  if (!isMap(found)) return [];
  return found.items.flatMap((item) => {
    const key: unknown = isScalar(item.key) ? item.key.value : item.key;
    if (typeof key !== "string") return [];
    const value: unknown = isMap(item.value) || isScalar(item.value) ? item.value.toJSON() : null;
    const line = isScalar(item.key) && item.key.range ? lineCounter.linePos(item.key.range[0]).line : null;
    return [{ name: key, value, line }];
  });
}

/** Whether a node already holds `next` (scalars by value, maps by their JSON). */
function sameValue(node: unknown, next: unknown): boolean {
  if (isScalar(node)) return node.value === next;
  if (isMap(node)) return JSON.stringify(node.toJSON()) === JSON.stringify(next);
  return false;
}
