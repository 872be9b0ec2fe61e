/**
 * Sensor: true once the wall clock has passed a time of day (`sensor_after: "05:30"`) in a time zone
 * (`sensor_timezone`, e.g. the trigger's `Europe/London`; default UTC), on the day the run is due — the end of
 * its data interval (a daily run for Monday is due on Tuesday, and waits for Tuesday 05:30), or the logical
 * date's day for a run started by hand.
 * Variables: `sensor_after`, optional `sensor_timezone`.
 * @sluice expects: nothing — a sensor has no input.
 */
import type { BlockContext } from "@sluice/sdk";

/** The instant of `hh:mm` on the calendar day of `day` in `zone`. */
function wallTime(day: Date, hhmm: string, zone: string): number {
  const match = /^(\d{1,2}):(\d{2})$/.exec(hhmm);
  if (!match) throw new Error(`sensor_after must look like 05:30, got ${JSON.stringify(hhmm)}`);
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).formatToParts(day).map((p) => [p.type, p.value]),
  );
  const guess = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(match[1]), Number(match[2]));
  // The zone's offset at that wall time, read back from the formatter (DST-correct to the minute).
  const shown = new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" })
    .formatToParts(new Date(guess))
    .reduce<Record<string, string>>((acc, p) => ({ ...acc, [p.type]: p.value }), {});
  const asUtc = Date.UTC(Number(shown.year), Number(shown.month) - 1, Number(shown.day), Number(shown.hour), Number(shown.minute));
  return guess - (asUtc - guess);
}

export default async function sense(ctx: BlockContext): Promise<boolean> {
  const after = String(ctx.variables.sensor_after ?? "05:30");
  const zone = String(ctx.variables.sensor_timezone ?? "UTC");
  const due = ctx.dataInterval.end.getTime() > ctx.dataInterval.start.getTime() ? ctx.dataInterval.end : ctx.logicalDate;
  const at = wallTime(due, after, zone);
  const passed = Date.now() >= at;
  if (passed) ctx.log.info(`${after} ${zone} (${new Date(at).toISOString()}) has passed`);
  return passed;
}
