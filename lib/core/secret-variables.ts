import { UserError } from "./errors";
import type { Pipeline, Variables } from "./model";

/** How a secret variable's value is written in a run record: the value itself is never stored. */
export function secretPlaceholder(name: string): string {
  return `[secret:${name}]`;
}

/**
 * The variables to run again from a run record. Secret variables were recorded as placeholders, so each is
 * taken again from the pipeline's own default (which is where a secret usually comes from). A secret that
 * was given for that run only (no default to fall back on) cannot be recovered: the caller must start a new
 * run that passes it, rather than run the block with the placeholder text as its value.
 *
 * @throws UserError `secret_variable_not_stored`
 */
export function restoreSecretVariables(pipeline: Pipeline, recorded: Variables, runId: string): Variables {
  const restored: Variables = { ...recorded };
  for (const name of pipeline.secretVariables ?? []) {
    if (restored[name] !== secretPlaceholder(name)) continue;
    const fallback = pipeline.variables[name];
    if (fallback === undefined || fallback === null) {
      throw new UserError(
        "secret_variable_not_stored",
        `run ${runId} was given the secret variable "${name}", which is never stored; start a new run that passes it again`,
      );
    }
    restored[name] = fallback;
  }
  return restored;
}
