/**
 * Raw HTTP for the perimeter tests: requests with exactly the headers a browser or an attacker would send
 * (fetch adds and forbids some), bodies streamed chunk by chunk, a chosen local address (the throttle counts
 * per client address), and the server's resident memory from /proc.
 */
import fs from "node:fs";
import http from "node:http";

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface RawRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Source address of the connection (127.0.0.x): each address is its own client for the throttle. */
  localAddress?: string;
}

/** One request on its own connection; the body (if any) sent with a Content-Length. */
export function request(url: string, options: RawRequest = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? "GET", headers: { Connection: "close", ...options.headers }, localAddress: options.localAddress, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

export interface StreamedResult {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
  /** Bytes written before the server answered or cut the connection. */
  sent: number;
  /** Whether the server closed the connection (the client saw it end or reset) before the whole body went out. */
  closedEarly: boolean;
}

/**
 * Streams `total` bytes of body in 64 KB chunks (chunked, or with `declareLength` as one Content-Length),
 * honouring backpressure, until the server answers and closes the connection, or everything is sent — or,
 * with `stallAfter`, stops sending after that many bytes without ending the request; with `ignoreAnswer`, keeps
 * sending after the answer, as a hostile client would.
 */
export function streamBody(
  url: string,
  total: number,
  options: { method?: string; headers?: Record<string, string>; declareLength?: boolean; stallAfter?: number; ignoreAnswer?: boolean } = {},
): Promise<StreamedResult> {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(64 * 1024, "a");
    let sent = 0;
    let answer: { status: number; body: string; headers: http.IncomingHttpHeaders } | null = null;
    let settled = false;
    const headers: Record<string, string> = { "Content-Type": "application/json", ...options.headers };
    if (options.declareLength) headers["Content-Length"] = String(total);
    const req = http.request(url, { method: options.method ?? "POST", headers, agent: false });
    let failure = "";
    const finish = (closedEarly: boolean) => {
      if (settled) return;
      if (answer === null) {
        settled = true;
        reject(new Error(`no answer after ${sent} bytes${failure}`));
        return;
      }
      settled = true;
      resolve({ ...answer, sent, closedEarly });
    };
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      const current = { status: res.statusCode ?? 0, body: "", headers: res.headers };
      answer = current;
      res.on("data", (data: Buffer) => {
        chunks.push(data);
        current.body = Buffer.concat(chunks).toString("utf8");
      });
      // The answer is in; the connection's end (or reset) follows.
      res.on("end", () => setTimeout(() => finish(sent < total), 1000));
    });
    req.on("error", (error) => {
      failure = `: ${error.message}`;
      // The answer may still be on its way when the client sees its write fail.
      setTimeout(() => finish(true), 500);
    });
    req.on("close", () => setTimeout(() => finish(sent < total), 50));
    const pump = () => {
      while (sent < total && sent < (options.stallAfter ?? Infinity) && (answer === null || options.ignoreAnswer === true) && !req.destroyed) {
        const piece = total - sent >= chunk.length ? chunk : chunk.subarray(0, total - sent);
        sent += piece.length;
        if (!req.write(piece)) {
          req.once("drain", pump);
          return;
        }
      }
      if (sent >= total) req.end();
      // Stalled: the rest of the body never comes; the server must answer without it.
    };
    pump();
  });
}

/** The resident memory of a process in bytes (VmRSS of /proc/<pid>/status). */
export function residentBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

/** Runs `work` while sampling a process's resident memory every 10 ms; returns the peak growth over the start. */
export async function peakGrowthDuring<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; growth: number }> {
  const start = residentBytes(pid);
  let peak = start;
  const timer = setInterval(() => (peak = Math.max(peak, residentBytes(pid))), 10);
  try {
    const result = await work();
    peak = Math.max(peak, residentBytes(pid));
    return { result, growth: peak - start };
  } finally {
    clearInterval(timer);
  }
}

/** The `error.code` of a JSON error body (throws when the body is not one: HTML pages must fail the test). */
export function errorCode(response: { body: string; headers: http.IncomingHttpHeaders }): string {
  expect(response.headers["content-type"]).toContain("application/json");
  const parsed: unknown = JSON.parse(response.body);
  if (typeof parsed !== "object" || parsed === null || !("error" in parsed)) throw new Error(`not an error body: ${response.body.slice(0, 200)}`);
  const error: unknown = parsed.error;
  if (typeof error !== "object" || error === null || !("code" in error) || typeof error.code !== "string") throw new Error(`no error code: ${response.body.slice(0, 200)}`);
  return error.code;
}
