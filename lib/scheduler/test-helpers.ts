/**
 * Builders shared by the scheduler's tests and benchmark: triggers as the file would give them, and a
 * `startRun` that records runs in a real store the way `Runner.start` does (a queued run), without
 * executing blocks.
 */
import type { ScheduleSpec } from "../core/schedule";
import type { ApiTrigger, ScheduleTrigger } from "../core/triggers-schema";
import type { RunStore } from "../store/metadata/run-store";
import type { ScheduledRunRequest, StartRun } from "./scheduler";

/** A schedule trigger with file defaults. */
export function scheduleTrigger(name: string, schedule: ScheduleSpec, overrides: Partial<Omit<ScheduleTrigger, "type" | "schedule">> = {}): ScheduleTrigger {
  return {
    name,
    type: "schedule",
    description: "",
    enabled: true,
    variables: {},
    maxActiveRuns: null,
    onMaxActive: "wait",
    runTimeoutMs: null,
    cron: schedule.kind === "cron" ? schedule.cron : schedule.kind === "once" ? "@once" : null,
    intervalMs: schedule.kind === "interval" ? schedule.everyMs : null,
    timezone: schedule.kind === "cron" ? schedule.timezone : "UTC",
    startDate: null,
    endDate: null,
    missedRunPolicy: "all",
    schedule,
    ...overrides,
  };
}

export function apiTrigger(name: string, overrides: Partial<Omit<ApiTrigger, "type">> = {}): ApiTrigger {
  return { name, type: "api", description: "", enabled: true, variables: {}, variablesAllowed: [], maxActiveRuns: null, onMaxActive: "wait", runTimeoutMs: null, ...overrides };
}

/** `startRun` that records a queued run in the store (as the Runner does first) and remembers the request. */
export function recordingStartRun(store: RunStore): { startRun: StartRun; requests: ScheduledRunRequest[] } {
  const requests: ScheduledRunRequest[] = [];
  const startRun: StartRun = async (request) => {
    requests.push(request);
    const run = await store.createRun({
      pipeline: request.pipeline,
      trigger: request.trigger,
      triggerId: request.triggerId,
      logicalDate: request.logicalDate,
      variables: request.variables,
      mode: "pipeline",
      blocks: ["a"],
    });
    return { runId: run.id };
  };
  return { startRun, requests };
}
