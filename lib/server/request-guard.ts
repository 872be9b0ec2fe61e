/**
 * Pure decisions of the HTTP perimeter (the HTTP server carries them out): which `Host` names the server
 * answers to, whether a state-changing request comes from the server's own origin, which content types the
 * API accepts, and how large a body each route may send.
 *
 * Why: block code is code execution, and every web page open in the user's browser can send requests to
 * this server. A page on another origin (another site, another port of the same host, or a DNS-rebound name
 * pointing at 127.0.0.1) must not be able to change anything: the `Host` check stops rebinding, the
 * `Origin`/`Referer` check stops cross-origin writes, and JSON-only bodies keep cross-site "simple" requests
 * (forms, `text/plain` fetches, which skip the CORS preflight) from reaching the API at all.
 */

/** A name the server answers to; `port` undefined means any port (a name configured behind a proxy). */
export interface HostRule {
  name: string;
  port?: number;
}

/** The `Host` names accepted: a list, or any (bound to every interface with no names configured). */
export type AllowedHosts = { any: true } | { any: false; rules: HostRule[] };

const LOOPBACK_NAMES = ["127.0.0.1", "localhost", "[::1]"];

export function isWildcardHost(host: string): boolean {
  return host === "0.0.0.0" || host === "::" || host === "[::]" || host === "";
}

/** `::1` → `[::1]`: host names as they appear in a `Host` header. */
function bracketed(name: string): string {
  return name.includes(":") && !name.startsWith("[") ? `[${name}]` : name;
}

/**
 * The names the server answers to: the loopback names on the bound port (when bound to loopback or to
 * every interface), the bound name itself, and `configured` (`SLUICE_ALLOWED_HOSTS`: `name` or `name:port`).
 * Bound to every interface with nothing configured, any name is accepted: a token is required there
 * anyway, and nothing tells which names reach the machine.
 */
export function allowedHosts(bindHost: string, port: number, configured: string[], loopback: boolean): AllowedHosts {
  const rules: HostRule[] = configured.map(parseHostRule);
  if (isWildcardHost(bindHost)) {
    if (rules.length === 0) return { any: true };
    rules.push(...LOOPBACK_NAMES.map((name) => ({ name, port })));
    return { any: false, rules };
  }
  if (loopback) rules.push(...LOOPBACK_NAMES.map((name) => ({ name, port })));
  rules.push({ name: bracketed(bindHost.toLowerCase()), port });
  return { any: false, rules };
}

/** `example.com`, `example.com:8443`, `[::1]:3000` → a rule. @throws Error naming the entry when it is not one. */
export function parseHostRule(entry: string): HostRule {
  const parsed = parseHost(entry.trim());
  if (parsed === null) throw new Error(`"${entry}" is not a host name or host:port`);
  return parsed;
}

/** A `Host` header split into its lower-case name and port (undefined when absent); null when malformed. */
export function parseHost(value: string): HostRule | null {
  const match = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/i.exec(value);
  if (!match) return null;
  const port = match[2] === undefined ? undefined : Number(match[2]);
  if (port !== undefined && port > 65535) return null;
  return { name: match[1].toLowerCase(), port };
}

/** Whether the request's `Host` header names this server. */
export function isAllowedHost(header: string | undefined, allowed: AllowedHosts): boolean {
  if (header === undefined) return false;
  if (allowed.any) return true;
  const host = parseHost(header);
  if (host === null) return false;
  // A browser leaves the default port out of `Host`.
  const port = host.port ?? 80;
  return allowed.rules.some((rule) => rule.name === host.name && (rule.port === undefined || rule.port === port));
}

/** GET, HEAD and OPTIONS change nothing; everything else must come from the server's own origin. */
export function isStateChanging(method: string): boolean {
  return method !== "GET" && method !== "HEAD" && method !== "OPTIONS";
}

export type OriginVerdict = "same" | "cross" | "absent";

/**
 * Where a request comes from, by `Origin`, or by `Referer` when there is no `Origin`: "same" when its
 * host:port is the request's `Host` (checked against the allowed names first) over http or https, "cross"
 * for anything else (including `Origin: null`), "absent" when neither header is there.
 */
export function originOf(headers: { origin?: string; referer?: string; host?: string }): OriginVerdict {
  const source = headers.origin ?? headers.referer;
  if (source === undefined) return "absent";
  if (headers.host === undefined) return "cross";
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    return "cross";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return "cross";
  return url.host === normalisedHost(headers.host) ? "same" : "cross";
}

/** A `Host` header as `URL.host` writes it (lower case, no default port), so the two compare as strings. */
function normalisedHost(host: string): string | null {
  try {
    return new URL(`http://${host}`).host;
  } catch {
    return null;
  }
}

/** Whether a content type is JSON (`application/json`, any parameters). */
export function isJsonContentType(value: string | undefined): boolean {
  return value !== undefined && value.split(";")[0].trim().toLowerCase() === "application/json";
}

export function isApiPath(pathname: string): boolean {
  return pathname === "/api" || pathname.startsWith("/api/");
}

/** `POST /api/triggers/:id/runs`: callers authenticate with the trigger's own token, not the server's. */
export function apiTriggerId(method: string, pathname: string): string | null {
  if (method !== "POST") return null;
  const match = /^\/api\/triggers\/([^/]+)\/runs\/?$/.exec(pathname);
  if (!match) return null;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return match[1];
  }
}

export const DEFAULT_BODY_LIMIT = 1024 * 1024;
/** Block code is the one large thing the editor sends. */
export const BLOCK_CODE_BODY_LIMIT = 5 * 1024 * 1024;

/** The largest body a route accepts: block code saves (`PUT …/blocks/:b`, `POST …/blocks`) 5 MB, anything else 1 MB. */
export function bodyLimitFor(method: string, pathname: string): number {
  if (method === "PUT" && /^\/api\/pipelines\/[^/]+\/blocks\/[^/]+\/?$/.test(pathname)) return BLOCK_CODE_BODY_LIMIT;
  if (method === "POST" && /^\/api\/pipelines\/[^/]+\/blocks\/?$/.test(pathname)) return BLOCK_CODE_BODY_LIMIT;
  return DEFAULT_BODY_LIMIT;
}
