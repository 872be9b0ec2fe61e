import { parseArgs } from "node:util";
import { parseDuration } from "../core/duration";
import { cleanOldRuns } from "../scheduler/retention";
import type { Services } from "../server/services";
import type { CliIo } from "./run-command";

/**
 * `sluice clean [--older-than 30d] [--delete-records-older-than 180d]` (DESIGN §6, §11): deletes outputs
 * and logs of finished runs older than `--older-than`; run records are kept unless asked, and never
 * those of the last 90 days.
 */
export async function cleanCommand(argv: string[], services: Services, io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      "older-than": { type: "string", default: "30d" },
      "delete-records-older-than": { type: "string" },
    },
  });
  const olderThan = parseDuration(values["older-than"] ?? "30d", { path: "--older-than" });
  const recordsText = values["delete-records-older-than"];
  const deleteRecordsOlderThan = recordsText === undefined ? undefined : parseDuration(recordsText, { path: "--delete-records-older-than" });
  const report = await cleanOldRuns({ runs: services.runs, outputs: services.outputs, logs: services.logs }, { olderThan, deleteRecordsOlderThan });
  io.stdout.write(`deleted outputs and logs of ${report.filesDeleted} run(s); deleted ${report.recordsDeleted} run record(s)\n`);
  return 0;
}
