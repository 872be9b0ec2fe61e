/**
 * Reading back what the metadata store wrote: a stored enum value must be one the code knows. A value
 * that is not (a newer Sluice wrote it, or a hand edit) is corrupt metadata, reported with what it was
 * meant to be, rather than passed on as an untyped string.
 */
import { UnexpectedError } from "../../core/errors";

/** `value` as one of `allowed`, or an `UnexpectedError` naming the stored `what` and its value. */
export function pickStored<T extends string>(allowed: readonly T[], value: string, what: string): T {
  const found = allowed.find((candidate) => candidate === value);
  if (found === undefined) throw new UnexpectedError("corrupt_metadata", `stored ${what} ${JSON.stringify(value)} is not known`);
  return found;
}
