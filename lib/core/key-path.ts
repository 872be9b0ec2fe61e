/**
 * Key paths into a config file, written the way users read them: `blocks[1].upstream[0]`. Errors carry
 * them in `location.path` so that a message points at the key even where no line is known (an
 * in-memory pipeline being validated after an edit).
 */

/** One step into a YAML/JSON value: a map key or a sequence index. */
export type PathSegment = string | number;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `["blocks", 1, "upstrem"]` → `blocks[1].upstrem`; odd keys are quoted: `variables["a b"]`. */
export function formatKeyPath(path: readonly PathSegment[]): string {
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) text += text === "" ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}
