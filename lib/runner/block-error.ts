import { isSluiceError } from "../core/errors";
import type { BlockError } from "./events";

/** Turns whatever a block run threw into the stored, displayable form. */
export function toBlockError(error: unknown): BlockError {
  if (isSluiceError(error)) {
    return { code: error.code, kind: error.kind, message: error.message, stack: error.stack };
  }
  if (error instanceof Error) {
    const code = typeof (error as { code?: unknown }).code === "string" ? String((error as { code?: unknown }).code) : "block_error";
    return { code, kind: "user", message: error.message, stack: error.stack };
  }
  return { code: "block_error", kind: "user", message: String(error) };
}
