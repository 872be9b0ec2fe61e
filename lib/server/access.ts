import { createHmac, timingSafeEqual } from "node:crypto";

/** Loopback hosts need no token: block code is code execution, so anything wider must authenticate. */
export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export const TOKEN_COOKIE = "sluice_token";
export const LOGIN_PATH = "/login";
/** POST clears the login cookie. */
export const LOGOUT_PATH = "/logout";
/** The header a cookie-authenticated state-changing request carries its CSRF token in. */
export const CSRF_HEADER = "x-csrf-token";
/** Tokens shorter than this are refused at start: they could be guessed. */
export const MIN_TOKEN_LENGTH = 32;
/** The login cookie lasts 30 days; the token itself is what gets revoked (change SLUICE_TOKEN). */
const COOKIE_MAX_AGE_S = 30 * 24 * 60 * 60;

export interface RequestHeaders {
  authorization?: string;
  cookie?: string;
  accept?: string;
  "x-forwarded-proto"?: string;
}

/** Whether a request carries the server's token, as `Authorization: Bearer` or the login cookie. */
export function requestHasToken(headers: { authorization?: string; cookie?: string }, token: string): boolean {
  const bearer = headers.authorization?.match(/^Bearer\s+(.+)$/i)?.[1];
  if (bearer && safeEqual(bearer, token)) return true;
  const cookie = (headers.cookie ?? "")
    .split(";")
    .map((part) => part.trim().split("="))
    .find(([name]) => name === TOKEN_COOKIE)?.[1];
  return cookie !== undefined && safeEqual(safeDecode(cookie), token);
}

/** Which credential authenticated a request: the bearer header wins over the cookie; null for none. */
export function authenticatedBy(headers: { authorization?: string; cookie?: string }, token: string): "bearer" | "cookie" | null {
  const bearer = headers.authorization?.match(/^Bearer\s+(.+)$/i)?.[1];
  if (bearer && safeEqual(bearer, token)) return "bearer";
  return requestHasToken({ cookie: headers.cookie }, token) ? "cookie" : null;
}

/** Whether a request presents any credential (right or wrong): a bearer header, the login cookie or `?token=`. */
export function presentsCredential(headers: { authorization?: string; cookie?: string }, url: string): boolean {
  if (/^Bearer\s+\S/i.test(headers.authorization ?? "")) return true;
  if ((headers.cookie ?? "").split(";").some((part) => part.trim().startsWith(`${TOKEN_COOKIE}=`))) return true;
  return new URL(url, "http://sluice.invalid").searchParams.has("token");
}

/**
 * The CSRF token of a cookie session: derived from the server token, so it changes when the token does and
 * needs no storage. Only a page of this origin can read it (GET /api/session answers without CORS headers),
 * while the cookie itself is sent by the browser to this host from any page of the same site.
 */
export function csrfTokenFor(token: string): string {
  return createHmac("sha256", token).update("sluice csrf token").digest("base64url");
}

/** Whether a cookie-authenticated request carries the session's CSRF token. */
export function hasCsrfToken(header: string | undefined, token: string): boolean {
  return header !== undefined && safeEqual(header, csrfTokenFor(token));
}

/** The answer to an unusable `SLUICE_TOKEN` (null when it is long enough): how to make a good one. */
export function weakTokenMessage(token: string): string | null {
  if (token.length >= MIN_TOKEN_LENGTH) return null;
  return `SLUICE_TOKEN is ${token.length} characters; use at least ${MIN_TOKEN_LENGTH} random ones, e.g. node -e "console.log(require('crypto').randomBytes(32).toString('base64url'))"`;
}

export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** The HttpOnly, SameSite=Strict cookie that logs a browser in (Secure behind an HTTPS proxy). */
export function tokenCookie(token: string, headers: RequestHeaders = {}): string {
  const secure = headers["x-forwarded-proto"]?.split(",")[0]?.trim() === "https" ? "; Secure" : "";
  return `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${COOKIE_MAX_AGE_S}${secure}`;
}

/** The same cookie, expired: what logging out sets. */
export function clearedTokenCookie(headers: RequestHeaders = {}): string {
  const secure = headers["x-forwarded-proto"]?.split(",")[0]?.trim() === "https" ? "; Secure" : "";
  return `${TOKEN_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0${secure}`;
}

/**
 * Where to go after logging in: a path of this server only. Anything else (`//evil.example`, `https://…`,
 * `/\evil`, the login page itself) becomes `/`, so the login form cannot be used as an open redirect.
 */
export function safeNextPath(raw: string | null | undefined): string {
  if (!raw || !raw.startsWith("/") || raw.startsWith("//") || raw.startsWith("/\\") || hasControlCharacter(raw)) return "/";
  const url = new URL(raw, "http://sluice.invalid");
  if (url.origin !== "http://sluice.invalid" || url.pathname === LOGIN_PATH) return "/";
  return url.pathname + url.search + url.hash;
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) < 0x20 || text.charCodeAt(i) === 0x7f) return true;
  return false;
}

/** `/login?next=…` (and `error=wrong_token` after a failed attempt). */
export function loginLocation(next: string, error?: "wrong_token"): string {
  const params = new URLSearchParams();
  const target = safeNextPath(next);
  if (target !== "/") params.set("next", target);
  if (error) params.set("error", error);
  const query = params.toString();
  return query ? `${LOGIN_PATH}?${query}` : LOGIN_PATH;
}

/** What the login page needs without a token: itself, Next's static build files and the icons (no data, no API). */
export function isPublicPath(pathname: string): boolean {
  return pathname === LOGIN_PATH || pathname.startsWith("/_next/static/") || pathname === "/favicon.ico" || pathname === "/icon.svg";
}

/** A browser navigating to a page (not the API, not a script's fetch): sent to the login page instead of a 401. */
export function isPageNavigation(method: string, pathname: string, headers: RequestHeaders): boolean {
  if (method !== "GET" && method !== "HEAD") return false;
  if (pathname === "/api" || pathname.startsWith("/api/") || pathname.startsWith("/_next/")) return false;
  return (headers.accept ?? "").includes("text/html");
}

export type AccessDecision =
  /** Let Next answer. */
  | { action: "pass" }
  /** A valid `?token=`: set the cookie and redirect to the same URL without it. */
  | { action: "set_cookie"; location: string }
  /** A redirect without a cookie: an anonymous page view to the login form, or a logged-in one away from it. */
  | { action: "redirect"; location: string }
  /** 401 with a JSON error body: the API and anything else that is not a page. */
  | { action: "unauthorized" };

export interface AccessRequest {
  method: string;
  /** The request target, `/path?query`. */
  url: string;
  headers: RequestHeaders;
}

/** How the server answers a request when it requires `token` (pure: the HTTP server carries it out). */
export function decideAccess(request: AccessRequest, token: string): AccessDecision {
  const url = new URL(request.url, "http://sluice.invalid");
  const queryToken = url.searchParams.get("token");
  if (queryToken !== null) {
    url.searchParams.delete("token");
    const rest = url.pathname + url.search;
    if (safeEqual(queryToken, token)) return { action: "set_cookie", location: url.pathname === LOGIN_PATH ? safeNextPath(url.searchParams.get("next")) : rest };
    if (isPageNavigation(request.method, url.pathname, request.headers)) return { action: "redirect", location: loginLocation(url.pathname === LOGIN_PATH ? (url.searchParams.get("next") ?? "/") : rest, "wrong_token") };
    return { action: "unauthorized" };
  }
  const authorized = requestHasToken(request.headers, token);
  if (url.pathname === LOGIN_PATH && authorized && request.method === "GET") return { action: "redirect", location: safeNextPath(url.searchParams.get("next")) };
  if (authorized || isPublicPath(url.pathname)) return { action: "pass" };
  if (isPageNavigation(request.method, url.pathname, request.headers)) return { action: "redirect", location: loginLocation(url.pathname + url.search) };
  return { action: "unauthorized" };
}

/** The most a login form body may hold: a token and a path, nowhere near this. */
export const MAX_LOGIN_BODY_BYTES = 16 * 1024;

/** The login form's fields (`application/x-www-form-urlencoded`: `token`, `next`). */
export function parseLoginForm(body: string): { token: string; next: string } {
  const form = new URLSearchParams(body);
  return { token: form.get("token") ?? "", next: safeNextPath(form.get("next")) };
}

/** The outcome of a login form post: the cookie and where to go, or back to the form with the error. */
export function decideLogin(body: string, token: string): { ok: true; location: string } | { ok: false; location: string } {
  const form = parseLoginForm(body);
  if (form.token.length > 0 && safeEqual(form.token, token)) return { ok: true, location: form.next };
  return { ok: false, location: loginLocation(form.next, "wrong_token") };
}
