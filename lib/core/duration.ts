/**
 * Durations as people write them in `pipeline.yaml` (`5s`, `10m`, `1h30m`, `500ms`, `1d`) and as the
 * model stores them (integer milliseconds). Parsing lives here, in one place, so that retries, timeouts,
 * retention (`--older-than 30d`) and the editor all accept the same spellings and reject the same typos.
 */
import { UserError, type ErrorLocation } from "./errors";

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof UNIT_MS;

/** Largest first: `formatDuration` picks the largest unit that divides the value exactly. */
const UNITS_DESCENDING: readonly Unit[] = ["d", "h", "m", "s", "ms"];

const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

function isUnit(value: string): value is Unit {
  return Object.prototype.hasOwnProperty.call(UNIT_MS, value);
}

/**
 * Milliseconds from `"500ms"`, `"5s"`, `"10m"`, `"1h"`, `"1d"`, a compound such as `"1h30m"`, or a
 * number (already milliseconds, as YAML gives for `timeout: 1500`).
 *
 * Why strict: a duration typo (`10 mins`, `-5s`, `5`) silently becoming "no timeout" or "retry at once"
 * is worse than a clear error at load time. The result must be a non-negative safe integer; fractional
 * values are accepted only when they land on whole milliseconds (`1.5s` yes, `0.5ms` no).
 *
 * @throws UserError code `invalid_value` naming the input and the accepted forms, at `location`.
 */
export function parseDuration(input: string | number, location: ErrorLocation = {}): number {
  if (typeof input === "number") {
    if (!Number.isSafeInteger(input) || input < 0) {
      throw invalid(`${input} is not a duration: a number means milliseconds and must be a whole number ≥ 0`, location);
    }
    return input;
  }
  const text = input.trim();
  if (text === "") throw invalid(`empty duration; write e.g. 500ms, 5s, 10m, 1h or 1d`, location);
  let total = 0;
  let offset = 0;
  const seen = new Set<Unit>();
  while (offset < text.length) {
    PART.lastIndex = offset;
    const match = PART.exec(text);
    const unit = match?.[2];
    if (!match || unit === undefined || !isUnit(unit)) {
      throw invalid(`"${input}" is not a duration; write e.g. 500ms, 5s, 10m, 1h, 1d or 1h30m`, location);
    }
    if (seen.has(unit)) throw invalid(`"${input}" repeats the unit "${unit}"`, location);
    seen.add(unit);
    total += Number(match[1]) * UNIT_MS[unit];
    offset = PART.lastIndex;
  }
  // Compare after rounding away float noise (0.1s * 1000 = 100.00000000000001).
  const rounded = Math.round(total);
  if (Math.abs(total - rounded) > 1e-6 || !Number.isSafeInteger(rounded)) {
    throw invalid(`"${input}" is not a whole number of milliseconds`, location);
  }
  return rounded;
}

/**
 * The shortest exact spelling of a duration, in the single largest unit that divides it (`600000` →
 * `10m`, `90000` → `90s`, `1500` → `1500ms`). Used when writing `pipeline.yaml`, so that
 * `parseDuration(formatDuration(ms)) === ms` always holds.
 */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw invalid(`${ms} is not a duration in whole milliseconds ≥ 0`, {});
  if (ms === 0) return "0s";
  for (const unit of UNITS_DESCENDING) {
    if (ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}

/**
 * Elapsed time for people (a block's run time in the editor or the CLI), not for files: `850 ms`, `4.2 s`,
 * then whole minutes and seconds. `words` (`2 min 5 s`) reads best in the UI; `compact` (`2m05s`) keeps
 * the CLI's progress table in a fixed 8-character column.
 */
export function formatElapsed(ms: number, minutes: "words" | "compact" = "words"): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const whole = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return minutes === "words" ? `${whole} min ${seconds} s` : `${whole}m${String(seconds).padStart(2, "0")}s`;
}

function invalid(message: string, location: ErrorLocation): UserError {
  return new UserError("invalid_value", message, location);
}
