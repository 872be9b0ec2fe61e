import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { UserError } from "../core/errors";
import type { LogLine } from "../core/execution";
import { LogStore } from "./log-store";

function line(message: string, level: LogLine["level"] = "info"): LogLine {
  return { at: "2024-05-01T10:00:00.000Z", level, message };
}

describe("LogStore", () => {
  let dataDir: string;
  let logs: LogStore;

  beforeEach(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), "sluice-logs-"));
    logs = new LogStore(dataDir);
  });

  afterEach(async () => {
    await logs.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("appends JSON lines per attempt and reads them back in order", async () => {
    logs.append("run1", "load", 1, line("starting"));
    logs.append("run1", "load", 1, line("multi\nline \"quoted\"", "warn"));
    logs.append("run1", "load", 2, line("second try"));
    logs.append("run1", "clean", 1, line("other block"));
    expect(await logs.read("run1", "load", 1)).toEqual([
      { ...line("starting"), attempt: 1 },
      { ...line("multi\nline \"quoted\"", "warn"), attempt: 1 },
    ]);
    expect((await logs.read("run1", "load")).map((l) => `${l.attempt}:${l.message}`)).toEqual(["1:starting", "1:multi\nline \"quoted\"", "2:second try"]);
    expect(await logs.listAttempts("run1", "load")).toEqual([1, 2]);
    const file = path.join(dataDir, "logs", "run1", "load.1.jsonl");
    expect(readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l))).toEqual([line("starting"), line("multi\nline \"quoted\"", "warn")]);
  });

  it("buffers appends and writes them on its own shortly after", async () => {
    const quick = new LogStore(dataDir, { flushIntervalMs: 20 });
    quick.append("run1", "b", 1, line("x"));
    const file = path.join(dataDir, "logs", "run1", "b.1.jsonl");
    expect(existsSync(file)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(readFileSync(file, "utf8")).toBe(`${JSON.stringify(line("x"))}\n`);
    await quick.close();
  });

  it("writes at once when many lines are pending, keeping their order", async () => {
    const small = new LogStore(dataDir, { maxPendingLines: 10, flushIntervalMs: 60_000 });
    for (let i = 0; i < 1000; i++) small.append("run1", "chatty", 1, line(`line ${i}`));
    await small.flush();
    const read = await new LogStore(dataDir).read("run1", "chatty", 1);
    expect(read.map((l) => l.message)).toEqual(Array.from({ length: 1000 }, (_, i) => `line ${i}`));
    await small.close();
  });

  it("returns nothing for unknown logs and skips a half-written last line", async () => {
    expect(await logs.read("nope", "nothing")).toEqual([]);
    expect(await logs.read("nope", "nothing", 3)).toEqual([]);
    logs.append("run1", "b", 1, line("whole"));
    await logs.flush();
    appendFileSync(path.join(dataDir, "logs", "run1", "b.1.jsonl"), '{"at":"2024-05-01T10:00:00.000Z","level":"in');
    expect((await logs.read("run1", "b", 1)).map((l) => l.message)).toEqual(["whole"]);
  });

  it("rejects names that could leave the data directory", () => {
    expect(() => logs.append("../x", "b", 1, line("x"))).toThrow(UserError);
    expect(() => logs.append("run", "b/../../c", 1, line("x"))).toThrow(UserError);
    expect(() => logs.append("run", "b", -1, line("x"))).toThrow(UserError);
  });

  it("deletes a run's logs, dropping lines still pending for it", async () => {
    logs.append("run1", "b", 1, line("flushed"));
    await logs.flush();
    logs.append("run1", "b", 1, line("pending"));
    logs.append("run2", "b", 1, line("kept"));
    await logs.deleteRun("run1");
    expect(existsSync(path.join(dataDir, "logs", "run1"))).toBe(false);
    await logs.flush();
    expect(existsSync(path.join(dataDir, "logs", "run1"))).toBe(false);
    expect((await logs.read("run2", "b")).map((l) => l.message)).toEqual(["kept"]);
    logs.append("run1", "b", 1, line("after delete"));
    expect((await logs.read("run1", "b")).map((l) => l.message)).toEqual(["after delete"]);
  });

  it("reports a failed write on the next flush", async () => {
    const blocked = path.join(dataDir, "file-not-dir");
    appendFileSync(blocked, "x");
    const broken = new LogStore(blocked, { flushIntervalMs: 60_000 });
    broken.append("run1", "b", 1, line("x"));
    await expect(broken.flush()).rejects.toThrow();
    await expect(broken.flush()).resolves.toBeUndefined();
  });
});
