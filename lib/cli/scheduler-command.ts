import { formatLocation, isSluiceError, UnexpectedError } from "../core/errors";
import { Scheduler, type TickReport } from "../scheduler/scheduler";
import type { Services } from "../server/services";
import { isMetadataStore } from "../store/metadata/open-run-store";
import { TriggerFiles } from "../store/trigger-files";
import { defineSchedulerCommand, type SchedulerOptions } from "./command-definitions";
import { parseCommandLine } from "./command-line";
import type { CliIo } from "./run-command";

/**
 * `sluice scheduler [--once]`: the standalone scheduler. Reads every `pipelines/<p>/triggers.yaml`, starts
 * due runs in this process through the runner, until SIGINT/SIGTERM. At start and every lease period it
 * recovers runs whose owner stopped heartbeating (a dead process's, never a live one's: `--recover` is
 * accepted for old scripts but no longer needed). `--once` runs a single tick, waits for the runs it
 * started, and exits (cron jobs, scripts, tests). On SIGINT/SIGTERM the loop stops taking work, the runs in
 * progress are cancelled, and the process exits once they are recorded as cancelled.
 */
export async function schedulerCommand(argv: string[], services: Services, io: CliIo, stopSignal?: AbortSignal): Promise<number> {
  const { options } = parseCommandLine<SchedulerOptions>("scheduler", defineSchedulerCommand, argv);
  const store = services.runs;
  if (!isMetadataStore(store)) throw new UnexpectedError("no_trigger_store", "the configured run store has no scheduler tables");
  await services.startRecoveryLoop((recovered) => {
    for (const run of recovered) io.stdout.write(`recovered run ${run.runId} (${run.pipeline}): ${run.previousState} → ${run.state}: ${run.reason}\n`);
  });
  /** Runs started here and not finished: waited for before the command returns (closing would kill them). */
  const inFlight = new Set<Promise<unknown>>();
  const printReport = (report: TickReport) => {
    for (const run of report.started) io.stdout.write(`started ${run.trigger} run ${run.runId}: ${run.pipeline}/${run.triggerId} @ ${run.logicalDate}\n`);
  };
  const scheduler = new Scheduler({
    store: store.triggers,
    source: new TriggerFiles(services.files.root),
    startRun: async (request) => {
      const started = await services.runner.start(request);
      const done = started.done.finally(() => inFlight.delete(done));
      inFlight.add(done);
      return started;
    },
    cancelRun: (runId) => services.runner.cancel(runId),
    onError: (error, where) => io.stderr.write(`${where}: ${describeProblem(error)}\n`),
    onTick: printReport,
  });
  if (options.once) {
    const report = await scheduler.tick();
    printReport(report);
    io.stdout.write(`evaluated ${report.evaluated} schedule trigger(s), started ${report.started.length} run(s)\n`);
    await Promise.allSettled([...inFlight]);
    return 0;
  }
  io.stdout.write(`Sluice scheduler watching ${services.files.root}\n`);
  scheduler.start();
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    stopSignal?.addEventListener("abort", stop, { once: true });
  });
  io.stdout.write("stopping…\n");
  await scheduler.stop();
  const live = services.lease.liveRuns();
  if (live.length > 0) io.stdout.write(`cancelling ${live.length} run(s) in progress: ${live.join(", ")}\n`);
  for (const runId of live) services.runner.cancel(runId);
  await Promise.allSettled([...inFlight]);
  return 0;
}

/** One line per problem: our errors with their location, anything else with its stack. */
function describeProblem(error: unknown): string {
  if (isSluiceError(error)) {
    const where = formatLocation(error.location);
    return where && !error.message.startsWith(where) ? `${where}: ${error.message}` : error.message;
  }
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
