/**
 * The most frequent values of one column of a block output, with an exact distinct count when the column
 * is small enough to count exactly — what the preview shows when a column's stats are clicked. Computed on
 * request (not in the summary written with every output): it needs a full pass keyed by value, too costly
 * to pay for every column of every run.
 *
 * Values are rendered exactly as preview rows render them (`arrow-json.ts`, `duckdb-json.ts`), so a top
 * value reads the same as the cells it counts.
 */
import { DuckDBInstance } from "@duckdb/node-api";
import type { Table } from "apache-arrow";
import { makeArrowReader, recordKeys } from "./arrow-json";
import { duckdbTypeToArrowName, duckdbValueToJson } from "./duckdb-json";
import type { JsonValue } from "./json-value";

/**
 * Distinct values are counted exactly for columns of at most this many non-null values; beyond, the
 * summary's estimate stands (and is marked approximate). A million keys in a JS Map is ~100 MB at worst.
 */
export const EXACT_DISTINCT_MAX_VALUES = 1_000_000;
/** Keys kept after each pruning of the approximate top-values count of a bigger Arrow column. */
const TRACKED_KEYS = 50_000;

export interface TopValue {
  value: JsonValue;
  count: number;
}

export interface ColumnTopValues {
  column: string;
  type: string;
  rows: number;
  nulls: number;
  /** Distinct non-null values; null when the column is too big to count exactly (see `EXACT_DISTINCT_MAX_VALUES`). */
  distinct: number | null;
  /** Most frequent non-null values first; ties in value order. */
  values: TopValue[];
  /** False when the counts are lower bounds from a bounded-memory pass over a big Arrow column. */
  exact: boolean;
}

/** Thrown for a column name the output does not have. */
export class UnknownColumnError extends Error {
  constructor(
    readonly column: string,
    readonly available: readonly string[],
  ) {
    super(`the output has no column ${JSON.stringify(column)}`);
  }
}

type Scalar = string | number | boolean;

function keyOf(value: JsonValue): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/**
 * Keeps the `TRACKED_KEYS` most counted keys. Amortised O(1) per value (a sort every `TRACKED_KEYS` new
 * keys); a frequent value survives every pruning, a dropped one restarts from zero, so counts become
 * lower bounds.
 */
function prune(counts: Map<Scalar, number>): void {
  const kept = [...counts].sort((a, b) => b[1] - a[1]).slice(0, TRACKED_KEYS);
  counts.clear();
  for (const [key, count] of kept) counts.set(key, count);
}

function compareValues(a: TopValue, b: TopValue): number {
  if (b.count !== a.count) return b.count - a.count;
  if (typeof a.value === "number" && typeof b.value === "number") return a.value - b.value;
  const x = keyOf(a.value);
  const y = keyOf(b.value);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Top `limit` values of an Arrow column (by its preview record key). Exact for columns with at most
 * `EXACT_DISTINCT_MAX_VALUES` non-null values; beyond, the count is pruned to the `TRACKED_KEYS` most
 * frequent keys whenever it holds twice that many, so memory stays bounded whatever the table.
 */
export function topValuesOfArrow(table: Table, column: string, limit: number): ColumnTopValues {
  limit = Math.max(1, Math.floor(limit));
  const keys = recordKeys(table.schema.fields.map((field) => field.name));
  const index = keys.indexOf(column);
  if (index < 0) throw new UnknownColumnError(column, keys);
  const field = table.schema.fields[index];
  const read = makeArrowReader(field.type);
  const batches = table.getChildAt(index)?.data ?? [];
  let nulls = 0;
  for (const data of batches) nulls += data.nullCount;
  const nonNull = table.numRows - nulls;
  const exact = nonNull <= EXACT_DISTINCT_MAX_VALUES;
  // Scalars are their own keys (a column never mixes numbers and strings); nested values key by their JSON.
  const counts = new Map<Scalar, number>();
  const nested = new Map<string, JsonValue>();
  for (const data of batches) {
    for (let i = 0; i < data.length; i++) {
      const value = read(data, i);
      if (value === null) continue;
      let key: Scalar;
      if (typeof value === "object") {
        key = JSON.stringify(value);
        nested.set(key, value);
      } else {
        key = value;
      }
      counts.set(key, (counts.get(key) ?? 0) + 1);
      if (!exact && counts.size >= 2 * TRACKED_KEYS) prune(counts);
    }
  }
  const best: TopValue[] = [];
  for (const [key, count] of counts) {
    // A full sort of a million entries costs seconds; only the top few are kept in order.
    if (best.length === limit && count < best[limit - 1].count) continue;
    const entry: TopValue = { value: typeof key === "string" && nested.has(key) ? (nested.get(key) ?? null) : key, count };
    insertRanked(best, entry, limit);
  }
  const values = best;
  return { column, type: String(field.type), rows: table.numRows, nulls, distinct: exact ? counts.size : null, values, exact };
}

/** Inserts `entry` into `ranked` (kept in `compareValues` order) and trims it to `limit` entries. */
function insertRanked(ranked: TopValue[], entry: TopValue, limit: number): void {
  let at = ranked.length;
  while (at > 0 && compareValues(entry, ranked[at - 1]) < 0) at--;
  if (at >= limit) return;
  ranked.splice(at, 0, entry);
  if (ranked.length > limit) ranked.pop();
}

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function toCount(value: unknown): number {
  return typeof value === "bigint" || typeof value === "number" ? Number(value) : 0;
}

/**
 * Top values of Parquet outputs, counted by DuckDB (exact at any size: a GROUP BY spills to disk rather than
 * running out of memory). One in-memory database, opened on first use and shared by every request.
 */
export class ParquetTopValues {
  private instance: Promise<DuckDBInstance> | null = null;

  constructor(private readonly open: () => Promise<DuckDBInstance> = () => DuckDBInstance.create(":memory:")) {}

  async topValues(file: string, column: string, limit: number): Promise<ColumnTopValues> {
    this.instance ??= this.open();
    const connection = await (await this.instance).connect();
    try {
      const probe = await connection.runAndReadAll("SELECT * FROM read_parquet($1) LIMIT 0", [file]);
      const names = probe.columnNames();
      const keys = recordKeys(names);
      const index = keys.indexOf(column);
      if (index < 0) throw new UnknownColumnError(column, keys);
      const quoted = quoteIdentifier(names[index]);
      const totals = await connection.runAndReadAll(`SELECT count(*) AS total, count(${quoted}) AS present FROM read_parquet($1)`, [file]);
      const [total, present] = totals.getRows()[0] ?? [0, 0];
      const rows = toCount(total);
      const nonNull = toCount(present);
      let distinct: number | null = null;
      if (nonNull <= EXACT_DISTINCT_MAX_VALUES) {
        const counted = await connection.runAndReadAll(`SELECT count(DISTINCT ${quoted}) FROM read_parquet($1)`, [file]);
        distinct = toCount(counted.getRows()[0]?.[0]);
      }
      const top = await connection.runAndReadAll(
        `SELECT ${quoted} AS v, count(*) AS n FROM read_parquet($1) WHERE ${quoted} IS NOT NULL GROUP BY 1 ORDER BY n DESC, v ASC LIMIT $2`,
        [file, limit],
      );
      const values = top
        .getRows()
        .map(([value, count]) => ({ value: duckdbValueToJson(value), count: toCount(count) }))
        .sort(compareValues)
        .slice(0, limit);
      return { column, type: duckdbTypeToArrowName(probe.columnTypes()[index]), rows, nulls: rows - nonNull, distinct, values, exact: true };
    } finally {
      connection.closeSync();
    }
  }

  close(): void {
    void this.instance?.then((instance) => instance.closeSync());
    this.instance = null;
  }
}
