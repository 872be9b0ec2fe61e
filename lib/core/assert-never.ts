/**
 * Exhaustiveness for tagged unions: a `switch` that ends in `assertNever(x, …)` stops
 * compiling when a new member (block type, run state, event) is added and not handled. At run time it
 * only fires when unchecked data slipped past validation, which is a bug, hence `UnexpectedError`.
 */
import { UnexpectedError } from "./errors";

/** @throws UnexpectedError always, naming what was not handled. */
export function assertNever(value: never, what: string): never {
  throw new UnexpectedError("unhandled_case", `unhandled ${what}: ${JSON.stringify(value)}`);
}
