/**
 * Checks what a block's default export returned against its block type and turns it into an
 * Arrow table: a Table as is (duck-typed, since it may come from another copy of apache-arrow), an array
 * of plain objects through a schema inferred from every row. Anything else is a UserError that says what
 * came back, because "cannot read property 'schema' of undefined" helps nobody.
 */
import {
  Bool,
  Float64,
  Int64,
  Null,
  Table,
  TimestampMicrosecond,
  Utf8,
  makeData,
  makeVector,
  vectorFromArray,
  type DataType,
  type Vector,
} from "apache-arrow";
import type { BlockType } from "../core/model";
import { UserError } from "../core/errors";

/** What a block run produced, once checked. */
export type BlockReturn = { kind: "table"; table: Table } | { kind: "none" } | { kind: "sensor"; value: boolean };

/** A Table of any apache-arrow copy: it has a schema with fields and record batches. */
export function isTableLike(value: unknown): value is Table {
  if (value instanceof Table) return true;
  if (typeof value !== "object" || value === null) return false;
  const schema: unknown = Reflect.get(value, "schema");
  const batches: unknown = Reflect.get(value, "batches");
  return typeof schema === "object" && schema !== null && Array.isArray(Reflect.get(schema, "fields")) && Array.isArray(batches);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A short description of an unexpected value for error messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "undefined";
  if (value === null) return "null";
  if (Array.isArray(value)) {
    const bad = value.findIndex((item) => !isPlainObject(item));
    if (bad >= 0) return `an array whose item ${bad} is ${describeValue(value[bad])}`;
    return "an array";
  }
  if (typeof value === "object") {
    const ctor: unknown = Reflect.get(value, "constructor");
    const name = typeof ctor === "function" && ctor.name ? ctor.name : "Object";
    if (name === "Object") return `an object with keys ${Object.keys(value).slice(0, 5).join(", ") || "(none)"}`;
    return `a ${name}`;
  }
  return `a ${typeof value} (${String(value).slice(0, 40)})`;
}

/** Checks the return value of a block's default export. */
export function interpretReturn(blockType: BlockType, block: string, value: unknown): BlockReturn {
  switch (blockType) {
    case "sensor":
    case "condition":
      if (typeof value === "boolean") return { kind: "sensor", value };
      throw new UserError("bad_return", `block ${block} returned ${describeValue(value)}, expected a boolean (${blockType})`, { block });
    case "exporter":
      if (value === undefined || value === null) return { kind: "none" };
      return toTableReturn(block, value, "nothing (an exporter), an Arrow Table or an array of objects");
    case "loader":
    case "transformer":
      return toTableReturn(block, value, "an Arrow Table or an array of objects");
  }
}

function toTableReturn(block: string, value: unknown, expected: string): BlockReturn {
  if (isTableLike(value)) return { kind: "table", table: value };
  if (Array.isArray(value) && value.every(isPlainObject)) return { kind: "table", table: rowsToTable(value, block) };
  throw new UserError("bad_return", `block ${block} returned ${describeValue(value)}, expected ${expected}`, { block });
}

type Kind = "number" | "bigint" | "string" | "boolean" | "date" | "json";

function kindOf(value: unknown): Kind {
  if (typeof value === "number") return "number";
  if (typeof value === "bigint") return "bigint";
  if (typeof value === "string") return "string";
  if (typeof value === "boolean") return "boolean";
  if (value instanceof Date) return "date";
  return "json";
}

/**
 * Rows → Table with one pass per column. Inference over all rows (so a null in row 1 does not decide a
 * type): numbers → Float64 (as apache-arrow's tableFromJSON; JS cannot tell 1 from 1.0), bigints → Int64,
 * strings → Utf8, booleans → Bool, Dates → Timestamp<MICROSECOND> (the instant, UTC), objects and arrays →
 * their JSON text, null/undefined/missing → null, a column with only nulls → Null. A column mixing kinds
 * (numbers and strings) is a UserError naming it: guessing would silently change values.
 */
export function rowsToTable(rows: readonly Record<string, unknown>[], block: string): Table {
  const names: string[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    for (const key of Object.keys(row)) {
      if (!seen.has(key)) {
        seen.add(key);
        names.push(key);
      }
    }
  }
  const columns: Record<string, Vector> = {};
  for (const name of names) {
    const values = rows.map((row) => row[name]);
    columns[name] = columnVector(values, name, block);
  }
  return new Table(columns);
}

function columnVector(values: unknown[], name: string, block: string): Vector {
  let kind: Kind | null = null;
  for (const value of values) {
    if (value === null || value === undefined) continue;
    const k = kindOf(value);
    if (kind === null) kind = k;
    else if (kind !== k) {
      throw new UserError("bad_return", `block ${block} returned rows whose column "${name}" mixes ${kind} and ${k} values; return one type per column (or an Arrow Table)`, {
        block,
      });
    }
  }
  const present = values.map((value) => (value === undefined ? null : value));
  switch (kind) {
    case null:
      return makeVector(makeData({ type: new Null(), length: values.length, nullCount: values.length }));
    case "number":
      return fromArray(present, new Float64());
    case "bigint":
      return fromArray(present, new Int64());
    case "string":
      return fromArray(present, new Utf8());
    case "boolean":
      return fromArray(present, new Bool());
    case "json":
      return fromArray(
        present.map((value) => (value === null ? null : JSON.stringify(value))),
        new Utf8(),
      );
    case "date":
      return timestampVector(present);
  }
}

function fromArray(values: unknown[], type: DataType): Vector {
  return vectorFromArray(values, type);
}

/** Dates → Timestamp<MICROSECOND> from epoch milliseconds (no string round trip, no time zone). */
function timestampVector(values: unknown[]): Vector {
  const length = values.length;
  const micros = new BigInt64Array(length);
  const bitmap = new Uint8Array(Math.ceil(length / 8));
  let nullCount = 0;
  for (let i = 0; i < length; i++) {
    const value = values[i];
    if (value instanceof Date && !Number.isNaN(value.getTime())) {
      micros[i] = BigInt(value.getTime()) * 1000n;
      bitmap[i >> 3] |= 1 << (i & 7);
    } else {
      nullCount++;
    }
  }
  return makeVector(
    makeData({ type: new TimestampMicrosecond(), length, nullCount, data: micros, nullBitmap: nullCount > 0 ? bitmap : undefined }),
  );
}
