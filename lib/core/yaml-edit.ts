/**
 * Edits of `pipeline.yaml` that keep the file the user wrote: the text is parsed into a `yaml` Document
 * (which keeps comments, key order, blank lines and quoting), only the nodes whose meaning changed are set,
 * added or deleted, and the Document is printed again. Defaults are never expanded: a key is written only
 * when its value differs from what the file already says, and a setting put back to its default leaves the
 * file. Pure: text in, text out; the result is validated by the schema like a hand edit.
 */
import { isMap, isScalar, isSeq, Pair, parseDocument, Scalar, YAMLMap, YAMLSeq, type Document, type Node } from "yaml";
import { UserError } from "./errors";
import { DEFAULT_RETRY_POLICY, type BlockSpec, type Pipeline, type RetryPolicy } from "./model";
import { applyPipelineChanges, type PipelineChange, type PipelineChangeError } from "./pipeline-changes";
import { parsePipelineYaml, toFileBlock } from "./pipeline-schema";
import { formatDuration } from "./duration";

/** The order of the top-level keys, where a key the file lacks is inserted. */
const TOP_ORDER = ["version", "name", "description", "variables", "secret_variables", "blocks"];
const RETRY_KEYS: Record<keyof RetryPolicy, string> = { count: "count", delayMs: "delay", backoff: "backoff", maxDelayMs: "max_delay" };

/** Renames the diff cannot see: old name → new name. */
export interface YamlRenames {
  blocks?: Record<string, string>;
  variables?: Record<string, string>;
}

export type YamlEditResult = { ok: true; text: string; pipeline: Pipeline } | { ok: false; error: PipelineChangeError | UserError };

/**
 * Applies `changes` to the pipeline in `text` (checked by `applyPipelineChanges`), writes the difference
 * into the text, and parses the result again so a change that breaks the file is refused with the
 * located error the loader gives (`file:line:col: …`). Never throws for a bad change.
 *
 * @throws UserError when `text` itself is not a valid pipeline (nothing to edit).
 */
export function editPipelineYaml(text: string, file: string, changes: readonly PipelineChange[]): YamlEditResult {
  const before = parsePipelineYaml(text, file);
  const applied = applyPipelineChanges(before, changes);
  if (!applied.ok) return { ok: false, error: applied.error };
  const renames: YamlRenames = { blocks: {}, variables: {} };
  for (const change of changes) {
    if (change.type === "rename_block") renames.blocks![change.from] = change.to;
    if (change.type === "rename_variable") renames.variables![change.from] = change.to;
  }
  const next = updatePipelineYaml(text, before, applied.pipeline, renames);
  try {
    return { ok: true, text: next, pipeline: parsePipelineYaml(next, file) };
  } catch (error) {
    if (error instanceof UserError) return { ok: false, error };
    throw error;
  }
}

/**
 * `text` (whose pipeline is `before`) rewritten to say `after`, touching only what differs. Blocks and
 * variables are matched by name (through `renames` when renamed); a new one goes at the end of its list,
 * a top-level key the file lacks goes where the canonical order puts it.
 */
export function updatePipelineYaml(text: string, before: Pipeline, after: Pipeline, renames: YamlRenames = {}): string {
  const doc = parseDocument(text, { keepSourceTokens: false });
  const root = doc.contents;
  if (!isMap(root)) throw new UserError("invalid_value", "pipeline.yaml must be a mapping to be edited");

  if (before.name !== after.name) setKey(doc, root, "name", after.name, TOP_ORDER);
  if (before.description !== after.description) {
    if (after.description === "") root.delete("description");
    else setKey(doc, root, "description", after.description, TOP_ORDER);
  }
  updateVariables(doc, root, before, after, renames.variables ?? {});
  const secretsBefore = before.secretVariables ?? [];
  const secretsAfter = after.secretVariables ?? [];
  if (JSON.stringify(secretsBefore) !== JSON.stringify(secretsAfter)) {
    if (secretsAfter.length === 0) root.delete("secret_variables");
    else setKey(doc, root, "secret_variables", flowSeq(doc, secretsAfter, root.get("secret_variables", true)), TOP_ORDER);
  }
  updateBlocks(doc, root, before, after, renames.blocks ?? {});
  const options = { lineWidth: 0, flowCollectionPadding: false, indentSeq: indentsSequences(text) } as const;
  return keepUntouchedLines(text, parseDocument(text).toString(options), doc.toString(options));
}

/**
 * The printer normalises some spacing (`key: 1    # note` becomes `key: 1 # note`). Lines the edit did not
 * change are taken from the original text instead: `untouched` is the original as the printer writes it,
 * line for line (when the printer kept the line count), and a line diff of it against `edited` tells which
 * lines the edit changed.
 */
function keepUntouchedLines(original: string, untouched: string, edited: string): string {
  const source = original.split("\n");
  const before = untouched.split("\n");
  const after = edited.split("\n");
  if (source.length !== before.length || before.length * after.length > 4_000_000) return edited;
  const n = before.length;
  const m = after.length;
  // Longest common subsequence table, from the ends, so the walk below goes forwards.
  const width = m + 1;
  const lcs = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * width + j] = before[i] === after[j] ? lcs[(i + 1) * width + j + 1] + 1 : Math.max(lcs[(i + 1) * width + j], lcs[i * width + j + 1]);
    }
  }
  const out: string[] = [];
  // Original lines the edit replaced since the last unchanged one: their comment spacing is reused.
  let replaced: string[] = [];
  let i = 0;
  let j = 0;
  while (j < m) {
    if (i < n && before[i] === after[j]) {
      out.push(source[i]);
      replaced = [];
      i++;
      j++;
    } else if (i < n && lcs[(i + 1) * width + j] >= lcs[i * width + j + 1]) replaced.push(source[i++]);
    else out.push(withCommentSpacing(after[j++], replaced));
  }
  return out.join("\n");
}

const TRAILING_COMMENT = /^(.*?\S)([ \t]+)(#.*)$/;

/** `line` with the gap before its trailing comment as wide as in the original line that had the same comment. */
function withCommentSpacing(line: string, originals: readonly string[]): string {
  const edited = TRAILING_COMMENT.exec(line);
  if (!edited) return line;
  for (const original of originals) {
    const match = TRAILING_COMMENT.exec(original);
    if (match && match[3] === edited[3]) return `${edited[1]}${match[2]}${edited[3]}`;
  }
  return line;
}

/** Whether the file indents `- item` under its key (the yaml package's default) or writes it flush. */
function indentsSequences(text: string): boolean {
  const match = /^[A-Za-z_][\w]*:[ \t]*(?:#.*)?\r?\n(?:[ \t]*(?:#.*)?\r?\n)*([ \t]*)- /m.exec(text);
  return match ? match[1].length > 0 : true;
}

function updateVariables(doc: Document, root: YAMLMap, before: Pipeline, after: Pipeline, renames: Record<string, string>): void {
  const oldNames = Object.keys(before.variables);
  const newNames = Object.keys(after.variables);
  if (oldNames.length === 0 && newNames.length === 0) return;
  if (newNames.length === 0) {
    root.delete("variables");
    return;
  }
  const existing: unknown = root.get("variables", true);
  let variables: YAMLMap;
  if (isMap(existing)) variables = existing;
  else {
    variables = new YAMLMap();
    setKey(doc, root, "variables", variables, TOP_ORDER);
  }
  const renamedTo = new Map(Object.entries(renames));
  for (const name of oldNames) {
    const target = renamedTo.get(name) ?? name;
    const pair = findPair(variables, name);
    if (!(target in after.variables)) {
      variables.delete(name);
      continue;
    }
    if (pair && target !== name) pair.key = renameKey(pair.key, target);
  }
  for (const name of newNames) {
    const value = after.variables[name];
    const oldName = [...renamedTo.entries()].find(([, to]) => to === name)?.[0] ?? name;
    const pair = findPair(variables, name);
    if (pair && oldName in before.variables && JSON.stringify(before.variables[oldName]) === JSON.stringify(value)) continue;
    if (pair) pair.value = replaceValue(doc, pair.value, value);
    else variables.items.push(new Pair(new Scalar(name), valueNode(doc, value)));
  }
}

function updateBlocks(doc: Document, root: YAMLMap, before: Pipeline, after: Pipeline, renames: Record<string, string>): void {
  const existing: unknown = root.get("blocks", true);
  let blocks: YAMLSeq;
  if (isSeq(existing)) blocks = existing;
  else {
    if (after.blocks.length === 0 && before.blocks.length === 0) return;
    blocks = new YAMLSeq();
    setKey(doc, root, "blocks", blocks, TOP_ORDER);
  }
  if (blocks.flow && after.blocks.length > 0) blocks.flow = false;
  const oldByName = new Map(before.blocks.map((b) => [b.name, b]));
  const newByName = new Map(after.blocks.map((b) => [b.name, b]));
  const kept: unknown[] = [];
  for (const item of blocks.items) {
    const name = isMap(item) ? item.get("name") : undefined;
    if (typeof name !== "string") {
      kept.push(item);
      continue;
    }
    const newName = renames[name] ?? name;
    const next = newByName.get(newName);
    const old = oldByName.get(name);
    if (!next || !old) continue;
    updateBlock(doc, item as YAMLMap, old, next);
    kept.push(item);
    newByName.delete(newName);
  }
  // Blocks the file did not have, in the pipeline's order, each after a blank line like the rest.
  for (const block of after.blocks) {
    if (!newByName.has(block.name)) continue;
    const node = doc.createNode(toFileBlock(block)) as YAMLMap;
    styleBlock(node);
    if (kept.length > 0) node.spaceBefore = true;
    kept.push(node);
  }
  blocks.items = kept;
}

/** How a block written by Sluice looks: `upstream` and `retries` on one line. */
function styleBlock(node: YAMLMap): void {
  const upstream = node.get("upstream", true);
  if (isSeq(upstream)) upstream.flow = true;
  const retries = node.get("retries", true);
  if (isMap(retries)) retries.flow = true;
}

function updateBlock(doc: Document, node: YAMLMap, old: BlockSpec, next: BlockSpec): void {
  const oldFile = toFileBlock(old);
  const newFile = toFileBlock(next);
  // Where a key the block lacks goes: the order `toFileBlock` writes keys in (the new value has every key being added).
  const order = Object.keys(newFile);
  for (const key of new Set([...Object.keys(oldFile), ...Object.keys(newFile)])) {
    if (key === "retries") {
      updateRetries(doc, node, old.retries, next.retries, order);
      continue;
    }
    const value = newFile[key];
    if (JSON.stringify(oldFile[key]) === JSON.stringify(value)) continue;
    // An empty upstream list is the default: a file that never said `upstream:` keeps not saying it.
    if (value === undefined || (key === "upstream" && Array.isArray(value) && value.length === 0 && !node.has("upstream"))) {
      node.delete(key);
      continue;
    }
    const pair = findPair(node, key);
    if (pair) pair.value = replaceValue(doc, pair.value, value);
    else {
      const created = valueNode(doc, value);
      if (isSeq(created)) created.flow = true;
      setKey(doc, node, key, created, order);
    }
  }
}

/** Only the retry settings that changed are written; all back at their defaults removes `retries:`. */
function updateRetries(doc: Document, node: YAMLMap, old: RetryPolicy, next: RetryPolicy, order: string[]): void {
  const isDefault = (Object.keys(RETRY_KEYS) as (keyof RetryPolicy)[]).every((k) => next[k] === DEFAULT_RETRY_POLICY[k]);
  if (isDefault) {
    node.delete("retries");
    return;
  }
  const existing: unknown = node.get("retries", true);
  let retries: YAMLMap;
  if (isMap(existing)) retries = existing;
  else {
    retries = new YAMLMap();
    retries.flow = true;
    setKey(doc, node, "retries", retries, order);
  }
  for (const key of Object.keys(RETRY_KEYS) as (keyof RetryPolicy)[]) {
    const fileKey = RETRY_KEYS[key];
    const written = retries.has(fileKey);
    if (next[key] === old[key] && (written || next[key] === DEFAULT_RETRY_POLICY[key])) continue;
    const value = key === "delayMs" || key === "maxDelayMs" ? formatDuration(next[key]) : next[key];
    const pair = findPair(retries, fileKey);
    if (next[key] === DEFAULT_RETRY_POLICY[key] && pair) retries.delete(fileKey);
    else if (pair) pair.value = replaceValue(doc, pair.value, value);
    else if (next[key] !== DEFAULT_RETRY_POLICY[key]) retries.items.push(new Pair(new Scalar(fileKey), valueNode(doc, value)));
  }
}

function findPair(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === key) as Pair | undefined;
}

function renameKey(key: unknown, name: string): Scalar {
  if (isScalar(key)) {
    const renamed = new Scalar(name);
    renamed.commentBefore = key.commentBefore;
    renamed.comment = key.comment;
    return renamed;
  }
  return new Scalar(name);
}

/**
 * The node for a new value in place of `current`: a scalar keeps its node (so its comment and quoting
 * style stay), a list or map keeps flow or block style, otherwise a fresh node.
 */
function replaceValue(doc: Document, current: unknown, value: unknown): unknown {
  if (isScalar(current) && (value === null || typeof value !== "object")) {
    // A string quoted by hand stays quoted; a value that changes kind (text → number) drops the old style.
    if (typeof current.value !== typeof value) current.type = undefined;
    current.value = value;
    return current;
  }
  const created = valueNode(doc, value);
  if ((isSeq(current) || isMap(current)) && (isSeq(created) || isMap(created))) {
    // An empty list written as a block would print `key:` then `[]` on its own line.
    created.flow = (current.flow ?? false) || created.items.length === 0;
    created.comment = current.comment;
    created.commentBefore = current.commentBefore;
  }
  return created;
}

/** A node for a value Sluice writes: short lists of plain values on one line, like `serializePipeline`. */
function valueNode(doc: Document, value: unknown): Node {
  const node = doc.createNode(value) as Node;
  if (isSeq(node) && node.items.length <= 20 && node.items.every((i) => isScalar(i))) node.flow = true;
  return node;
}

function flowSeq(doc: Document, values: string[], current: unknown): Node {
  const node = doc.createNode(values) as YAMLSeq;
  node.flow = isSeq(current) ? (current.flow ?? false) : true;
  return node;
}

/** Sets `key` in `map`: in place when present, else inserted before the first key that `order` puts after it. */
function setKey(doc: Document, map: YAMLMap, key: string, value: unknown, order: readonly string[]): void {
  const pair = findPair(map, key);
  if (pair && !isMap(value) && !isSeq(value) && !(value instanceof Scalar)) {
    pair.value = replaceValue(doc, pair.value, value);
    return;
  }
  const node = value instanceof Scalar || isMap(value) || isSeq(value) ? value : doc.createNode(value);
  if (pair) {
    pair.value = node;
    return;
  }
  const rank = order.indexOf(key);
  const index = map.items.findIndex((p) => {
    const name = isScalar(p.key) ? String(p.key.value) : String(p.key);
    const other = order.indexOf(name);
    return rank >= 0 && other > rank;
  });
  const created = new Pair(new Scalar(key), node);
  if (index < 0) map.items.push(created);
  else {
    // A comment or blank line that introduced the next key stays with that key, above the new one.
    const next = map.items[index];
    if (isScalar(next.key) && next.key.commentBefore && index === 0) {
      created.key = Object.assign(new Scalar(key), { commentBefore: next.key.commentBefore });
      next.key.commentBefore = undefined;
    }
    map.items.splice(index, 0, created);
  }
}
