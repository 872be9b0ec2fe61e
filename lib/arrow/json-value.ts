/**
 * JSON-safe renderings of column values, shared by Arrow previews, Arrow summaries and DuckDB (Parquet)
 * previews so that the editor sees the same shape whichever format a block's output was stored in.
 *
 * Rules for preview rows (`OutputPage`): values are shown as they are stored.
 * - A timestamp without a time zone is a wall-clock reading, not an instant: `2020-10-01 00:09:00`, never
 *   shifted and never marked UTC. One with a zone is shown in that zone with its offset:
 *   `2020-09-30 20:09:00-04:00`. Sub-second digits appear only when non-zero, exact to the unit.
 * - Dates `YYYY-MM-DD`; bigints numbers when exactly representable else decimal strings; decimals strings
 *   with every digit of their scale (a float would round them); non-finite floats the strings
 *   `NaN`/`Infinity`/`-Infinity` (JSON has no such numbers).
 * Summaries keep `timestampToIso` (UTC ISO at millisecond precision): their min/max are ordered and binned
 * as instants, and a client that knows the column type renders them.
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

/** Splits an epoch value into whole seconds (floored) and the sub-second remainder, both in the unit. */
function splitSeconds(value: bigint, unit: TimeUnitCode): { seconds: bigint; fraction: bigint } {
  const perSecond = UNITS_PER_SECOND[unit];
  const seconds = floorDiv(value, perSecond);
  return { seconds, fraction: value - seconds * perSecond };
}

/** The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`), exact for any bigint. */
function civilFromDays(days: bigint): { year: bigint; month: bigint; day: bigint } {
  const shifted = days + 719_468n;
  const era = floorDiv(shifted, 146_097n);
  const dayOfEra = shifted - era * 146_097n;
  const yearOfEra = (dayOfEra - dayOfEra / 1460n + dayOfEra / 36_524n - dayOfEra / 146_096n) / 365n;
  const dayOfYear = dayOfEra - (365n * yearOfEra + yearOfEra / 4n - yearOfEra / 100n);
  const monthIndex = (5n * dayOfYear + 2n) / 153n;
  const day = dayOfYear - (153n * monthIndex + 2n) / 5n + 1n;
  const month = monthIndex < 10n ? monthIndex + 3n : monthIndex - 9n;
  return { year: yearOfEra + era * 400n + (month <= 2n ? 1n : 0n), month, day };
}

function yearText(year: bigint): string {
  if (year >= 0n && year <= 9999n) return year.toString().padStart(4, "0");
  return (year < 0n ? "-" : "+") + (year < 0n ? -year : year).toString().padStart(6, "0");
}

/**
 * An epoch value in the given unit as the calendar reading `YYYY-MM-DD HH:MM:SS[.fraction]`, with no zone
 * and no shift. The fraction has the unit's digits with trailing zeros dropped, and is left out when zero.
 * Exact for every 64-bit value (no `Date`, whose range is narrower than a microsecond timestamp's).
 */
export function epochToWallClock(value: bigint, unit: TimeUnitCode): string {
  const { seconds, fraction } = splitSeconds(value, unit);
  const days = floorDiv(seconds, 86_400n);
  const secondOfDay = seconds - days * 86_400n;
  const { year, month, day } = civilFromDays(days);
  const pad = (n: bigint): string => n.toString().padStart(2, "0");
  let text = `${yearText(year)}-${pad(month)}-${pad(day)} ${pad(secondOfDay / 3600n)}:${pad((secondOfDay / 60n) % 60n)}:${pad(secondOfDay % 60n)}`;
  if (fraction !== 0n) text += "." + fraction.toString().padStart(FRACTION_DIGITS[unit], "0").replace(/0+$/, "");
  return text;
}

/** An offset in minutes as `+HH:MM` / `-HH:MM`. */
function offsetText(minutes: number): string {
  const sign = minutes < 0 ? "-" : "+";
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

const FIXED_OFFSET = /^([+-])(\d{2}):?(\d{2})$/;
const UTC_NAMES = new Set(["utc", "z", "gmt", "etc/utc", "etc/gmt", "zulu", "universal"]);
const GMT_OFFSET = /^GMT(?:([+-])(\d{1,2})(?::?(\d{2}))?)?$/;

/**
 * Offset (minutes east of UTC) of a zone at an instant: a fixed offset (`+05:30`), UTC, or an IANA name
 * resolved through the runtime's time-zone data (DST-correct). Null when the zone is unknown or the
 * instant is beyond `Date`'s range.
 */
export type ZoneOffset = (epochMs: number) => number | null;

/** The offset function of a zone; built once per column, since an IANA zone needs an `Intl` formatter. */
export function zoneOffsetOf(zone: string): ZoneOffset {
  const fixed = FIXED_OFFSET.exec(zone.trim());
  if (fixed) {
    const minutes = (fixed[1] === "-" ? -1 : 1) * (Number(fixed[2]) * 60 + Number(fixed[3]));
    return () => minutes;
  }
  if (UTC_NAMES.has(zone.trim().toLowerCase())) return () => 0;
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "longOffset" });
  } catch {
    return () => null;
  }
  return (epochMs) => {
    if (!Number.isFinite(epochMs) || Math.abs(epochMs) > 8.64e15) return null;
    const name = format.formatToParts(new Date(epochMs)).find((part) => part.type === "timeZoneName")?.value ?? "";
    const match = GMT_OFFSET.exec(name);
    if (!match) return null;
    if (!match[1]) return 0;
    return (match[1] === "-" ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3] ?? 0));
  };
}

/**
 * A zoned timestamp (an instant, stored as UTC epoch units) as the wall-clock reading in its zone followed
 * by the offset: `2020-09-30 20:09:00-04:00`. When the zone cannot be resolved the UTC reading is shown
 * with `Z`, which is still the true instant.
 */
export function zonedTimestampToText(value: bigint, unit: TimeUnitCode, offsetOf: ZoneOffset): string {
  const ms = unit === 0 ? value * 1000n : floorDiv(value, UNITS_PER_MS[unit]);
  const minutes = ms > MAX_DATE_MS || ms < -MAX_DATE_MS ? null : offsetOf(Number(ms));
  if (minutes === null) return `${epochToWallClock(value, unit)}Z`;
  return epochToWallClock(value + BigInt(minutes * 60) * UNITS_PER_SECOND[unit], unit) + offsetText(minutes);
}

/** A timestamp as preview text: a wall-clock reading when `zone` is empty, else the reading in its zone. */
export function makeTimestampText(unit: TimeUnitCode, zone: string | null | undefined): (value: bigint) => string {
  if (!zone) return (value) => epochToWallClock(value, unit);
  const offsetOf = zoneOffsetOf(zone);
  return (value) => zonedTimestampToText(value, unit, offsetOf);
}
