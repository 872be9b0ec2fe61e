/**
 * Memory sizes as people write them in `pipeline.yaml` (`memory: 512m`, `2g`, `1.5GiB`) and in
 * `SLUICE_BLOCK_MEMORY`, and as the model stores them (bytes). Units are binary (k = 1024), the way
 * memory is sized and reported by `ps`/`top`; `b`, `ib` and `iB` suffixes are accepted so `512MiB` and
 * `512MB` mean the same as `512m` instead of being a typo error.
 */
import { UserError, type ErrorLocation } from "./errors";

const UNIT_BYTES = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 } as const;
type Unit = keyof typeof UNIT_BYTES;

const SIZE = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i;

function isUnit(value: string): value is Unit {
  return Object.prototype.hasOwnProperty.call(UNIT_BYTES, value);
}

/**
 * Bytes from `"512m"`, `"2g"`, `"1.5g"`, `"256MiB"`, `"64k"`, or a number (bytes, as YAML gives for `memory: 1048576`).
 * Fractions are rounded down to whole bytes.
 *
 * @throws UserError code `invalid_value` naming the input and the accepted forms, at `location`.
 */
export function parseByteSize(input: string | number, location: ErrorLocation = {}): number {
  if (typeof input === "number") {
    if (!Number.isSafeInteger(input) || input <= 0) throw invalid(`${input} is not a size: a number means bytes and must be a whole number > 0`, location);
    return input;
  }
  const match = SIZE.exec(input.trim());
  const unit = match?.[2]?.toLowerCase() ?? "";
  if (!match || !isUnit(unit)) throw invalid(`"${input}" is not a size; write e.g. 512m, 2g or 1.5g (binary units: k, m, g, t)`, location);
  const bytes = Math.floor(Number(match[1]) * UNIT_BYTES[unit]);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw invalid(`"${input}" is not a size greater than zero`, location);
  return bytes;
}

/** The shortest exact spelling `parseByteSize` reads back (`512m`, `2g`), or bytes when no unit divides. */
export function formatByteSize(bytes: number): string {
  for (const unit of ["t", "g", "m", "k"] as const) {
    if (bytes >= UNIT_BYTES[unit] && bytes % UNIT_BYTES[unit] === 0) return `${bytes / UNIT_BYTES[unit]}${unit}`;
  }
  return String(bytes);
}

/** For messages: `256 MiB`, `1.5 GiB` (one decimal at most). */
export function describeByteSize(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let index = 0;
  while (value >= 1024 && index < units.length - 1) {
    value /= 1024;
    index++;
  }
  const rounded = Math.round(value * 10) / 10;
  return `${Number.isInteger(rounded) ? rounded.toFixed(0) : rounded.toFixed(1)} ${units[index]}`;
}

function invalid(message: string, location: ErrorLocation): UserError {
  return new UserError("invalid_value", message, location);
}
