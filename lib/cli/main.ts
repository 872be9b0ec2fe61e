import { formatLocation, isSluiceError } from "../core/errors";
import { cleanCommand } from "./clean-command";
import { schedulerCommand } from "./scheduler-command";
import { createServices } from "../server/services";
import { runCommand, type CliIo } from "./run-command";
import { startCommand } from "./start-command";
import { workerCommand } from "./worker-command";

const USAGE = `sluice — notebook-style block pipelines

  sluice start [--port N] [--host H] [--dev]   serve the editor and API (127.0.0.1:3000 by default)
  sluice run <pipeline> [--var k=v]... [--block b [--upstream|--downstream]] [--logical-date ISO] [--json]
  sluice scheduler [--once] [--recover]       the standalone scheduler
  sluice clean [--older-than 30d] [--delete-records-older-than 180d]   retention of outputs and logs
  sluice worker [--concurrency N] [--queue q]... [--local]   run blocks from the queue (REDIS_URL; DATABASE_URL across machines)
  sluice help
`;

/** Entry point of the `sluice` command; returns the exit code. */
export async function main(argv: string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "run": {
        const services = await createServices();
        try {
          return await runCommand(rest, services, io);
        } finally {
          await services.close();
        }
      }
      case "scheduler":
      case "clean": {
        const services = await createServices();
        try {
          return command === "scheduler" ? await schedulerCommand(rest, services, io) : await cleanCommand(rest, services, io);
        } finally {
          await services.close();
        }
      }
      case "start":
        return await startCommand(rest, io);
      case "worker":
        return await workerCommand(rest, io);
      case undefined:
      case "help":
      case "--help":
      case "-h":
        io.stdout.write(USAGE);
        return 0;
      default:
        io.stderr.write(`unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    io.stderr.write(describeError(error) + "\n");
    return isSluiceError(error) && error.kind === "user" ? 2 : 1;
  }
}

/** `file:line:col: message` for our errors; the stack for bugs. */
export function describeError(error: unknown): string {
  if (isSluiceError(error)) {
    const where = formatLocation(error.location);
    const prefix = where && !error.message.startsWith(where) ? `${where}: ` : "";
    return `error: ${prefix}${error.message}`;
  }
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
