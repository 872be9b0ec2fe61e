import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { isSluiceError, messageOf, UserError } from "../core/errors";
import { parseProfiles } from "../io/profiles";
import { mergeConnections } from "../io/sluice-yaml-merge";
import { gcpConnectionNames, gcpConnectionsFromTerraform, parseTerraformOutputsText } from "../io/terraform-profile";
import { envVar } from "../server/env";
import { writeFileAtomic } from "../store/atomic-write";
import { isErrno } from "../store/safe-path";
import type { CliIo } from "./run-command";

export const PROFILE_USAGE = `usage: sluice profile from-terraform <outputs.json | -> [--name base] [--file sluice.yaml] [--key-file path]
  writes the gcs and bigquery connections described by \`terraform output -json\` of infra/terraform/gcp into
  sluice.yaml (connections "lake" and "warehouse", or "<base>_lake" and "<base>_warehouse" with --name),
  keeping its comments and other connections; the service-account key goes to --key-file (mode 0600,
  default .sluice/keys/gcp-service-account.json beside sluice.yaml), never into sluice.yaml`;

const CONNECTION_NAME = /^[A-Za-z0-9_-]+$/;

export interface ProfileCommandDeps {
  /** Where relative paths resolve and sluice.yaml is looked for by default. */
  cwd?: string;
  /** The project folder (SLUICE_PROJECT_DIR) when set: the default sluice.yaml is there. */
  projectDir?: string;
  /** Reads all of standard input, for `-`. */
  readStdin?: () => Promise<string>;
}

/**
 * `sluice profile <subcommand>`. Exit codes: 0 done, 1 the outputs or sluice.yaml are not usable (nothing is
 * written then), 2 bad usage.
 */
export async function profileCommand(argv: string[], io: CliIo, deps: ProfileCommandDeps = {}): Promise<number> {
  const [subcommand, ...rest] = argv;
  if (subcommand === "--help" || subcommand === "-h" || subcommand === "help") {
    io.stdout.write(`${PROFILE_USAGE}\n`);
    return 0;
  }
  if (subcommand !== "from-terraform") {
    io.stderr.write(`error: ${subcommand === undefined ? "missing subcommand" : `unknown subcommand "${subcommand}"`}\n${PROFILE_USAGE}\n`);
    return 2;
  }
  let args: FromTerraformArgs;
  try {
    args = fromTerraformArgs(rest);
  } catch (error) {
    io.stderr.write(`error: ${messageOf(error)}\n${PROFILE_USAGE}\n`);
    return 2;
  }
  if (args.help) {
    io.stdout.write(`${PROFILE_USAGE}\n`);
    return 0;
  }
  try {
    return await fromTerraform(args, io, deps);
  } catch (error) {
    // Messages name files relative to where the user stands and never carry the key; a bug still shows its stack.
    if (!isSluiceError(error)) throw error;
    io.stderr.write(`error: ${error.message}\n`);
    return 1;
  }
}

interface FromTerraformArgs {
  help: boolean;
  outputs: string;
  name: string | undefined;
  file: string | undefined;
  keyFile: string | undefined;
}

function fromTerraformArgs(argv: string[]): FromTerraformArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: "string" },
      file: { type: "string" },
      "key-file": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const help = values.help ?? false;
  if (help) return { help, outputs: "", name: undefined, file: undefined, keyFile: undefined };
  if (positionals.length === 0) throw new Error("missing the outputs file (`terraform output -json > outputs.json`, or - for standard input)");
  if (positionals.length > 1) throw new Error(`one outputs file expected, got ${positionals.length}: ${positionals.join(" ")}`);
  if (values.name !== undefined && !CONNECTION_NAME.test(values.name)) throw new Error(`--name "${values.name}": connection names are letters, digits, _ and -`);
  for (const flag of ["file", "key-file"] as const) if (values[flag] === "") throw new Error(`--${flag} needs a path`);
  return { help, outputs: positionals[0], name: values.name, file: values.file, keyFile: values["key-file"] };
}

async function fromTerraform(args: FromTerraformArgs, io: CliIo, deps: ProfileCommandDeps): Promise<number> {
  const cwd = deps.cwd ?? process.cwd();
  const yamlFile = args.file === undefined ? path.resolve(deps.projectDir ?? envVar("SLUICE_PROJECT_DIR") ?? cwd, "sluice.yaml") : path.resolve(cwd, args.file);
  const projectDir = path.dirname(yamlFile);
  const keyFile = args.keyFile === undefined ? path.join(projectDir, ".sluice", "keys", "gcp-service-account.json") : path.resolve(cwd, args.keyFile);
  const yamlName = shown(cwd, yamlFile);
  const source = args.outputs === "-" ? "standard input" : shown(cwd, path.resolve(cwd, args.outputs));

  const outputsText = args.outputs === "-" ? await (deps.readStdin ?? readStdin)() : await readText(path.resolve(cwd, args.outputs), source);
  if (outputsText === null) throw new UserError("terraform_outputs_not_found", `${source}: no such file; write it with \`terraform output -json > ${source}\` in infra/terraform/gcp`);
  // credentials_file resolves against the folder of sluice.yaml (the project), so it is written relative to it.
  const credentialsFile = toPosix(path.relative(projectDir, keyFile));
  const found = gcpConnectionsFromTerraform(parseTerraformOutputsText(outputsText, source), { source, credentialsFile });
  const names = gcpConnectionNames(args.name);
  const credentialKeys = found.serviceAccountKeyJson === undefined ? [] : ["credentials_json"];
  // The loader must accept what is written, whatever else the file holds.
  parseProfiles(`connections:\n  ${names.gcs}: ${JSON.stringify(found.gcs)}\n  ${names.bigquery}: ${JSON.stringify(found.bigquery)}\n`, yamlName, {});

  const current = await readText(yamlFile, yamlName);
  const merged = mergeConnections(current, yamlName, [
    { name: names.gcs, profile: found.gcs, removeKeys: credentialKeys },
    { name: names.bigquery, profile: found.bigquery, removeKeys: credentialKeys },
  ]);
  await mkdir(projectDir, { recursive: true });
  // The key first: sluice.yaml never points at a key that is not there.
  if (found.serviceAccountKeyJson !== undefined) {
    await mkdir(path.dirname(keyFile), { recursive: true, mode: 0o700 });
    await writeFileAtomic(keyFile, found.serviceAccountKeyJson, { mode: 0o600 });
  }
  await writeFileAtomic(yamlFile, merged.text);

  const verb = (name: string): string => (merged.created.includes(name) ? "added" : "updated");
  io.stdout.write(`${verb(names.gcs)} connection "${names.gcs}" (gcs: bucket ${found.gcs.bucket}, project ${found.gcs.project_id}) in ${yamlName}\n`);
  io.stdout.write(`${verb(names.bigquery)} connection "${names.bigquery}" (bigquery: dataset ${found.bigquery.dataset}, location ${found.bigquery.location}) in ${yamlName}\n`);
  if (found.serviceAccountKeyJson !== undefined) {
    io.stdout.write(`wrote the key of ${found.serviceAccountEmail} to ${shown(cwd, keyFile)} (mode 0600); keep it out of version control\n`);
  } else {
    io.stdout.write(`no service-account key in ${source}: the connections use Application Default Credentials (impersonate ${found.serviceAccountEmail})\n`);
  }
  return 0;
}

/** A file's text, or null when it does not exist. */
async function readText(file: string, shownAs: string): Promise<string | null> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    if (isErrno(error, "ENOENT")) return null;
    // The code (EACCES, EISDIR…) says what is wrong without the absolute path Node puts in its message.
    const code = typeof error === "object" && error !== null && "code" in error ? String(error.code) : "unreadable";
    throw new UserError("unreadable_file", `${shownAs}: cannot read it (${code})`);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString("utf8");
}

/** A path as the user would type it from where they stand. */
function shown(cwd: string, file: string): string {
  const relative = path.relative(cwd, file);
  return relative === "" || relative.startsWith("..") || path.isAbsolute(relative) ? file : relative;
}

function toPosix(file: string): string {
  return file.split(path.sep).join("/");
}
