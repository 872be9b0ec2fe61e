/**
 * The engine built to dist/ (scripts/build-engine.cjs): what runs is current, needs no TypeScript compiler, and
 * a changed source is never mistaken for the built one.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { currentBuiltEntry, isBuildCurrent, sourceStamp } from "../scripts/build-stamp.cjs";
import { REPO_ROOT } from "./taxi-data";
import packageJson from "../package.json";

function node(script: string, args: string[] = []) {
  return spawnSync(process.execPath, ["-e", script, "--", ...args], { cwd: REPO_ROOT, encoding: "utf8", timeout: 60_000 });
}

describe("dist/ (the built engine)", () => {
  it("is a build of the current sources once the suite's setup ran", () => {
    expect(isBuildCurrent(REPO_ROOT)).toBe(true);
    for (const entry of ["cli", "worker-process", "block-process"]) {
      expect(currentBuiltEntry(REPO_ROOT, entry)).toBe(path.join(REPO_ROOT, "dist", `${entry}.cjs`));
      expect(fs.existsSync(path.join(REPO_ROOT, "dist", `${entry}.cjs`))).toBe(true);
    }
  });

  it("runs the sluice command without loading tsx", () => {
    // argv[1] stands in for the script path bin/sluice.cjs expects before its arguments.
    const script = `process.argv.splice(1, 0, "sluice");
process.on("exit", () => { if (Object.keys(require.cache).some((file) => file.includes("/node_modules/tsx/"))) { console.error("tsx was loaded"); process.exitCode = 3; } });
require(${JSON.stringify(path.join(REPO_ROOT, "bin", "sluice.cjs"))});`;
    const result = node(script, ["--version"]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe(packageJson.version);
  });

  it("loads an optional heavy package only when one of its exports is first used, then gives the real one", () => {
    const stub = path.join(REPO_ROOT, "dist", "lazy", "bullmq.cjs");
    const script = `const loaded = () => Object.keys(require.cache).some((file) => file.includes("/node_modules/bullmq/"));
const stub = require(${JSON.stringify(stub)});
const before = loaded();
const Queue = stub.Queue;
console.log(JSON.stringify({ before, after: loaded(), same: Queue === require("bullmq").Queue, isClass: typeof Queue === "function" }));`;
    const result = node(script);
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual({ before: false, after: true, same: true, isClass: true });
  });
});

describe("the sources' fingerprint", () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-build-stamp-"));
    fs.mkdirSync(path.join(root, "lib", "cli"), { recursive: true });
    fs.mkdirSync(path.join(root, "scripts"));
    fs.writeFileSync(path.join(root, "lib", "cli", "main.ts"), "export const a = 1;\n");
    fs.writeFileSync(path.join(root, "lib", "cli", "main.test.ts"), "test('x', () => undefined);\n");
    fs.writeFileSync(path.join(root, "scripts", "build-engine.cjs"), "// build\n");
    fs.writeFileSync(path.join(root, "package.json"), "{}\n");
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  function markBuilt(): void {
    fs.mkdirSync(path.join(root, "dist"), { recursive: true });
    fs.writeFileSync(path.join(root, "dist", "stamp.json"), JSON.stringify({ sources: sourceStamp(root) }));
  }

  it("makes the build stale when a source file changes, and not when a test changes", () => {
    markBuilt();
    expect(currentBuiltEntry(root, "cli")).toBe(path.join(root, "dist", "cli.cjs"));
    fs.writeFileSync(path.join(root, "lib", "cli", "main.test.ts"), "test('y', () => undefined);\n");
    expect(isBuildCurrent(root)).toBe(true);
    // Same size, later modification time: an edit that keeps the length is still an edit.
    fs.writeFileSync(path.join(root, "lib", "cli", "main.ts"), "export const a = 2;\n");
    const later = new Date(Date.now() + 5_000);
    fs.utimesSync(path.join(root, "lib", "cli", "main.ts"), later, later);
    expect(isBuildCurrent(root)).toBe(false);
    expect(currentBuiltEntry(root, "cli")).toBeNull();
  });

  it("makes the build stale when a source is added or the build script changes", () => {
    markBuilt();
    fs.writeFileSync(path.join(root, "lib", "cli", "extra.ts"), "export {};\n");
    expect(isBuildCurrent(root)).toBe(false);
    markBuilt();
    fs.appendFileSync(path.join(root, "scripts", "build-engine.cjs"), "// changed\n");
    expect(isBuildCurrent(root)).toBe(false);
  });

  it("treats a dist/ without its stamp (never built, or a build that did not finish) as stale", () => {
    expect(isBuildCurrent(root)).toBe(false);
    fs.mkdirSync(path.join(root, "dist"));
    fs.writeFileSync(path.join(root, "dist", "cli.cjs"), "");
    expect(currentBuiltEntry(root, "cli")).toBeNull();
  });
});
