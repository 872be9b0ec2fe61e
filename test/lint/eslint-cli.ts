/**
 * ESLint driven through its command line in a child process: the flat config is an ES module, which Jest's
 * CommonJS module system cannot load in-process.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";

export const REPO_ROOT = path.resolve(__dirname, "../..");
const ESLINT_BIN = path.join(REPO_ROOT, "node_modules/eslint/bin/eslint.js");
const run = promisify(execFile);

export interface LintMessage {
  ruleId: string | null;
  message: string;
  line: number;
}

/** Lints `source` as if it were the file at `repoPath` (the file need not exist). */
export async function lintSource(repoPath: string, source: string): Promise<LintMessage[]> {
  const pending = run(process.execPath, [ESLINT_BIN, "--format", "json", "--stdin", "--stdin-filename", repoPath], {
    cwd: REPO_ROOT,
    maxBuffer: 16 * 1024 * 1024,
  });
  pending.child.stdin?.end(source);
  let stdout: string;
  try {
    ({ stdout } = await pending);
  } catch (error) {
    // ESLint exits 1 when it reports errors; its JSON report is still on stdout.
    const failed = error as { code?: number; stdout?: string };
    if (failed.code !== 1 || !failed.stdout) throw error;
    stdout = failed.stdout;
  }
  const [result] = JSON.parse(stdout) as { messages: LintMessage[] }[];
  return result.messages;
}

/** The folder layers the `sluice/folder-boundaries` rule applies to the file at `repoPath`. */
export async function folderLayers(repoPath: string): Promise<Record<string, { allow: string[]; typeOnly?: string[] }>> {
  const { stdout } = await run(process.execPath, [ESLINT_BIN, "--print-config", repoPath], { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 });
  const config = JSON.parse(stdout) as { rules: Record<string, unknown[]> };
  const rule = config.rules["sluice/folder-boundaries"];
  if (rule === undefined) throw new Error(`sluice/folder-boundaries does not apply to ${repoPath}`);
  return (rule[1] as { layers: Record<string, { allow: string[]; typeOnly?: string[] }> }).layers;
}
