import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { REPO_ROOT } from "./taxi-data";

/** How a `sluice` command ended. */
export interface SluiceResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const SLUICE = path.join(REPO_ROOT, "bin", "sluice.cjs");

function environment(projectDir: string, env: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, SLUICE_PROJECT_DIR: projectDir, ...env };
}

/**
 * Runs the real `sluice` command in a project folder, as a user would, and collects its output. Asynchronous,
 * so that local servers living in the test process (GCS, S3, BigQuery, HTTP) keep answering the command.
 */
export function runSluice(projectDir: string, args: string[], env: Record<string, string> = {}): Promise<SluiceResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SLUICE, ...args], { cwd: projectDir, env: environment(projectDir, env), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** `runSluice` for tests that need no server of their own in this process: blocks until the command ends (at most 3 minutes). */
export function runSluiceSync(projectDir: string, args: string[], env: Record<string, string> = {}): SluiceResult {
  const result = spawnSync(process.execPath, [SLUICE, ...args], { cwd: projectDir, env: environment(projectDir, env), encoding: "utf8", timeout: 180_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
