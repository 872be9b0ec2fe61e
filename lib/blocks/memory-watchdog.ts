/**
 * Kills a block process the moment its resident memory passes its limit.
 *
 * The sampling runs on a worker thread of its own, not on the server's main thread: the main thread can be
 * busy for a second or more (summarising a million-row output, a DuckDB conversion), and a block allocating
 * Buffers in a loop grows by gigabytes in that time. The thread reads `/proc/<pid>/status` of each watched
 * process every `sampleMs` and sends SIGKILL itself; before killing it records (pid, resident MiB) in a
 * SharedArrayBuffer, so that whoever handles the process's exit can tell a watchdog kill from any other
 * SIGKILL (the OOM killer, an operator) without waiting for a message that could arrive after the exit.
 */
import { Worker } from "node:worker_threads";

/** Recorded kills kept for the exit handler; a slot is cleared when read. */
const KILL_SLOTS = 64;

/** Plain JS, evaluated as the thread's body (nothing to compile or bundle). */
const WATCHDOG_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { readFileSync } = require("node:fs");
const kills = new Int32Array(workerData.kills);
const watched = new Map();
let next = 0;
parentPort.on("message", (m) => { if (m.limitBytes > 0) watched.set(m.pid, m.limitBytes); else watched.delete(m.pid); });
function resident(pid) {
  try {
    const match = /^VmRSS:\\s+(\\d+)\\s+kB$/m.exec(readFileSync("/proc/" + pid + "/status", "latin1"));
    return match ? Number(match[1]) * 1024 : null;
  } catch { return null; }
}
setInterval(() => {
  for (const [pid, limitBytes] of watched) {
    const bytes = resident(pid);
    if (bytes === null || bytes <= limitBytes) continue;
    const slot = next++ % ${KILL_SLOTS};
    Atomics.store(kills, slot * 2 + 1, Math.ceil(bytes / 1048576));
    Atomics.store(kills, slot * 2, pid);
    try { process.kill(pid, "SIGKILL"); } catch {}
    watched.delete(pid);
  }
}, workerData.sampleMs);
`;

/** A running watchdog thread; `watch` when a job starts, `unwatch` when it ends. */
export class MemoryWatchdog {
  private readonly thread: Worker;
  private readonly kills: Int32Array;

  constructor(sampleMs: number) {
    const shared = new SharedArrayBuffer(KILL_SLOTS * 2 * Int32Array.BYTES_PER_ELEMENT);
    this.kills = new Int32Array(shared);
    this.thread = new Worker(WATCHDOG_SOURCE, { eval: true, workerData: { kills: shared, sampleMs } });
    // The watchdog never keeps the server alive by itself; a running job's process does.
    this.thread.unref();
  }

  watch(pid: number, limitBytes: number): void {
    this.thread.postMessage({ pid, limitBytes });
  }

  unwatch(pid: number): void {
    this.thread.postMessage({ pid, limitBytes: 0 });
  }

  /**
   * The resident memory (bytes, rounded up to MiB) `pid` had when the watchdog killed it, or null when the
   * watchdog did not kill it. Clears the record, so a later process with a reused pid is not mistaken.
   */
  takeKill(pid: number): number | null {
    for (let slot = 0; slot < KILL_SLOTS; slot++) {
      if (Atomics.load(this.kills, slot * 2) !== pid) continue;
      const mib = Atomics.load(this.kills, slot * 2 + 1);
      Atomics.store(this.kills, slot * 2, 0);
      return mib * 1024 * 1024;
    }
    return null;
  }

  async close(): Promise<void> {
    await this.thread.terminate();
  }
}
