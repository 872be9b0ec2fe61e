/**
 * Sensor: true once another pipeline's run for the same logical date has succeeded (`sensor_pipeline:
 * green_taxi_etl`), e.g. a report that waits for the load it reads. A run of it that failed or was cancelled
 * is "not yet": a retry of it may still succeed before the timeout. Add `mode: reschedule` to the block so a
 * long wait does not hold a parallel slot.
 * Variables: `sensor_pipeline`.
 * @sluice expects: nothing — a sensor has no input.
 */
import type { BlockContext } from "@sluice/sdk";

export default async function sense(ctx: BlockContext): Promise<boolean> {
  const pipeline = ctx.variables.sensor_pipeline;
  if (typeof pipeline !== "string" || pipeline === "") throw new Error("set the variable sensor_pipeline to the pipeline whose run this sensor waits for");
  const run = await ctx.runs.latest({ pipeline, logicalDate: ctx.logicalDate, state: "success" });
  if (run) ctx.log.info(`run ${run.id} of ${pipeline} for ${run.logicalDate.toISOString()} succeeded`);
  return run !== null;
}
