import { parseArgs } from "node:util";
import { formatLocation, isSluiceError, UnexpectedError } from "../core/errors";
import { recoverOrphanedRuns } from "../scheduler/recovery";
import { Scheduler, type TickReport } from "../scheduler/scheduler";
import type { Services } from "../server/services";
import { isMetadataStore } from "../store/metadata/open-run-store";
import { TriggerFiles } from "../store/trigger-files";
import type { CliIo } from "./run-command";

/**
 * `sluice scheduler [--once] [--recover]`: the standalone scheduler (DESIGN §7, §11). Reads every
 * `pipelines/<p>/triggers.yaml`, starts due runs in this process through the runner, until Ctrl+C.
 * `--recover` first fails runs left running by a dead process (only when no other process is executing
 * runs on the same store); `--once` runs a single tick, waits for the runs it started, and exits (cron
 * jobs, scripts, tests). On Ctrl+C the loop stops and the runs in progress finish before the exit.
 */
export async function schedulerCommand(argv: string[], services: Services, io: CliIo, stopSignal?: AbortSignal): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { once: { type: "boolean", default: false }, recover: { type: "boolean", default: false } },
  });
  const store = services.runs;
  if (!isMetadataStore(store)) throw new UnexpectedError("no_trigger_store", "the configured run store has no scheduler tables");
  if (values.recover) {
    const recovered = await recoverOrphanedRuns(store, new Date(), { isLive: (id) => services.runner.isActive(id) });
    for (const run of recovered) io.stdout.write(`recovered orphaned run ${run.runId} (${run.pipeline}): ${run.previousState} → failed\n`);
  }
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
  if (values.once) {
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
  if (inFlight.size > 0) io.stdout.write(`waiting for ${inFlight.size} run(s) to finish…\n`);
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
