/**
 * Sensor: true once a SQL query on a Postgres connection returns true in its first column of its first row
 * (`SELECT count(*) > 0 FROM loads WHERE day = $1`; the logical date's day is `$1`). No row, NULL or false is
 * "not yet".
 * Variables: `sensor_query`, optional `sensor_connection` (default: the default postgres connection).
 * @sluice expects: nothing — a sensor has no input.
 */
import type { BlockContext } from "@sluice/sdk";

export default async function sense(ctx: BlockContext): Promise<boolean> {
  const query = String(ctx.variables.sensor_query ?? "SELECT true");
  const connection = ctx.variables.sensor_connection === undefined ? undefined : String(ctx.variables.sensor_connection);
  const day = ctx.logicalDate.toISOString().slice(0, 10);
  const table = await ctx.io.postgres(connection).read({ sql: query, params: query.includes("$1") ? [day] : [] });
  const value: unknown = table.numRows > 0 ? table.getChildAt(0)?.get(0) : null;
  return value === true || value === "t" || value === 1 || value === 1n;
}
