import YAML from "yaml";
import { UserError } from "../core/errors";
import type { Variables, VariableValue } from "../core/model";

/**
 * `--var k=v` values: parsed as a YAML scalar or flow collection, so `months=[10,11]` is a list,
 * `n=3` a number and `base_url=file:///data` a string.
 */
export function parseVars(pairs: string[]): Variables {
  const variables: Variables = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UserError("invalid_var", `--var expects key=value, got "${pair}"`);
    const key = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    let value: VariableValue;
    try {
      value = YAML.parse(raw) as VariableValue;
    } catch {
      value = raw;
    }
    variables[key] = value ?? raw;
  }
  return variables;
}
