import { timingSafeEqual } from "node:crypto";

/** Loopback hosts need no token: block code is code execution, so anything wider must authenticate. */
export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export const TOKEN_COOKIE = "sluice_token";

/** Whether a request carries the server's token, as `Authorization: Bearer` or the login cookie. */
export function requestHasToken(headers: { authorization?: string; cookie?: string }, token: string): boolean {
  const bearer = headers.authorization?.match(/^Bearer\s+(.+)$/i)?.[1];
  if (bearer && safeEqual(bearer, token)) return true;
  const cookie = (headers.cookie ?? "")
    .split(";")
    .map((part) => part.trim().split("="))
    .find(([name]) => name === TOKEN_COOKIE)?.[1];
  return cookie !== undefined && safeEqual(decodeURIComponent(cookie), token);
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
