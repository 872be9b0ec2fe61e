/**
 * Pure display rules of the output preview: column widths, the one grid template the header and every row
 * share, and how values and stats read. No React, so the rules are unit-tested on their own.
 */

/** Width of the row-number column. */
export const INDEX_WIDTH = 64;
export const MIN_COLUMN_WIDTH = 48;
export const MAX_COLUMN_WIDTH = 1200;
/** Cells show at most this many characters of a value; the full value is one click (or a hover) away. */
export const CELL_MAX_CHARS = 120;

/** `Timestamp<MICROSECOND>` (no zone) as opposed to `Timestamp<MICROSECOND, UTC>`. */
export function isNaiveTimestampType(type: string): boolean {
  return /^Timestamp<[A-Z]+>$/.test(type);
}

/**
 * A starting width for a column, from its type and name: wide enough for a typical value (a timestamp
 * reading, a 12-digit number) and for the name, so that nothing important starts out cut off.
 */
export function initialColumnWidth(name: string, type: string): number {
  let value = 120;
  if (type.startsWith("Timestamp")) value = isNaiveTimestampType(type) ? 170 : 220;
  else if (type.startsWith("Date")) value = 100;
  else if (/^(Int|Uint)(8|16)$/.test(type) || type === "Bool") value = 72;
  else if (/^(Int|Uint)(32|64)$/.test(type) || type.startsWith("Float")) value = 100;
  else if (type.startsWith("Decimal")) value = 140;
  else if (type === "Utf8" || type === "LargeUtf8") value = 160;
  // ~7.5 px per character of the bold name plus the cell padding; stats need ~130 px.
  const forName = Math.ceil(name.length * 7.5) + 16;
  return clampWidth(Math.max(value, forName, 130));
}

export function clampWidth(width: number): number {
  return Math.round(Math.min(MAX_COLUMN_WIDTH, Math.max(MIN_COLUMN_WIDTH, width)));
}

/**
 * The `grid-template-columns` of the header and of every row. Fixed pixel tracks, never `fr` or
 * `minmax(…, 1fr)`: those resolve against each grid's own content, which is how a header and rows sized
 * separately drift apart column by column.
 */
export function gridTemplate(widths: readonly number[]): string {
  return [INDEX_WIDTH, ...widths].map((width) => `${width}px`).join(" ");
}

export function gridWidth(widths: readonly number[]): number {
  return widths.reduce((sum, width) => sum + width, INDEX_WIDTH);
}

/** What a value reads as in a cell (null is drawn as a badge by the caller, never as text). */
export function valueText(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === null || value === undefined) return "";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** A value cut to `CELL_MAX_CHARS` characters, and whether it was cut. */
export function truncated(text: string): { text: string; cut: boolean } {
  if (text.length <= CELL_MAX_CHARS) return { text, cut: false };
  return { text: `${text.slice(0, CELL_MAX_CHARS)}…`, cut: true };
}

/**
 * A UTC ISO instant (`2020-10-01T00:09:00.000Z`, as summaries store timestamps) as the wall-clock reading of
 * a column without a zone, `2020-10-01 00:09:00`: the summary encodes the reading as if it were UTC, so
 * dropping the `T`, the zero milliseconds and the `Z` gives back exactly what the cells show.
 */
export function naiveReading(iso: string): string {
  const match = /^([+-]?\d{4,6}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(iso);
  if (!match) return iso;
  const fraction = (match[3] ?? "").replace(/0+$/, "");
  return `${match[1]} ${match[2]}${fraction ? `.${fraction}` : ""}`;
}

/** A summary's min or max as the header shows it, read the way the column's cells are. */
export function statValue(value: string | number | boolean | null, type: string): string {
  if (value === null) return "—";
  if (typeof value === "string" && isNaiveTimestampType(type)) return naiveReading(value);
  return String(value);
}

/** A distinct count: exact as is, an estimate marked `≈`. */
export function distinctText(count: number, exact: boolean): string {
  return `${exact ? "" : "≈"}${count.toLocaleString("en-US")}`;
}
