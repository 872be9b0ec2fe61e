/**
 * The resident memory of another process, read by the block pool after each job (the watchdog thread,
 * memory-watchdog.ts, reads the same field on its own thread while a job runs). Resident memory is the
 * one number that counts everything a block can allocate — V8 heap, Buffers and ArrayBuffers (which V8's
 * heap limit does not cover), WebAssembly memory, native addons — and it is what the kernel's OOM killer
 * looks at. It can only be attributed to a process, not to a thread, which is why blocks run in processes.
 */
import { readFileSync } from "node:fs";

const VM_RSS = /^VmRSS:\s+(\d+)\s+kB$/m;

/**
 * Bytes resident for `pid` (VmRSS of `/proc/<pid>/status`, which states its unit, unlike `statm`'s pages),
 * or null where there is no procfs (macOS) or the process is gone. A synchronous read of procfs costs a few
 * microseconds, cheaper than the promise machinery of an async one at one sample per 25 ms.
 */
export function residentBytes(pid: number): number | null {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "latin1");
  } catch {
    return null;
  }
  const match = VM_RSS.exec(status);
  return match ? Number(match[1]) * 1024 : null;
}
