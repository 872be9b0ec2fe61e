/**
 * Dynamic blocks, as pure functions: a block with `dynamic: true` returns a table; each of its rows becomes one
 * instance of each of its direct downstream blocks (`child[0]`, `child[1]`… or `child[<key>]` with
 * `dynamic_key:`), each a block run of its own with the row as `ctx.item`. The declared block (`child`) stays
 * in the run as the group of its instances: it ends once they all have, and with `reduce: true` its output is
 * their outputs gathered into one table (columns unified by name, rows in instance order), the input of the
 * blocks after it. Without `reduce` the group orders the blocks after it without feeding them.
 *
 * ```
 *   months(dynamic) ──► download ──► clean          declared
 *
 *                  ┌──► download[0] ──┐
 *   months(3 rows) ├──► download[1] ──┼──► download(reduce) ──► clean          run
 *                  └──► download[2] ──┘
 * ```
 */
import { UserError } from "./errors";
import type { BlockSpec } from "./model";

/** More instances than this from one dynamic block is almost certainly a mistake (a whole table instead of a list). */
export const MAX_DYNAMIC_INSTANCES = 10_000;

/** What an instance reads as `ctx.item` / `{{ item.x }}`: one row, its values JSON-safe. */
export type DynamicItem = Record<string, unknown>;

const INSTANCE = /^([a-z0-9_]+)\[([A-Za-z0-9_-]{1,100})\]$/;
const KEY = /^[A-Za-z0-9_-]{1,100}$/;

/** The instance name of `block` for `key`: `child[0]`, `child[2020-10]`. */
export function instanceName(block: string, key: string | number): string {
  return `${block}[${key}]`;
}

/** The declared block and key of an instance name, or null for a plain block name. */
export function parseInstanceName(name: string): { block: string; key: string } | null {
  const match = INSTANCE.exec(name);
  return match ? { block: match[1], key: match[2] } : null;
}

/** The dynamic block among the direct upstreams of `block` (validation allows at most one), if any. */
export function dynamicParentOf(blocks: readonly BlockSpec[], block: BlockSpec): BlockSpec | undefined {
  return block.upstream.map((up) => blocks.find((b) => b.name === up)).find((b) => b?.dynamic === true);
}

/**
 * The instance names of `child` for the rows of its dynamic parent: by index, or by the parent's `dynamic_key`
 * column (values of letters, digits, `_` and `-`, unique).
 *
 * @throws UserError `dynamic_too_many` above `MAX_DYNAMIC_INSTANCES`, `dynamic_key` naming the row whose key
 *   is missing, not a name, or repeated.
 */
export function instanceNames(child: string, parent: Pick<BlockSpec, "name" | "dynamicKey">, items: readonly DynamicItem[]): string[] {
  if (items.length > MAX_DYNAMIC_INSTANCES) {
    throw new UserError("dynamic_too_many", `dynamic block "${parent.name}" returned ${items.length} rows; at most ${MAX_DYNAMIC_INSTANCES} instances of "${child}" may run from one block`, { block: parent.name });
  }
  const column = parent.dynamicKey;
  if (column === undefined) return items.map((_, i) => instanceName(child, i));
  const seen = new Map<string, number>();
  return items.map((item, i) => {
    const value = item[column];
    const key = typeof value === "number" || typeof value === "bigint" ? String(value) : value;
    if (typeof key !== "string" || !KEY.test(key)) {
      throw new UserError(
        "dynamic_key",
        `dynamic block "${parent.name}": row ${i} has ${column} = ${JSON.stringify(value) ?? "undefined"}; a dynamic_key value names an instance, so it must be letters, digits, _ and - (1 to 100)`,
        { block: parent.name },
      );
    }
    const first = seen.get(key);
    if (first !== undefined) {
      throw new UserError("dynamic_key", `dynamic block "${parent.name}": rows ${first} and ${i} both have ${column} = "${key}"; dynamic_key values must be unique`, { block: parent.name });
    }
    seen.set(key, i);
    return instanceName(child, key);
  });
}

/** One block run of a run graph after expansion. */
export interface RunNode {
  name: string;
  upstream: string[];
  /** Instances: the declared block whose code runs. */
  instanceOf?: string;
  item?: DynamicItem;
  /** Groups: their instances, in order (what a reduce gathers). */
  instances?: string[];
}

/**
 * The run graph once the dynamic blocks have returned: every direct downstream of a dynamic block is a group
 * whose upstreams are its instances; each instance has the declared block's upstreams. `items` maps a dynamic
 * block to its rows (blocks not yet run are absent: their downstream stays unexpanded, as declared).
 */
export function expandDynamic(blocks: readonly BlockSpec[], items: ReadonlyMap<string, readonly DynamicItem[]>): RunNode[] {
  const nodes: RunNode[] = [];
  for (const block of blocks) {
    const parent = dynamicParentOf(blocks, block);
    const rows = parent ? items.get(parent.name) : undefined;
    if (!parent || !rows) {
      nodes.push({ name: block.name, upstream: [...block.upstream] });
      continue;
    }
    const names = instanceNames(block.name, parent, rows);
    names.forEach((name, i) => nodes.push({ name, upstream: [...block.upstream], instanceOf: block.name, item: rows[i] }));
    nodes.push({ name: block.name, upstream: [...names], instances: names });
  }
  return nodes;
}

/** The spec an instance runs with: the declared block's, under the instance's name. */
export function instanceSpec(declared: BlockSpec, name: string): BlockSpec {
  const { dynamic: _dynamic, dynamicKey: _key, reduce: _reduce, ...rest } = declared;
  return { ...rest, name, instanceOf: declared.name };
}

/**
 * The DuckDB query a reduce runs over its instances' outputs (each a table named after its instance): rows of
 * every instance in instance order, then in their own order; columns unified by name (`UNION ALL BY NAME`: a
 * column missing from an instance is NULL there, types widened).
 */
export function reduceSql(instances: readonly string[]): string {
  if (instances.length === 0) throw new UserError("invalid_value", "a reduce needs at least one instance output");
  const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
  const parts = instances.map((name, i) => `SELECT *, ${i} AS __sluice_instance, row_number() OVER () AS __sluice_row FROM ${quote(name)}`);
  return `SELECT * EXCLUDE (__sluice_instance, __sluice_row) FROM (\n${parts.join("\nUNION ALL BY NAME\n")}\n) ORDER BY __sluice_instance, __sluice_row`;
}

/**
 * The value of a condition block from its output rows: a TypeScript condition returns a boolean (no rows
 * needed); a SQL condition's result must be exactly one row with one boolean column.
 *
 * @throws UserError `bad_condition` describing what the query returned instead.
 */
export function conditionValueFromRows(block: string, rows: readonly Record<string, unknown>[]): boolean {
  const describe = () => `${rows.length} row(s)${rows[0] ? ` with column(s) ${Object.keys(rows[0]).join(", ")}` : ""}`;
  if (rows.length !== 1) throw new UserError("bad_condition", `condition ${block} returned ${describe()}; a SQL condition returns one row with one boolean column`, { block });
  const values = Object.values(rows[0]);
  if (values.length !== 1 || typeof values[0] !== "boolean") {
    throw new UserError("bad_condition", `condition ${block} returned ${describe()} (${JSON.stringify(values)}); a SQL condition returns one row with one boolean column`, { block });
  }
  return values[0];
}

/** Why a block was skipped, shown in the notebook and the run page. */
export const skipReasons = {
  conditionFalse: (condition: string) => `condition ${condition} was false`,
  noItems: (parent: string) => `dynamic block ${parent} returned no rows`,
  upstreamSkipped: (rule: string) => `not run under trigger rule ${rule}: its upstreams were skipped or did not match the rule`,
} as const;
