/**
 * Errors of block runs, rebuilt on the main thread from what the worker sent. Sluice errors raised in the
 * worker (bad return value, failed test) come back as the same class; anything block code threw comes
 * back as a `BlockCodeError` that keeps the original name, message and source-mapped stack, and knows the
 * block file line it was thrown from, so messages can say `load_trips.ts:12`.
 */
import { OperationalError, UnexpectedError, UserError, type ErrorLocation } from "../core/errors";
import type { SerializedError } from "./worker-protocol";

/**
 * An exception thrown by block code. Deliberately not a UserError: whether a retry helps is the block
 * author's call (`retries:` in pipeline.yaml), which is what `isRetryable` does for plain errors.
 */
export class BlockCodeError extends Error {
  readonly code: string;
  readonly location: ErrorLocation;
  constructor(name: string, message: string, stack: string | undefined, location: ErrorLocation, code = "block_error") {
    super(message);
    this.name = name;
    this.code = code;
    this.location = location;
    if (stack !== undefined) this.stack = stack;
  }
}

/** The first stack frame inside a `.ts` block file (not Sluice's SDK), as file, line, column. */
export function blockFrame(stack: string | undefined, blockFile?: string): Pick<ErrorLocation, "file" | "line" | "column"> {
  if (!stack) return {};
  const frame = /\(?((?:[A-Za-z]:)?[^\s()]+\.ts):(\d+):(\d+)\)?$/u;
  for (const line of stack.split("\n")) {
    const match = frame.exec(line.trim());
    if (!match) continue;
    const [, file, lineNo, column] = match;
    if (blockFile !== undefined && file !== blockFile) continue;
    return { file, line: Number(lineNo), column: Number(column) };
  }
  return {};
}

/** Rebuilds an error that crossed from a worker into the right class. */
export function rebuildError(serialized: SerializedError, block: string, blockFile?: string): Error {
  const location: ErrorLocation = { block, ...blockFrame(serialized.stack, blockFile) };
  const code = serialized.code ?? "block_error";
  let error: Error;
  switch (serialized.kind) {
    case "user":
      error = new UserError(code, serialized.message, location);
      break;
    case "operational":
      error = new OperationalError(code, serialized.message, location);
      break;
    case "unexpected":
      error = new UnexpectedError(code, serialized.message, location);
      break;
    case undefined:
      return new BlockCodeError(serialized.name, serialized.message, serialized.stack, location, code);
  }
  if (serialized.stack !== undefined) error.stack = serialized.stack;
  return error;
}

