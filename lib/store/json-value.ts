/**
 * JSON-safe renderings of column values, shared by Arrow previews, Arrow summaries and DuckDB (Parquet)
 * previews so that the editor sees the same shape whichever format a block's output was stored in.
 *
 * Rules (DESIGN §5, `OutputPage`): timestamps become ISO strings (UTC, millisecond precision), dates
 * `YYYY-MM-DD`, bigints numbers when exactly representable else decimal strings, decimals strings,
 * non-finite floats the strings `NaN`/`Infinity`/`-Infinity` (JSON has no such numbers).
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Units of a time value, as in Arrow's `TimeUnit` (0 = s, 1 = ms, 2 = µs, 3 = ns). */
export type TimeUnitCode = 0 | 1 | 2 | 3;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
/** `Date` accepts ±8.64e15 ms around the epoch. */
const MAX_DATE_MS = 8_640_000_000_000_000n;
const UNITS_PER_MS: Record<TimeUnitCode, bigint> = { 0: 0n, 1: 1n, 2: 1000n, 3: 1_000_000n };
const UNITS_PER_SECOND: Record<TimeUnitCode, bigint> = { 0: 1n, 1: 1000n, 2: 1_000_000n, 3: 1_000_000_000n };
const FRACTION_DIGITS: Record<TimeUnitCode, number> = { 0: 0, 1: 3, 2: 6, 3: 9 };

/** A bigint as a JSON number when no precision is lost, else as its decimal string. */
export function bigintToJson(value: bigint): number | string {
  return value <= MAX_SAFE && value >= MIN_SAFE ? Number(value) : value.toString();
}

/** A float as a JSON number, or a string for the values JSON cannot carry. */
export function numberToJson(value: number): number | string {
  if (Number.isFinite(value)) return value;
  return Number.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
}

/** Floor division for bigints (`/` truncates toward zero, which is wrong for instants before 1970). */
function floorDiv(value: bigint, divisor: bigint): bigint {
  const quotient = value / divisor;
  return value % divisor < 0n ? quotient - 1n : quotient;
}

/** Milliseconds since the epoch as an ISO string, or null when `Date` cannot represent it. */
export function epochMsToIso(ms: bigint): string | null {
  if (ms > MAX_DATE_MS || ms < -MAX_DATE_MS) return null;
  return new Date(Number(ms)).toISOString();
}

/**
 * An epoch timestamp in the given unit as an ISO string with millisecond precision (finer digits are
 * floored away, never rounded up into the next millisecond). Values outside `Date`'s range fall back to
 * the raw integer as a string, so that nothing throws on odd data.
 */
export function timestampToIso(value: bigint, unit: TimeUnitCode): string {
  const ms = unit === 0 ? value * 1000n : floorDiv(value, UNITS_PER_MS[unit]);
  return epochMsToIso(ms) ?? value.toString();
}

/** Days since the epoch as `YYYY-MM-DD` (extended years keep their sign, e.g. `+010000-01-01`). */
export function epochDaysToDate(days: number): string {
  return epochMsToDate(BigInt(days) * 86_400_000n) ?? String(days);
}

/** Milliseconds since the epoch as the UTC calendar date `YYYY-MM-DD`, or null when out of range. */
export function epochMsToDate(ms: bigint): string | null {
  const iso = epochMsToIso(ms);
  return iso === null ? null : iso.slice(0, iso.indexOf("T"));
}

/** A time of day in the given unit as `HH:MM:SS[.fraction]`, with as many fraction digits as the unit has. */
export function timeOfDayToString(value: bigint, unit: TimeUnitCode): string {
  const perSecond = UNITS_PER_SECOND[unit];
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const totalSeconds = abs / perSecond;
  const fraction = abs % perSecond;
  const hours = totalSeconds / 3600n;
  const minutes = (totalSeconds / 60n) % 60n;
  const seconds = totalSeconds % 60n;
  const pad = (n: bigint): string => n.toString().padStart(2, "0");
  let text = `${negative ? "-" : ""}${pad(hours)}:${pad(minutes)}:${pad(seconds)}`;
  const digits = FRACTION_DIGITS[unit];
  if (digits > 0) text += "." + fraction.toString().padStart(digits, "0");
  return text;
}

/** A scaled integer as a decimal string (`12345`, scale 2 → `123.45`); exact, unlike a float. */
export function decimalToString(unscaled: bigint, scale: number): string {
  if (scale <= 0) return (unscaled * 10n ** BigInt(-scale)).toString();
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, "0");
  const text = `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
  return negative ? `-${text}` : text;
}

/** Bytes as base64, the usual JSON carrier for binary values. */
export function bytesToJson(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}
