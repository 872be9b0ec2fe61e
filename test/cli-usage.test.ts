/**
 * The `sluice` command line as a user meets it, through the real bin/sluice.cjs: every command's --help,
 * usage errors (one line, the usage, exit 2), operational failures (one line, exit 1, no stack unless
 * --debug), --version, and the bash completion script.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { REPO_ROOT } from "./taxi-data";

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

const SLUICE = path.join(REPO_ROOT, "bin", "sluice.cjs");
const STACK_LINE = /^\s+at /m;

/** Runs `sluice <args>` in `cwd` without blocking the event loop (a test holds a port open meanwhile). */
function sluice(cwd: string, args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SLUICE, ...args], {
      cwd,
      env: { ...process.env, SLUICE_PROJECT_DIR: cwd, SLUICE_TOKEN: "", DATABASE_URL: "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function lines(text: string): string[] {
  return text.split("\n").filter((line) => line !== "");
}

describe("sluice command line", () => {
  let projectDir: string;

  beforeAll(() => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-cli-usage-"));
    for (const name of ["green_taxi_etl", "hello"]) {
      fs.mkdirSync(path.join(projectDir, "pipelines", name), { recursive: true });
      fs.copyFileSync(path.join(REPO_ROOT, "pipelines", name, "pipeline.yaml"), path.join(projectDir, "pipelines", name, "pipeline.yaml"));
    }
    fs.mkdirSync(path.join(projectDir, "pipelines", "not_a_pipeline"));
  });

  afterAll(() => {
    fs.rmSync(projectDir, { recursive: true, force: true });
  });

  const helps: [string[], string[]][] = [
    [["start"], ["--port", "--host", "--dev"]],
    [["run"], ["--var", "--block", "--upstream", "--downstream", "--logical-date", "--json"]],
    [["retry"], ["--from", "--json"]],
    [["scheduler"], ["--once"]],
    [["clean"], ["--older-than", "--delete-records-older-than"]],
    [["worker"], ["--concurrency", "--queue", "--prefix", "--local", "--lock-duration", "--stalled-interval", "--grace"]],
    [["profile", "from-terraform"], ["--name", "--file", "--key-file"]],
    [["completion"], []],
  ];

  it.each(helps)("sluice %s --help prints its usage, options and an example, and exits 0", async (command, options) => {
    const { code, stdout, stderr } = await sluice(projectDir, [...command, "--help"]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout).toContain(`Usage: sluice ${command.join(" ")} `);
    for (const option of [...options, "--debug"]) expect(stdout).toContain(option);
    expect(stdout).toMatch(/\nExamples?:\n {2}\S/);
  }, 60_000);

  it("lists the commands with sluice --help and sluice help, and prints the version of package.json", async () => {
    const version = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { version: string }).version;
    const [help, helpCommand, printed] = await Promise.all([sluice(projectDir, ["--help"]), sluice(projectDir, ["help"]), sluice(projectDir, ["--version"])]);
    for (const listing of [help, helpCommand]) {
      expect(listing.code).toBe(0);
      for (const command of ["start", "run", "retry", "scheduler", "clean", "worker", "profile", "completion"]) expect(listing.stdout).toMatch(new RegExp(`^ {2}${command}\\b`, "m"));
    }
    expect(printed).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
  }, 60_000);

  const usageErrors: [string, string[], RegExp][] = [
    ["an unknown option", ["run", "hello", "--blok", "x"], /^sluice run: unknown option '--blok'/],
    ["a port that is not a number", ["start", "--port", "eighty"], /^sluice start: --port: "eighty" is not a port number/],
    ["a logical date that is not a date", ["run", "hello", "--logical-date", "yesterday"], /^sluice run: --logical-date: "yesterday" is not an ISO date/],
    ["--var without =", ["run", "hello", "--var", "months"], /^sluice run: --var expects key=value, got "months"/],
    ["a concurrency of 0", ["worker", "--concurrency", "0"], /^sluice worker: --concurrency: "0" is not a whole number ≥ 1/],
    ["a duration that is not one", ["clean", "--older-than", "30 days"], /^sluice clean: .*30 days/],
    ["a missing pipeline name", ["run"], /^sluice run: missing required argument 'pipeline'/],
    ["an unknown command", ["deploy"], /^sluice: unknown command 'deploy'/],
  ];

  it.each(usageErrors)("%s: one line, then the command's usage, exit 2", async (_what, args, message) => {
    const { code, stdout, stderr } = await sluice(projectDir, args);
    expect({ code, stdout }).toEqual({ code: 2, stdout: "" });
    const printed = lines(stderr);
    expect(printed).toHaveLength(2);
    expect(printed[0]).toMatch(message);
    expect(printed[1]).toMatch(new RegExp(`^usage: sluice ${args[0] === "deploy" ? "" : args[0] + " "}`));
  }, 60_000);

  it("a port in use: one line naming it, exit 1", async () => {
    const occupied = net.createServer();
    await new Promise<void>((resolve) => occupied.listen(0, "127.0.0.1", resolve));
    const address = occupied.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    try {
      const { code, stderr } = await sluice(projectDir, ["start", "--port", String(port)]);
      expect({ code, stderr }).toEqual({ code: 1, stderr: `sluice start: 127.0.0.1:${port} is already in use (another sluice start?); choose another --port\n` });
    } finally {
      await new Promise((resolve) => occupied.close(resolve));
    }
  }, 60_000);

  it("a DATABASE_URL that does not answer: one line naming it without its password, exit 1; --debug adds the stack", async () => {
    const env = { DATABASE_URL: "postgres://postgres:hunter2@127.0.0.1:1/x" };
    const [plain, debug] = await Promise.all([sluice(projectDir, ["run", "hello"], env), sluice(projectDir, ["run", "hello", "--debug"], env)]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toBe(
      "sluice run: the metadata database at DATABASE_URL postgres://postgres:***@127.0.0.1:1/x does not answer: cannot connect to 127.0.0.1:1 (connection refused, ECONNREFUSED)\n",
    );
    expect(debug.code).toBe(1);
    expect(lines(debug.stderr)[0]).toBe(lines(plain.stderr)[0]);
    expect(debug.stderr).toMatch(STACK_LINE);
    expect(debug.stderr).toContain("ECONNREFUSED 127.0.0.1:1");
    expect(`${plain.stderr}${debug.stderr}`).not.toContain("hunter2");
  }, 120_000);

  it("refuses to bind beyond loopback without a token, and a short token, in one line each, exit 1", async () => {
    const [noToken, shortToken] = await Promise.all([
      sluice(projectDir, ["start", "--host", "0.0.0.0", "--port", "0"]),
      sluice(projectDir, ["start", "--port", "0"], { SLUICE_TOKEN: "short-token" }),
    ]);
    expect(noToken).toEqual({
      code: 1,
      stdout: "",
      stderr: "sluice start: refusing to listen on 0.0.0.0 without a token: block code runs with this server's rights. Set SLUICE_TOKEN, or bind 127.0.0.1\n",
    });
    expect(shortToken.code).toBe(1);
    expect(shortToken.stderr).toMatch(/^sluice start: SLUICE_TOKEN is 11 characters; use at least 32 random ones, e\.g\. .*\n$/);
  }, 60_000);

  it("a missing pipeline: one line, exit 1; a pipeline file that does not parse keeps its file:line, exit 2", async () => {
    const badDir = path.join(projectDir, "pipelines", "bad_yaml");
    fs.mkdirSync(badDir, { recursive: true });
    fs.writeFileSync(path.join(badDir, "pipeline.yaml"), "version: 1\nname: bad_yaml\nblocks:\n  - name: a\n    type: [loader\n");
    try {
      const [missing, invalid] = await Promise.all([sluice(projectDir, ["run", "no_such_pipeline"]), sluice(projectDir, ["run", "bad_yaml"])]);
      expect(missing).toEqual({ code: 1, stdout: "", stderr: 'sluice run: there is no pipeline named "no_such_pipeline"\n' });
      expect(invalid.code).toBe(2);
      expect(lines(invalid.stderr)).toHaveLength(1);
      expect(invalid.stderr).toMatch(/^sluice run: bad_yaml\/pipeline\.yaml:\d+:\d+: /);
    } finally {
      fs.rmSync(badDir, { recursive: true, force: true });
    }
  }, 120_000);

  it("prints a bash completion script that bash accepts and that completes commands, options and pipeline names", async () => {
    const { code, stdout } = await sluice(projectDir, ["completion", "bash"]);
    expect(code).toBe(0);
    const script = path.join(projectDir, "sluice-completion.bash");
    fs.writeFileSync(script, stdout);
    expect(spawnSync("bash", ["-n", script], { encoding: "utf8" })).toMatchObject({ status: 0, stderr: "" });
    const complete = (...words: string[]): string => {
      const probe = `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _sluice; printf '%s\\n' "\${COMPREPLY[@]}"`;
      const result = spawnSync("bash", ["-c", probe, "bash", script, "sluice", ...words], { cwd: projectDir, encoding: "utf8", env: { ...process.env, SLUICE_PROJECT_DIR: "" } });
      return result.stdout.trim().split("\n").sort().join(" ");
    };
    expect(complete("re")).toBe("retry");
    expect(complete("run", "")).toBe("green_taxi_etl hello");
    expect(complete("--debug", "run", "g")).toBe("green_taxi_etl");
    expect(complete("run", "hello", "--up")).toBe("--upstream");
    expect(complete("worker", "--c")).toBe("--concurrency");
    expect(complete("profile", "")).toBe("from-terraform");
    expect(complete("completion", "")).toBe("bash zsh");
  }, 60_000);

  it("prints a zsh completion script naming every command and its options", async () => {
    const { code, stdout } = await sluice(projectDir, ["completion", "zsh"]);
    expect(code).toBe(0);
    expect(stdout.startsWith("#compdef sluice\n")).toBe(true);
    for (const fragment of ["'run:", "'worker:", "*--var[", "--logical-date[", "*--queue[", "--key-file[", "_sluice_pipelines"]) expect(stdout).toContain(fragment);
  }, 60_000);
});
