import { spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import next from "next";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { copyMonaco } = require("../../scripts/copy-monaco.cjs") as { copyMonaco: () => unknown };
import { decideAccess, decideLogin, isLoopbackHost, LOGIN_PATH, MAX_LOGIN_BODY_BYTES, tokenCookie, type RequestHeaders } from "./access";
import { setAppDir } from "./api/templates";
import { setServices } from "./global-services";
import type { Services } from "./services";

/** Where the Next app (app/, components/) lives: the Sluice package itself, whatever the project folder is. */
export const APP_DIR = path.resolve(__dirname, "..", "..");

export interface ServerOptions {
  host: string;
  port: number;
  dev: boolean;
  token?: string;
  services: Services;
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves the editor and API: a Node HTTP server in front of Next, which checks the access token when bound
 * beyond loopback, and exposes the engine's services to route handlers.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  if (!isLoopbackHost(options.host) && !options.token) {
    throw new Error(
      `refusing to listen on ${options.host} without a token: block code runs with this server's rights. Set SLUICE_TOKEN, or bind 127.0.0.1`,
    );
  }
  copyMonaco();
  if (!options.dev) ensureProductionBuild();
  setServices(options.services);
  setAppDir(APP_DIR);
  const app = next({ dev: options.dev, dir: APP_DIR, hostname: options.host, port: options.port });
  await app.prepare();
  const handle = app.getRequestHandler();
  const token = options.token;

  const server = http.createServer((req, res) => {
    const pathname = pathOf(req.url);
    if (pathname === null) {
      res.writeHead(400, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ error: { code: "bad_request", message: "the request target is not a valid URL path" } }));
      return;
    }
    if (pathname === LOGIN_PATH && (req.method === "POST" || !token)) {
      // Without a token there is nothing to log in to; with one, the form posts here (never to Next).
      if (!token) return redirect(res, 303, "/");
      return void login(req, res, token);
    }
    // API triggers authenticate with their own per-trigger token (checked by the route), not the server's.
    const isApiTrigger = req.method === "POST" && /^\/api\/triggers\/[^/]+\/runs\/?(\?|$)/.test(req.url ?? "");
    if (token && !isApiTrigger && !isAuthorized(req, res, token)) return;
    handle(req, res).catch((error: unknown) => {
      res.statusCode = 500;
      res.end(JSON.stringify({ error: { code: "internal", message: error instanceof Error ? error.message : String(error) } }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  const shownHost = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    url: `http://${shownHost}:${port}`,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await app.close();
      setServices(undefined);
    },
  };
}

/** The path of a request target, or null when it does not parse (an absolute-form URL with a bad host). */
function pathOf(target: string | undefined): string | null {
  try {
    return new URL(target ?? "/", "http://localhost").pathname;
  } catch {
    return null;
  }
}

function headersOf(req: http.IncomingMessage): RequestHeaders {
  const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);
  return { authorization: req.headers.authorization, cookie: req.headers.cookie, accept: req.headers.accept, "x-forwarded-proto": first(req.headers["x-forwarded-proto"]) };
}

function redirect(res: http.ServerResponse, status: 302 | 303, location: string, cookie?: string): void {
  res.writeHead(status, { Location: location, "Cache-Control": "no-store", ...(cookie ? { "Set-Cookie": cookie } : {}) });
  res.end();
}

/**
 * Token check (access.ts decides): the token as a bearer header or the login cookie passes; `?token=` once
 * sets the cookie, so a browser can log in with a link; a page without a token goes to the login form;
 * anything else gets a 401 JSON error. The token itself is never logged or echoed.
 */
function isAuthorized(req: http.IncomingMessage, res: http.ServerResponse, token: string): boolean {
  const headers = headersOf(req);
  const decision = decideAccess({ method: req.method ?? "GET", url: req.url ?? "/", headers }, token);
  switch (decision.action) {
    case "pass":
      return true;
    case "set_cookie":
      redirect(res, 302, decision.location, tokenCookie(token, headers));
      return false;
    case "redirect":
      redirect(res, 302, decision.location);
      return false;
    case "unauthorized":
      res.writeHead(401, { "Content-Type": "application/json", "WWW-Authenticate": "Bearer" });
      res.end(JSON.stringify({ error: { code: "unauthorized", message: "this server requires a token: Authorization: Bearer <token>, or log in at /login" } }));
      return false;
  }
}

/** A failed login answers this much later, so guessing tokens over HTTP stays slow. */
const FAILED_LOGIN_DELAY_MS = 400;

/** POST /login (the login form): the cookie and a redirect to `next`, or back to the form with the error. */
async function login(req: http.IncomingMessage, res: http.ServerResponse, token: string): Promise<void> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      size += buffer.length;
      if (size > MAX_LOGIN_BODY_BYTES) {
        res.writeHead(413, { "Content-Type": "application/json", Connection: "close" });
        res.end(JSON.stringify({ error: { code: "body_too_large", message: `a login form is at most ${MAX_LOGIN_BODY_BYTES} bytes` } }));
        return;
      }
      chunks.push(buffer);
    }
  } catch {
    res.destroy();
    return;
  }
  const outcome = decideLogin(Buffer.concat(chunks).toString("utf8"), token);
  if (!outcome.ok) {
    await new Promise((resolve) => setTimeout(resolve, FAILED_LOGIN_DELAY_MS));
    return redirect(res, 303, outcome.location);
  }
  redirect(res, 303, outcome.location, tokenCookie(token, headersOf(req)));
}

/** `next start` needs a build; make one when there is none or the app's sources are newer. */
function ensureProductionBuild(): void {
  const buildId = path.join(APP_DIR, ".next", "BUILD_ID");
  const isFresh = () => {
    const builtAt = fs.existsSync(buildId) ? fs.statSync(buildId).mtimeMs : 0;
    return builtAt > 0 && newestSourceMtime(["app", "components", "lib", "next.config.ts", "package.json"]) <= builtAt;
  };
  if (isFresh()) return;
  // Two servers starting at once (parallel test files) must not build into the same .next together.
  const lock = path.join(APP_DIR, ".next-build.lock");
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`another next build holds ${lock}; remove it if no build is running`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
    }
  }
  try {
    if (isFresh()) return;
    process.stdout.write("building the editor (next build)…\n");
    const result = spawnSync(process.execPath, [require.resolve("next/dist/bin/next"), "build"], { cwd: APP_DIR, stdio: "inherit" });
    if (result.status !== 0) throw new Error("next build failed");
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

function newestSourceMtime(entries: string[]): number {
  let newest = 0;
  const visit = (target: string) => {
    if (!fs.existsSync(target)) return;
    const stat = fs.statSync(target);
    newest = Math.max(newest, stat.mtimeMs);
    if (stat.isDirectory()) for (const child of fs.readdirSync(target)) visit(path.join(target, child));
  };
  for (const entry of entries) visit(path.join(APP_DIR, entry));
  return newest;
}
