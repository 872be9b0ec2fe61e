import { Command, CommanderError } from "commander";
import packageJson from "../../package.json";
import { formatLocation, isSluiceError } from "../core/errors";
import type { ServiceOptions, Services } from "../server/services";
import {
  defineCleanCommand,
  defineCompletionCommand,
  defineProfileCommand,
  defineRetryCommand,
  defineRunCommand,
  defineSchedulerCommand,
  defineStartCommand,
  defineWorkerCommand,
} from "./command-definitions";
import { commanderMessage, commandPath, usageLine } from "./command-line";
import { completionScript, isCompletionShell } from "./completion";
import { commandModules } from "./command-modules";
import { reportFailure } from "./failure-report";
import type { CliIo } from "./run-command";

const DEBUG_FLAG = "--debug";

const EXIT_CODES = `
Exit codes: 0 done; 1 failed (a run failed, or the command could not do its job); 2 a bad command line or an
invalid pipeline file. Failures print one line; --debug adds the stack.
Run "sluice <command> --help" for a command's options and examples.
`;

/** What the failure report needs to know about the command line while it is being read and run. */
interface Progress {
  /** The deepest command reached so far: its name and usage go into error messages. */
  command: Command;
  /** True until the command's action starts: a bad option value is then a usage error. */
  parsing: boolean;
  exitCode: number;
}

/**
 * Entry point of the `sluice` command; returns the exit code. Never throws: failures are reported on
 * `io.stderr` as one line (see `failure-report.ts`).
 */
export async function main(argv: string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const program = buildProgram(io);
  const progress: Progress = { command: program, parsing: true, exitCode: 0 };
  program.hook("preSubcommand", (_parent, sub) => {
    progress.command = sub;
  });
  program.hook("preAction", (_program, actionCommand) => {
    progress.command = actionCommand;
    progress.parsing = false;
  });
  for (const command of program.commands) {
    command.hook("preSubcommand", (_parent, sub) => {
      progress.command = sub;
    });
    for (const leaf of command.commands.length > 0 ? command.commands : [command]) {
      leaf.action(async () => {
        progress.exitCode = await runAction(leaf, argv, io, program);
      });
    }
  }
  try {
    if (argv.length === 0) {
      io.stdout.write(program.helpInformation());
      return 0;
    }
    await program.parseAsync(argv, { from: "user" });
    return progress.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return 0; // --help, help, --version: already printed
      // A command that needs a subcommand and got none has printed its help on stderr.
      if (error.code !== "commander.help") io.stderr.write(`${commandPath(progress.command)}: ${commanderMessage(error)}\n${usageLine(progress.command)}\n`);
      return 2;
    }
    const report = reportFailure(error, {
      commandPath: commandPath(progress.command),
      usage: usageLine(progress.command),
      parsing: progress.parsing,
      debug: debugRequested(argv),
    });
    io.stderr.write(report.text);
    return report.exitCode;
  }
}

/**
 * The `sluice` program: every command's declaration (their help, validation and completion come from it).
 * Actions are attached by `main`.
 */
export function buildProgram(io: CliIo): Command {
  const program = new Command("sluice")
    .description("Sluice: notebook-style block pipelines (TypeScript and SQL blocks exchanging Apache Arrow tables)")
    .usage("<command> [options]")
    .version(packageJson.version, "--version", "print the version")
    .option(DEBUG_FLAG, "print the stack of a failure, not just its message")
    .helpOption("-h, --help", "show this help")
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // main prints errors itself: one line, then the usage of the command that was being read.
      outputError: () => undefined,
    })
    .addHelpText("after", EXIT_CODES);
  defineStartCommand(program.command("start"));
  defineRunCommand(program.command("run"));
  defineRetryCommand(program.command("retry"));
  defineSchedulerCommand(program.command("scheduler"));
  defineCleanCommand(program.command("clean"));
  defineWorkerCommand(program.command("worker"));
  defineProfileCommand(program.command("profile"));
  defineCompletionCommand(program.command("completion"));
  return program;
}

/**
 * Runs the command `sluice` parsed, with the services it needs open for as long as it runs (each command's
 * module is loaded only now: see `command-modules.ts`).
 */
async function runAction(command: Command, argv: readonly string[], io: CliIo, program: Command): Promise<number> {
  const name = command.name();
  const args = argumentsOf(argv, topLevel(command).name());
  switch (name) {
    case "run": {
      const { runCommand } = commandModules.run();
      return withServices({ ownerKind: "cli" }, (services) => runCommand(args, services, io), true);
    }
    case "retry": {
      const { retryCommand } = commandModules.retry();
      return withServices({ ownerKind: "cli" }, (services) => retryCommand(args, services, io), true);
    }
    case "scheduler": {
      const { schedulerCommand } = commandModules.scheduler();
      return withServices({ ownerKind: "scheduler" }, (services) => schedulerCommand(args, services, io), true);
    }
    case "clean": {
      const { cleanCommand } = commandModules.clean();
      return withServices({ ownerKind: "cli" }, (services) => cleanCommand(args, services, io));
    }
    case "start": {
      const { startCommand } = commandModules.start();
      return startCommand(args, io);
    }
    case "worker": {
      const { workerCommand } = commandModules.worker();
      return workerCommand(args, io);
    }
    case "from-terraform": {
      const { profileCommand } = commandModules.profile();
      return profileCommand(args, io);
    }
    case "completion": {
      const shell = command.args[0] ?? "";
      if (!isCompletionShell(shell)) return 2; // commander has checked the choices
      io.stdout.write(completionScript(shell, program));
      return 0;
    }
    default:
      throw new Error(`sluice ${name} has no action`);
  }
}

/**
 * Opens the services for the command, runs it, closes them. Commands that run blocks (`warm`) have the
 * executor boot its block processes at once, while the command reads its pipeline and records the run.
 */
async function withServices(options: ServiceOptions, use: (services: Services) => Promise<number>, warm = false): Promise<number> {
  const { openServices } = commandModules.services();
  const services = await openServices(options);
  if (warm) services.executor.warm?.();
  try {
    return await use(services);
  } finally {
    await services.close();
  }
}

/**
 * The words after the command's name, as the user typed them, for the command function to parse (each
 * parses its own so that scripts and tests can call it directly). The global `--debug` is left out: it
 * belongs to `sluice`. Global options are flags, so the first word that is not one is the command.
 */
function argumentsOf(argv: readonly string[], topLevelName: string): string[] {
  const at = argv.findIndex((word) => !word.startsWith("-"));
  if (at < 0 || argv[at] !== topLevelName) return [];
  return argv.slice(at + 1).filter((word) => word !== DEBUG_FLAG);
}

/** `profile` for `profile from-terraform`; the command itself for a top-level one. */
function topLevel(command: Command): Command {
  let current = command;
  while (current.parent?.parent) current = current.parent;
  return current;
}

function debugRequested(argv: readonly string[]): boolean {
  const end = argv.indexOf("--");
  return (end < 0 ? argv : argv.slice(0, end)).includes(DEBUG_FLAG);
}

/** `error: file:line:col: message` for our errors; the stack for bugs. Used by the standalone worker entry. */
export function describeError(error: unknown): string {
  if (isSluiceError(error)) {
    const where = formatLocation(error.location);
    const prefix = where && !error.message.startsWith(where) ? `${where}: ` : "";
    return `error: ${prefix}${error.message}`;
  }
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
