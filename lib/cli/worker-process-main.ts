/**
 * `node dist/worker-process.cjs [flags]` (built from this file by scripts/build-engine.cjs; from the sources:
 * `node bin/run-ts.cjs lib/cli/worker-process-main.ts [flags]`): the `sluice worker` command as a standalone
 * entry (tests and benchmarks spawn it; `sluice worker` runs the same `workerCommand`).
 */
import { describeError } from "./main";
import { workerCommand } from "./worker-command";

workerCommand(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(describeError(error) + "\n");
    process.exitCode = 1;
  },
);
