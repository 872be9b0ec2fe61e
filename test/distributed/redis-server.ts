/**
 * A private `redis-server` for tests that stop and restart Redis (the shared one on 6379 is never
 * touched), configured as docker-compose.yml runs Redis for BullMQ: an append-only file (`appendfsync
 * everysec`, Redis' default: every write reaches the file before Redis answers, the fsync follows within a
 * second, so a crash of the Redis process loses nothing it acknowledged) in a temp directory and
 * `maxmemory-policy noeviction`. Queued and running jobs, locks and event streams survive a SIGKILL.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export interface PrivateRedis {
  url: string;
  port: number;
  dir: string;
  /** SIGKILL: Redis disappears mid-command, as in a crash or a lost machine. */
  kill(): Promise<void>;
  /** Starts it again on the same port and directory (the append-only file is replayed). */
  start(): Promise<void>;
  /** Stops it for good and removes its directory. */
  close(): Promise<void>;
}

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve();
      });
      socket.once("error", () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`redis-server did not listen on ${port} within ${timeoutMs} ms`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-redis-"));
  let child: ChildProcess | null = null;
  let log = "";
  const start = async (): Promise<void> => {
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--maxmemory-policy", "noeviction"];
    const started = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
    started.stdout?.on("data", (chunk: Buffer) => (log += chunk.toString("utf8")));
    started.stderr?.on("data", (chunk: Buffer) => (log += chunk.toString("utf8")));
    child = started;
    await waitForPort(port, 10_000).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${log}`);
    });
  };
  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once("exit", resolve));
    running.kill(signal);
    await exited;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    kill: () => stop("SIGKILL"),
    start,
    async close() {
      await stop("SIGKILL");
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
