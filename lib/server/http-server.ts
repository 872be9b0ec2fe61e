import { spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import next from "next";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { copyMonaco } = require("../../scripts/copy-monaco.cjs") as { copyMonaco: () => unknown };
import { isLoopbackHost, requestHasToken, TOKEN_COOKIE } from "./access";
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
  const app = next({ dev: options.dev, dir: APP_DIR, hostname: options.host, port: options.port });
  await app.prepare();
  const handle = app.getRequestHandler();
  const token = options.token;

  const server = http.createServer((req, res) => {
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

/** Token check; `?token=` once sets the HttpOnly cookie so a browser can log in with a link. */
function isAuthorized(req: http.IncomingMessage, res: http.ServerResponse, token: string): boolean {
  const url = new URL(req.url ?? "/", "http://localhost");
  const queryToken = url.searchParams.get("token");
  if (queryToken && requestHasToken({ authorization: `Bearer ${queryToken}` }, token)) {
    url.searchParams.delete("token");
    res.writeHead(302, {
      "Set-Cookie": `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
      Location: url.pathname + url.search,
    });
    res.end();
    return false;
  }
  if (requestHasToken({ authorization: req.headers.authorization, cookie: req.headers.cookie }, token)) return true;
  res.writeHead(401, { "Content-Type": "application/json", "WWW-Authenticate": "Bearer" });
  res.end(JSON.stringify({ error: { code: "unauthorized", message: "this server requires a token: Authorization: Bearer <token>, or open /?token=<token>" } }));
  return false;
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
