/**
 * Starts `sluice worker` as a child process and waits until it pulls jobs (its `worker <id> ready` line).
 * For tests, benchmarks and a future `sluice start --workers N`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { currentBuiltEntry } from "../../scripts/build-stamp.cjs";

/** Repository root: dist/, bin/run-ts.cjs and lib/cli/worker-process-main.ts are found from here. */
const ROOT = path.resolve(__dirname, "../..");

/** The built entry (dist/worker-process.cjs) when dist/ is a build of these sources, else the sources through tsx. */
function workerCommandLine(): string[] {
  const built = currentBuiltEntry(ROOT, "worker-process");
  return built !== null ? [built] : [path.join(ROOT, "bin/run-ts.cjs"), path.join(ROOT, "lib/cli/worker-process-main.ts")];
}

export interface SpawnedWorker {
  child: ChildProcess;
  /** The worker id it printed (`host-pid-xxxxxx`). */
  id: string;
  pid: number;
  /** Everything it wrote so far (stdout and stderr), for diagnostics. */
  output(): string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
}

export interface SpawnWorkerOptions {
  /** `sluice worker` flags, e.g. `["--concurrency", "4", "--local"]`. */
  args: string[];
  /** Environment of the child (REDIS_URL, SLUICE_PROJECT_DIR, SLUICE_HOME, …), added to this process's. */
  env: Record<string, string>;
  /** Default 60 s (without a current dist/, the first start compiles the sources through tsx). */
  readyTimeoutMs?: number;
}

/** Spawns a worker process; rejects (and kills it) when it exits or stays silent before it is ready. */
export function spawnWorker(options: SpawnWorkerOptions): Promise<SpawnedWorker> {
  const child = spawn(process.execPath, [...workerCommandLine(), ...options.args], {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown")));
  return new Promise<SpawnedWorker>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`worker did not start within ${options.readyTimeoutMs ?? 60_000} ms:\n${text}`));
    }, options.readyTimeoutMs ?? 60_000);
    const onData = (chunk: Buffer): void => {
      text += chunk.toString("utf8");
      const ready = /worker (\S+) ready:/.exec(text);
      if (ready && child.pid !== undefined) {
        clearTimeout(timer);
        resolve({ child, id: ready[1], pid: child.pid, output: () => text, exited });
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (chunk: Buffer) => {
      text += chunk.toString("utf8");
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited (${code}) before it was ready:\n${text}`));
    });
  });
}
