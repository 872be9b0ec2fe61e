import { spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import next from "next";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { copyMonaco } = require("../../scripts/copy-monaco.cjs") as { copyMonaco: () => unknown };
import { ApiTriggers, bearerToken, parsePublicTriggerId } from "../scheduler/api-triggers";
import {
  authenticatedBy,
  clearedTokenCookie,
  CSRF_HEADER,
  csrfTokenFor,
  decideAccess,
  decideLogin,
  hasCsrfToken,
  isLoopbackHost,
  LOGIN_PATH,
  LOGOUT_PATH,
  MAX_LOGIN_BODY_BYTES,
  presentsCredential,
  tokenCookie,
  type RequestHeaders,
} from "./access";
import { setAppDir } from "./api/templates";
import { closeAfterAnswer, countBody, declaredLength, hasBody, refuseTooLarge } from "./body-limit";
import { setServices } from "./global-services";
import { allowedHosts, apiTriggerId, bodyLimitFor, isAllowedHost, isApiPath, isJsonContentType, isStateChanging, originOf, type AllowedHosts } from "./request-guard";
import type { Services } from "./services";
import { FailureThrottle } from "./throttle";

/** Where the Next app (app/, components/) lives: the Sluice package itself, whatever the project folder is. */
export const APP_DIR = path.resolve(__dirname, "..", "..");

export interface ServerOptions {
  host: string;
  port: number;
  dev: boolean;
  token?: string;
  /** `Host` names to answer to besides the bound one (`SLUICE_ALLOWED_HOSTS`). */
  allowedHosts?: string[];
  services: Services;
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** The session endpoint the editor asks for its CSRF token (answered here, never by Next). */
export const SESSION_PATH = "/api/session";

/**
 * Serves the editor and API: a Node HTTP server in front of Next that guards the perimeter before Next sees a
 * request (docs/security.md): the `Host` name, the body size while it streams, the token (with failed
 * attempts throttled per client), the origin of state-changing requests, JSON-only API writes and the CSRF
 * token of cookie sessions. It also exposes the engine's services to route handlers.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const loopback = isLoopbackHost(options.host);
  if (!loopback && !options.token) {
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
  const throttle = new FailureThrottle();
  const triggers = new ApiTriggers({
    store: options.services.runs.triggers,
    // Only `verify` is used here: the route fires the trigger once the body is in.
    startRun: (request) => options.services.runner.start(request),
    findTrigger: () => Promise.resolve(null),
  });
  // Known once listening (port 0 picks one).
  let hosts: AllowedHosts = { any: false, rules: [] };
  const guard: Guard = { token: options.token, throttle, triggers, hosts: () => hosts, handle };

  const server = http.createServer((req, res) => {
    serve(req, res, guard).catch((error: unknown) => {
      console.error("sluice server: unexpected error", error);
      if (!res.headersSent) sendError(res, 500, "internal", "the server failed to answer this request; the error is in the server's log");
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  hosts = allowedHosts(options.host, port, options.allowedHosts ?? [], loopback);
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

interface Guard {
  token: string | undefined;
  throttle: FailureThrottle;
  triggers: ApiTriggers;
  hosts: () => AllowedHosts;
  handle: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;
}

/** One request through the perimeter, in the order that lets the cheapest check refuse first. */
async function serve(req: http.IncomingMessage, res: http.ServerResponse, guard: Guard): Promise<void> {
  const method = req.method ?? "GET";
  const pathname = pathOf(req.url);
  if (pathname === null) return sendError(res, 400, "bad_request", "the request target is not a valid URL path");
  if (!isAllowedHost(req.headers.host, guard.hosts())) {
    // A DNS-rebound name (or a typo) reaching this server: nothing here is for it.
    return sendError(res, 421, "unknown_host", "this server does not answer to that Host name; add it to SLUICE_ALLOWED_HOSTS if it is yours");
  }

  const limit = pathname === LOGIN_PATH ? MAX_LOGIN_BODY_BYTES : bodyLimitFor(method, pathname);
  const what = `${method} ${pathname === LOGIN_PATH ? LOGIN_PATH : routeClass(pathname)}`;
  const declared = declaredLength(req);
  if (declared === "invalid") return sendError(res, 400, "bad_request", "the Content-Length header is not a number", true, req);
  if (declared !== null && declared > limit) return refuseTooLarge(req, res, limit, what);
  countBody(req, limit, () => refuseTooLarge(req, res, limit, what));

  const client = req.socket.remoteAddress ?? "unknown";
  const state = isStateChanging(method);
  const origin = originOf({ origin: req.headers.origin, referer: req.headers.referer, host: req.headers.host });
  if (state && origin === "cross") return refuseCrossOrigin(req, res);

  if (pathname === LOGOUT_PATH && method === "POST") {
    if (origin !== "same") return refuseCrossOrigin(req, res);
    return redirect(res, 303, guard.token ? LOGIN_PATH : "/", clearedTokenCookie(headersOf(req)), req);
  }
  if (pathname === LOGIN_PATH && (method === "POST" || !guard.token)) {
    // Without a token there is nothing to log in to; with one, the form posts here (never to Next).
    if (!guard.token) return redirect(res, 303, "/", undefined, req);
    if (origin !== "same") return refuseCrossOrigin(req, res);
    if (refuseIfThrottled(req, res, guard.throttle, client)) return;
    return login(req, res, guard.token, () => guard.throttle.fail(client));
  }

  // API triggers authenticate with their own per-trigger token, checked here before a byte of the body is read.
  const triggerId = apiTriggerId(method, pathname);
  let bearerVerified = false;
  if (triggerId !== null) {
    if (refuseIfThrottled(req, res, guard.throttle, client)) return;
    if (!(await triggerTokenIsValid(guard.triggers, triggerId, req.headers.authorization))) {
      if (req.headers.authorization !== undefined) guard.throttle.fail(client);
      closeAfterAnswer(req, res);
      res.writeHead(401, { "Content-Type": "application/json", "WWW-Authenticate": "Bearer" });
      res.end(JSON.stringify({ error: { code: "unauthorized", message: "missing or invalid trigger token: send Authorization: Bearer <token>" } }));
      return;
    }
    bearerVerified = true;
  }

  let session: "bearer" | "cookie" | null = null;
  if (guard.token && triggerId === null) {
    const headers = headersOf(req);
    if (presentsCredential(headers, req.url ?? "/") && refuseIfThrottled(req, res, guard.throttle, client)) return;
    session = authenticatedBy(headers, guard.token);
    if (!isAuthorized(req, res, guard.token, () => guard.throttle.fail(client))) return;
    bearerVerified ||= session === "bearer";
  }

  if (state) {
    // Browsers send Origin with every state-changing request; only a script (curl) leaves both headers out,
    // and a script must then prove itself with a bearer token.
    if (origin === "absent" && !bearerVerified) return refuseCrossOrigin(req, res);
    if (isApiPath(pathname) && (req.headers["content-type"] !== undefined || hasBody(req)) && !isJsonContentType(req.headers["content-type"])) {
      return sendError(res, 415, "unsupported_media_type", `${method} ${routeClass(pathname)} accepts application/json bodies only`, true, req);
    }
    if (session === "cookie" && guard.token && !hasCsrfToken(firstHeader(req.headers[CSRF_HEADER]), guard.token)) {
      return sendError(res, 403, "csrf_token_invalid", `a request authenticated by the login cookie needs the X-CSRF-Token header (GET ${SESSION_PATH} gives it); reload the page`, true, req);
    }
  }

  if (pathname === SESSION_PATH && method === "GET") {
    res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-store" });
    res.end(JSON.stringify({ authenticated_by: session, csrf_token: session === "cookie" && guard.token ? csrfTokenFor(guard.token) : null }));
    return;
  }
  // `/api` itself has no route; the catch-all route under app/api needs a segment, so answer it here.
  if (pathname === "/api" || pathname === "/api/") return sendError(res, 404, "not_found", `no API route ${method} /api`);
  await guard.handle(req, res);
}

/** The path as messages show it: cut at 120 characters, so an error never echoes a huge request target. */
function routeClass(pathname: string): string {
  return pathname.length > 120 ? `${pathname.slice(0, 120)}…` : pathname;
}

async function triggerTokenIsValid(triggers: ApiTriggers, publicId: string, authorization: string | undefined): Promise<boolean> {
  const token = bearerToken(authorization);
  if (token === null) return false;
  let target: { pipeline: string; triggerId: string };
  try {
    target = parsePublicTriggerId(publicId);
  } catch {
    return false;
  }
  return triggers.verify(target.pipeline, target.triggerId, token);
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** A JSON error; `close` also ends the connection (when the body was not read, it must not be left in the stream). */
function sendError(res: http.ServerResponse, status: number, code: string, message: string, close = false, req?: http.IncomingMessage): void {
  if (close && req) closeAfterAnswer(req, res);
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify({ error: { code, message } }));
}

function refuseCrossOrigin(req: http.IncomingMessage, res: http.ServerResponse): void {
  sendError(
    res,
    403,
    "cross_origin",
    "state-changing requests must come from this server's own pages (Origin or Referer of this host and port); scripts send Authorization: Bearer <token>, or Origin with this server's address",
    true,
    req,
  );
}

function refuseIfThrottled(req: http.IncomingMessage, res: http.ServerResponse, throttle: FailureThrottle, client: string): boolean {
  const wait = throttle.retryAfterSeconds(client);
  if (wait === 0) return false;
  closeAfterAnswer(req, res);
  res.writeHead(429, { "Content-Type": "application/json", "Retry-After": String(wait) });
  res.end(JSON.stringify({ error: { code: "too_many_attempts", message: `too many failed token checks from this address; try again in ${wait} s` } }));
  return true;
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

/** A redirect; with `req`, a request whose body was not read, so its connection is closed too. */
function redirect(res: http.ServerResponse, status: 302 | 303, location: string, cookie?: string, req?: http.IncomingMessage): void {
  const close = req !== undefined && hasBody(req);
  if (close && req) closeAfterAnswer(req, res);
  res.writeHead(status, { Location: location, "Cache-Control": "no-store", ...(cookie ? { "Set-Cookie": cookie } : {}) });
  res.end();
}

/**
 * Token check (access.ts decides): the token as a bearer header or the login cookie passes; `?token=` once
 * sets the cookie, so a browser can log in with a link; a page without a token goes to the login form;
 * anything else gets a 401 JSON error. A wrong credential calls `onFailure` (the throttle counts it). The
 * token itself is never logged or echoed.
 */
function isAuthorized(req: http.IncomingMessage, res: http.ServerResponse, token: string, onFailure: () => void): boolean {
  const headers = headersOf(req);
  const decision = decideAccess({ method: req.method ?? "GET", url: req.url ?? "/", headers }, token);
  if ((decision.action === "redirect" || decision.action === "unauthorized") && presentsCredential(headers, req.url ?? "/") && authenticatedBy(headers, token) === null) onFailure();
  switch (decision.action) {
    case "pass":
      return true;
    case "set_cookie":
      redirect(res, 302, decision.location, tokenCookie(token, headers), req);
      return false;
    case "redirect":
      redirect(res, 302, decision.location, undefined, req);
      return false;
    case "unauthorized":
      if (hasBody(req)) closeAfterAnswer(req, res);
      res.writeHead(401, { "Content-Type": "application/json", "WWW-Authenticate": "Bearer" });
      res.end(JSON.stringify({ error: { code: "unauthorized", message: "this server requires a token: Authorization: Bearer <token>, or log in at /login" } }));
      return false;
  }
}

/** A failed login answers this much later, so guessing tokens over HTTP stays slow. */
const FAILED_LOGIN_DELAY_MS = 400;

/** POST /login (the login form): the cookie and a redirect to `next`, or back to the form with the error. */
async function login(req: http.IncomingMessage, res: http.ServerResponse, token: string, onFailure: () => void): Promise<void> {
  const chunks: Buffer[] = [];
  try {
    // The body limit (countBody) already stops a form beyond MAX_LOGIN_BODY_BYTES.
    for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  } catch {
    res.destroy();
    return;
  }
  if (res.headersSent) return;
  const outcome = decideLogin(Buffer.concat(chunks).toString("utf8"), token);
  if (!outcome.ok) {
    onFailure();
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
