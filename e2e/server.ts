import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { REPO_ROOT } from "../test/taxi-data";

export interface StartedServer {
  url: string;
  process: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

/** Starts `sluice start` as a user would (a real process on a free port) over the given project folder. */
export async function startSluice(projectDir: string, extraArgs: string[] = [], env: Record<string, string> = {}): Promise<StartedServer> {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, "bin", "sluice.cjs"), "start", "--port", "0", ...extraArgs], {
    cwd: projectDir,
    env: { ...process.env, SLUICE_PROJECT_DIR: projectDir, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk) => (output += chunk));
  child.stderr?.on("data", (chunk) => (output += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in time:\n${output}`)), 240_000);
    const check = () => {
      const match = output.match(/at (http:\/\/\S+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
  return {
    url,
    process: child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** Debian's Chromium, with the flags this closed network needs. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
  });
}

export const SCREENSHOT_DIR = path.join(REPO_ROOT, "test-results", "screenshots");

/** A started server over a project folder, with Chromium and one 1440×1000 page on it. */
export interface EditorSession {
  server: StartedServer;
  browser: Browser;
  page: Page;
}

/**
 * What most browser tests start with: Monaco copied where the server serves it (the editor needs it), the
 * server over `projectDir`, Chromium and a page.
 */
export async function openEditorSession(projectDir: string): Promise<EditorSession> {
  const copied = spawnSync(process.execPath, [path.join(REPO_ROOT, "scripts", "copy-monaco.cjs")], { encoding: "utf8" });
  if (copied.status !== 0) throw new Error(`copy-monaco failed: ${copied.stderr}`);
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const server = await startSluice(projectDir);
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  return { server, browser, page };
}

/** Closes what `openEditorSession` opened (whatever of it started) and removes the project folder. */
export async function closeEditorSession(session: Partial<EditorSession>, projectDir: string | undefined): Promise<void> {
  await session.browser?.close();
  await session.server?.stop();
  if (projectDir) fs.rmSync(projectDir, { recursive: true, force: true });
}
