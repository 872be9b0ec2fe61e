/**
 * Sensor: true once a local file exists — an exact path, or a pattern whose last part has `*` or `?`
 * (`data/incoming/green_*.csv.gz`) with at least one match. Relative paths resolve in the folder Sluice runs
 * in (the project folder). Gate a block on it with `upstream: [file_exists_sensor]`; `poke_interval` and
 * `timeout` (and `soft_fail`) in pipeline.yaml say how often and how long to look.
 * Variables: `sensor_path`.
 * @sluice expects: nothing — a sensor has no input.
 */
import { readdir, stat } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import type { BlockContext } from "@sluice/sdk";

/** `*` and `?` of a file name as a regular expression; everything else literal. */
function namePattern(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${body}$`);
}

export default async function sense(ctx: BlockContext): Promise<boolean> {
  const path = resolve(String(ctx.variables.sensor_path ?? "data/incoming/ready.flag"));
  const name = basename(path);
  if (!/[*?]/.test(name)) {
    const found = await stat(path).then(() => true, () => false);
    if (found) ctx.log.info(`${path} exists`);
    return found;
  }
  const pattern = namePattern(name);
  const entries = await readdir(dirname(path)).catch(() => [] as string[]);
  const matches = entries.filter((entry) => pattern.test(entry));
  if (matches.length > 0) ctx.log.info(`${matches.length} file(s) match ${path}: ${matches.slice(0, 5).join(", ")}`);
  return matches.length > 0;
}
