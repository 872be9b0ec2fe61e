import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createServices } from "../lib/server/services";
import { median, ms, type BenchRow } from "./report";

const ROOT = path.resolve(__dirname, "..");
const SLUICE = path.join(ROOT, "bin", "sluice.cjs");
const RUNS = 5;

/** The `sluice` command as it ran before dist/: tsx compiling lib/cli/main.ts at every start. */
const TSX_CLI = `require(${JSON.stringify(require.resolve("tsx/cjs/api"))}).register();
require(${JSON.stringify(path.join(ROOT, "lib", "cli", "main.ts"))}).main(process.argv.slice(1)).then((code) => { process.exitCode = code; });`;

/** GNU time: the CPU time of the whole process tree (block processes included), which a busy machine inflates less than wall time. */
const GNU_TIME = "/usr/bin/time";

interface Cost {
  wall: number;
  /** User + system CPU ms of the process and its children; NaN without GNU time. */
  cpu: number;
}

/** Process wall (spawn to exit) and CPU of one command; throws when it fails, so a broken path is never timed. */
function cost(args: string[], cwd: string): Cost {
  const timed = fs.existsSync(GNU_TIME);
  const cpuFile = path.join(os.tmpdir(), `sluice-bench-cpu-${process.pid}`);
  const [command, commandArgs] = timed ? [GNU_TIME, ["-f", "%U %S", "-o", cpuFile, process.execPath, ...args]] : [process.execPath, args];
  const started = performance.now();
  const result = spawnSync(command, commandArgs, { cwd, env: { ...process.env, SLUICE_PROJECT_DIR: cwd }, encoding: "utf8", timeout: 120_000 });
  const wall = performance.now() - started;
  if (result.status !== 0) throw new Error(`${args.join(" ")} exited ${result.status ?? result.signal}: ${result.stderr}`);
  if (!timed) return { wall, cpu: NaN };
  const [user, system] = fs.readFileSync(cpuFile, "utf8").trim().split(/\s+/).slice(-2).map(Number);
  fs.rmSync(cpuFile, { force: true });
  return { wall, cpu: (user + system) * 1000 };
}

/** Medians of the built command and the tsx one, run alternately so both see the same machine load. */
function interleaved(args: string[], cwd: string, runs: number): { built: Cost; tsx: Cost } {
  const built: Cost[] = [];
  const tsx: Cost[] = [];
  for (let i = 0; i < runs; i++) {
    built.push(cost([SLUICE, ...args], cwd));
    tsx.push(cost(["-e", TSX_CLI, "--", ...args], cwd)); // "--": `--help` is the command's, not node's
  }
  return { built: medianCost(built), tsx: medianCost(tsx) };
}

function medianCost(costs: Cost[]): Cost {
  return { wall: median(costs.map((c) => c.wall)), cpu: median(costs.map((c) => c.cpu)) };
}

const show = (c: Cost) => `${ms(c.wall)} (CPU ${ms(c.cpu)})`;

const FIRST_BLOCK = `import { tableFromArrays } from "apache-arrow";
export default async function first(ctx) {
  ctx.log.info("started at " + (performance.timeOrigin + performance.now()));
  return tableFromArrays({ x: Int32Array.from([1]) });
}`;

/**
 * Milliseconds from a TS block's `queued` event to the first line of its code, for the first run of fresh
 * services (block processes booting, started when the services opened, as `sluice run` does) and then
 * for later runs on the warm pool. Clocks: this process's and the block process's epoch time.
 */
async function firstBlockLatency(): Promise<{ firstRun: number; warm: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-bench-startup-"));
  const pipelineDir = path.join(dir, "pipelines", "first");
  fs.mkdirSync(pipelineDir, { recursive: true });
  fs.writeFileSync(path.join(pipelineDir, "pipeline.yaml"), "version: 1\nname: first\nblocks:\n  - { name: first, type: loader, language: ts, upstream: [] }\n");
  fs.writeFileSync(path.join(pipelineDir, "first.ts"), FIRST_BLOCK);
  // The block is compiled once (cached on disk by content hash) by a throwaway run: the latency measured is
  // the start of a known block, as in every run but the very first after an edit.
  const warmup = await createServices({ projectDir: dir });
  try {
    await warmup.runner.run({ pipeline: "first" });
  } finally {
    await warmup.close();
  }
  const services = await createServices({ projectDir: dir });
  try {
    services.executor.warm?.();
    const latencies: number[] = [];
    for (let i = 0; i < 1 + RUNS; i++) {
      let queuedAt = NaN;
      let startedAt = NaN;
      const unsubscribe = services.runner.events.subscribe((event) => {
        if (event.type === "block_state" && event.state === "queued") queuedAt = performance.timeOrigin + performance.now();
        if (event.type === "log" && event.line.message.startsWith("started at ")) startedAt = Number(event.line.message.slice("started at ".length));
      });
      const outcome = await services.runner.run({ pipeline: "first" });
      unsubscribe();
      if (outcome.state !== "success" || !Number.isFinite(queuedAt) || !Number.isFinite(startedAt)) throw new Error(`first-block run: ${outcome.state}`);
      latencies.push(startedAt - queuedAt);
    }
    return { firstRun: latencies[0], warm: median(latencies.slice(1)) };
  } finally {
    await services.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Start-up of the `sluice` command built to JavaScript (dist/) beside the same command through tsx, and how
 * soon a TS block's code starts after it is queued.
 */
export async function benchStartup(): Promise<BenchRow[]> {
  if (!fs.existsSync(path.join(ROOT, "dist", "cli.cjs"))) throw new Error("dist/ is missing: run `npm run build:engine` (npm run bench builds it)");
  const project = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-bench-hello-"));
  fs.cpSync(path.join(ROOT, "pipelines", "hello"), path.join(project, "pipelines", "hello"), { recursive: true });
  const rows: BenchRow[] = [];
  try {
    const help = interleaved(["--help"], project, RUNS);
    const bare = medianCost(Array.from({ length: RUNS }, () => cost(["-e", "0"], project)));
    rows.push({ bench: "sluice --help", metric: "process wall (CPU), median of 5", value: show(help.built), baseline: `${show(help.tsx)} tsx; ${show(bare)} node -e 0`, target: "≤ 150 ms" });
    cost([SLUICE, "run", "hello"], project); // compiles the blocks once (both paths share the cache)
    const run = interleaved(["run", "hello"], project, 3);
    rows.push({ bench: "sluice run hello", metric: "process wall (CPU, all processes), median of 3", value: show(run.built), baseline: `${show(run.tsx)} tsx`, target: "≤ 1.0 s" });
  } finally {
    fs.rmSync(project, { recursive: true, force: true });
  }
  const latency = await firstBlockLatency();
  rows.push({ bench: "first TS block of a run", metric: "queued → its code starts, fresh services", value: ms(latency.firstRun), baseline: `${ms(latency.warm)} (warm pool, median of ${RUNS})`, target: "≤ 100 ms" });
  return rows;
}
