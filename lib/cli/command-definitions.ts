/**
 * The command line of every `sluice` command: description, usage, arguments, options and examples. One
 * declaration serves `--help`, validation, shell completion and each command's own parsing. This module stays
 * light (no engine imports) so that `sluice --help`, a usage error or `sluice completion` answer at once.
 */
import { Argument, Option, type Command } from "commander";
import { COMPLETION_SHELLS } from "./completion";
import { duration, isoDate, keyValuePairs, portNumber, repeated, wholeNumber, withExamples } from "./command-line";

const DEFAULT_OLDER_THAN = "30d";

export interface StartOptions {
  port?: number;
  host?: string;
  dev?: boolean;
}

/** The command line of `sluice start`. */
export function defineStartCommand(command: Command): Command {
  return withExamples(
    command
      .description("serve the editor and the API, run pipelines and their schedules, until Ctrl+C")
      .usage("[--port N] [--host H] [--dev]")
      .option("--port <n>", "port to listen on; 0 picks a free one (default: SLUICE_PORT, else 3000)", portNumber("--port"))
      .option("--host <host>", "address to bind; anything but loopback needs SLUICE_TOKEN (default: SLUICE_HOST, else 127.0.0.1)")
      .option("--dev", "Next.js development mode (hot reload of app/ and components/)")
      .addHelpText("after", "\nEnvironment: SLUICE_TOKEN (32+ random characters) guards the server; DATABASE_URL puts runs in PostgreSQL.\n"),
    "sluice start",
    "sluice start --port 8080",
    "SLUICE_TOKEN=$(openssl rand -base64 32) sluice start --host 0.0.0.0",
  );
}

export interface RunOptions {
  var?: string[];
  block?: string;
  upstream?: boolean;
  downstream?: boolean;
  /** Already a UTC ISO string. */
  logicalDate?: string;
  json?: boolean;
}

/** The command line of `sluice run`. */
export function defineRunCommand(command: Command): Command {
  return withExamples(
    command
      .description("run a pipeline (or part of it) here, with live per-block progress; exit code 1 when the run fails")
      .usage("<pipeline> [--var k=v]... [--block b [--upstream | --downstream]] [--logical-date ISO] [--json]")
      .argument("<pipeline>", "the folder name under pipelines/")
      .option("--var <key=value>", "a pipeline variable, as YAML (months=[1,2], n=3); repeatable", keyValuePairs("--var"))
      .option("--block <block>", "run only this block (its upstreams' cached outputs are used)")
      .option("--upstream", "with --block: the block and everything upstream of it")
      .option("--downstream", "with --block: the block and everything downstream of it")
      .option("--logical-date <iso>", "the run's logical date (2024-01-31 or 2024-01-31T06:00:00Z)", isoDate("--logical-date"))
      .option("--json", "print only a JSON summary of the run when it ends"),
    "sluice run green_taxi_etl",
    "sluice run green_taxi_etl --var months=[1,2] --block clean --downstream --json",
  );
}

export interface RetryOptions {
  from?: string;
  json?: boolean;
}

/** The command line of `sluice retry`. */
export function defineRetryCommand(command: Command): Command {
  return withExamples(
    command
      .description("re-run a finished run's failed, upstream_failed and cancelled blocks (or from a block) inside the same run")
      .usage("<run_id> [--from block] [--json]")
      .argument("<run_id>", "the run to retry (its id, as `sluice run` and the editor show it)")
      .option("--from <block>", "re-run this block and everything downstream of it instead")
      .option("--json", "print only a JSON summary of the run when it ends"),
    "sluice retry 0192f3c4-5d6e-7f80-9a1b-2c3d4e5f6a7b",
    "sluice retry 0192f3c4-5d6e-7f80-9a1b-2c3d4e5f6a7b --from clean --json",
  );
}

export interface SchedulerOptions {
  once?: boolean;
}

/** The command line of `sluice scheduler`. */
export function defineSchedulerCommand(command: Command): Command {
  return withExamples(
    command
      .description("the standalone scheduler: starts the due runs of every pipelines/<p>/triggers.yaml, until Ctrl+C")
      .usage("[--once]")
      .option("--once", "run one tick, wait for the runs it started, and exit (cron jobs, scripts)")
      // Recovery now always happens (only of dead owners' runs); the flag stays so that old scripts still work.
      .addOption(new Option("--recover", "recover orphaned runs (always done now)").hideHelp()),
    "sluice scheduler",
    "sluice scheduler --once",
  );
}

export interface CleanOptions {
  olderThan: number;
  deleteRecordsOlderThan?: number;
}

/** The command line of `sluice clean`. */
export function defineCleanCommand(command: Command): Command {
  return withExamples(
    command
      .description("delete the outputs and logs of finished runs older than --older-than (run records are kept unless asked)")
      .usage("[--older-than 30d] [--delete-records-older-than 180d]")
      .addOption(
        new Option("--older-than <duration>", "outputs and logs of runs finished before this long ago")
          .argParser(duration("--older-than"))
          .default(duration("--older-than")(DEFAULT_OLDER_THAN), DEFAULT_OLDER_THAN),
      )
      .option("--delete-records-older-than <duration>", "also delete run records this old (never those of the last 90 days)", duration("--delete-records-older-than")),
    "sluice clean --older-than 7d",
    "sluice clean --older-than 30d --delete-records-older-than 365d",
  );
}

export interface WorkerOptions {
  concurrency?: number;
  queue?: string[];
  prefix?: string;
  local?: boolean;
  lockDuration?: number;
  stalledInterval?: number;
  grace?: number;
}

/** The command line of `sluice worker`. */
export function defineWorkerCommand(command: Command): Command {
  return withExamples(
    command
      .description("run blocks from the queue (SLUICE_EXECUTOR=queue servers enqueue them) until SIGTERM/SIGINT")
      .usage("[--concurrency N] [--queue q]... [--prefix p] [--local] [--lock-duration ms] [--stalled-interval ms] [--grace ms]")
      .option("--concurrency <n>", "blocks run at once (default: 1)", wholeNumber("--concurrency"))
      .option("--queue <name>", "a queue to pull from, or several comma-separated; repeatable (default: the default queue)", repeated)
      .option("--prefix <prefix>", "BullMQ key prefix (default: SLUICE_QUEUE_PREFIX, else sluice)")
      .option("--local", "every worker is on this machine and shares its data directory: no DATABASE_URL needed")
      .option("--lock-duration <ms>", "how long a job stays locked without a renewal (default: 6000)", wholeNumber("--lock-duration"))
      .option("--stalled-interval <ms>", "how often stalled jobs are looked for (default: 2000)", wholeNumber("--stalled-interval"))
      .option("--grace <ms>", "on stop, how long running blocks may finish before they are handed back (default: 30000)", wholeNumber("--grace"))
      .addHelpText(
        "after",
        `
Environment: needs REDIS_URL, and DATABASE_URL unless --local or SLUICE_WORKERS_LOCAL=1 (every worker on this
machine, sharing its data directory); SLUICE_LEASE_MS / SLUICE_HEARTBEAT_MS set its run-owner lease;
SLUICE_QUEUE_PREFIX is the default --prefix; SLUICE_OUTPUT_URL=s3://… or gs://… mirrors outputs for workers
that share no disk (client settings from the sluice.yaml connection SLUICE_OUTPUT_CONNECTION).
`,
      ),
    "REDIS_URL=redis://127.0.0.1:6379 sluice worker --local --concurrency 4",
    "REDIS_URL=redis://queue:6379 DATABASE_URL=postgres://sluice@db/sluice sluice worker --queue heavy",
  );
}

/**
 * `sluice profile from-terraform`. profile-command.ts reads and checks its own arguments; this declaration
 * gives it `--help` and completion.
 */
export function defineProfileCommand(command: Command): Command {
  command.description("write connection profiles into sluice.yaml").usage("from-terraform <outputs.json | -> [options]");
  withExamples(
    command
      .command("from-terraform")
      .description("gcs and bigquery connections from `terraform output -json` of infra/terraform/gcp, into sluice.yaml")
      .usage("<outputs.json | -> [--name base] [--file sluice.yaml] [--key-file path]")
      .argument("[outputs]", "the outputs file, or - for standard input")
      // profile-command.ts checks its own arguments and words its own usage errors.
      .allowUnknownOption()
      .allowExcessArguments()
      .option("--name <base>", 'connections "<base>_lake" and "<base>_warehouse" (default: "lake" and "warehouse")')
      .option("--file <path>", "the sluice.yaml to write (default: the project's)")
      .option("--key-file <path>", "where the service-account key goes, mode 0600 (default: .sluice/keys/gcp-service-account.json)"),
    "terraform -chdir=infra/terraform/gcp output -json | sluice profile from-terraform -",
  );
  return command;
}

/** The command line of `sluice completion`. */
export function defineCompletionCommand(command: Command): Command {
  return withExamples(
    command
      .description("print a shell completion script (commands, options, pipeline names)")
      .usage("bash|zsh")
      .addArgument(new Argument("<shell>", "the shell to complete in").choices(COMPLETION_SHELLS)),
    "source <(sluice completion bash)          # in ~/.bashrc",
    "sluice completion zsh > ~/.zfunc/_sluice  # with fpath+=(~/.zfunc) before compinit in ~/.zshrc",
  );
}
