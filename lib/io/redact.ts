/**
 * Secrets never reach logs, errors or previews (issue "Connectors"). Every connector passes its messages
 * through `redact()`, which hides (1) every secret registered by the profile loader — passwords, keys,
 * tokens, the credential part of URLs — and (2) anything that looks like a credential even if nobody
 * registered it: `user:password@` in URLs, `password=…` in connection strings, bearer tokens.
 *
 * The registry is per thread on purpose: a worker thread that loads profiles registers its own secrets.
 */

const MASK = "***";
/** Shorter values are too likely to occur by chance in unrelated text ("1", "pg"). */
const MIN_SECRET_LENGTH = 4;

const secrets = new Set<string>();

/** Adds a value that must never be printed. Short values are ignored (see MIN_SECRET_LENGTH). */
export function registerSecret(value: string | undefined): void {
  if (value === undefined || value.length < MIN_SECRET_LENGTH) return;
  secrets.add(value);
  const encoded = encodeURIComponent(value);
  if (encoded !== value) secrets.add(encoded);
}

/** Forgets every registered secret (tests). */
export function clearSecrets(): void {
  secrets.clear();
}

const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)([^/\s:@]*):([^/\s@]*)@/gi;
const KEY_VALUE = /\b(password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|secret[_-]?access[_-]?key|private[_-]?key)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&;,]+)/gi;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g;

/** `text` with every secret replaced by `***`. Cheap enough to call on every log line. */
export function redact(text: string): string {
  let out = text;
  // Longest first, so a secret that contains another is hidden whole.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(secret).join(MASK);
  out = out.replace(URL_CREDENTIALS, (_, scheme: string, user: string) => `${scheme}${user}:${MASK}@`);
  out = out.replace(KEY_VALUE, (_, key: string, sep: string) => `${key}${sep}${MASK}`);
  out = out.replace(BEARER, (_, kind: string) => `${kind} ${MASK}`);
  return out;
}

/** A URL for messages: credentials and query-string secrets hidden. Not a URL → `redact(text)`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = MASK;
    for (const key of [...parsed.searchParams.keys()]) {
      if (/sig|token|key|secret|password|credential/i.test(key)) parsed.searchParams.set(key, MASK);
    }
    return redact(parsed.toString().replace(/%2A%2A%2A/g, MASK));
  } catch {
    return redact(url);
  }
}

/** The message of any thrown value, redacted. */
export function errorMessage(error: unknown): string {
  // Duck-typed: errors may come from another realm (Node's fetch, a VM context) and fail `instanceof Error`.
  const message = typeof error === "object" && error !== null && "message" in error && typeof error.message === "string" ? error.message : String(error);
  return redact(message);
}
