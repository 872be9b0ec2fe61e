import { cleanOldRuns } from "../scheduler/retention";
import type { Services } from "../server/services";
import { defineCleanCommand, type CleanOptions } from "./command-definitions";
import { parseCommandLine } from "./command-line";
import type { CliIo } from "./run-command";

/**
 * `sluice clean [--older-than 30d] [--delete-records-older-than 180d]`: deletes outputs
 * and logs of finished runs older than `--older-than`; run records are kept unless asked, and never
 * those of the last 90 days.
 */
export async function cleanCommand(argv: string[], services: Services, io: CliIo): Promise<number> {
  const { options } = parseCommandLine<CleanOptions>("clean", defineCleanCommand, argv);
  const report = await cleanOldRuns(
    { runs: services.runs, outputs: services.outputs, logs: services.logs },
    { olderThan: options.olderThan, deleteRecordsOlderThan: options.deleteRecordsOlderThan },
  );
  io.stdout.write(`deleted outputs and logs of ${report.filesDeleted} run(s); deleted ${report.recordsDeleted} run record(s)\n`);
  return 0;
}
