/**
 * Secrets never reach logs, errors, the metadata database, events or API answers. One `Redactor` per
 * process holds every secret value it has learnt — profile secret fields, values that `{{ env_var() }}`
 * put into `sluice.yaml`, every `.env` value, environment variables whose names say they are secrets,
 * pipeline variables declared secret — and every sink passes its text through it. Besides registered
 * values it hides anything that looks like a credential even if nobody registered it: `user:password@` in
 * URLs, `password=…` in connection strings, bearer tokens.
 *
 * A value registered with a name shows as `[secret:NAME]` (so a reader knows which secret was there);
 * anything else as `***`. Values shorter than `MIN_SECRET_LENGTH` are not registered: hiding every "pg" or
 * "1234" would mangle unrelated text, so such values are not protected.
 *
 * The process-wide instance (`secretRedactor`, behind `registerSecret`/`redact`) is what connectors use;
 * block code runs in other threads or processes with their own instance, which is why the main process
 * redacts again whatever comes back from a block (see lib/server/redacting-sinks.ts).
 */
import { messageOf } from "../core/errors";

/** What replaces a secret that was registered without a name, and a credential found by its shape. */
export const SECRET_MASK = "***";
/** Shorter values are too likely to occur by chance in unrelated text ("postgres" is 8: names are not secrets). */
export const MIN_SECRET_LENGTH = 6;
/** Lines of a multi-line secret (a PEM private key) this long are hidden on their own too: a block may print one line. */
const MIN_SECRET_LINE_LENGTH = 16;

const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)([^/\s:@]*):([^/\s@]*)@/gi;
const KEY_VALUE = /\b(password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|secret[_-]?access[_-]?key|private[_-]?key)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&;,]+)/gi;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g;
/** Private-use characters: they do not occur in log text, and none of the shape rules above matches them. */
const PLACEHOLDER_START = "\u{F0000}";
const PLACEHOLDER_END = "\u{F0001}";
const PLACEHOLDER = /\u{F0000}(\d+)\u{F0001}/gu;

/** The forms a value takes when it is embedded in other text: JSON strings, URLs, query strings. */
function encodedForms(value: string): string[] {
  const forms = new Set<string>([value]);
  const json = JSON.stringify(value).slice(1, -1);
  forms.add(json);
  // A JSON document inside a JSON string (a log line that prints JSON.stringify of an object holding it).
  forms.add(JSON.stringify(json).slice(1, -1));
  forms.add(encodeURIComponent(value));
  forms.add(new URLSearchParams({ v: value }).toString().slice(2));
  return [...forms];
}

/** Holds secret values and hides them in text. */
export class Redactor {
  /** Each hidden form → what shows instead. */
  private readonly masks = new Map<string, string>();
  /** Forms longest first (a secret that contains another is hidden whole); rebuilt after a register. */
  private ordered: string[] | null = null;

  /**
   * Adds a value that must never be shown. `name` (an environment variable, a connection field, a pipeline
   * variable) makes it show as `[secret:NAME]`; a later registration with a name wins over one without.
   * Values shorter than `MIN_SECRET_LENGTH` are ignored.
   */
  register(value: string | undefined | null, name?: string): void {
    if (typeof value !== "string" || value.length < MIN_SECRET_LENGTH) return;
    const mask = name === undefined || name === "" ? SECRET_MASK : `[secret:${name}]`;
    const values = [value];
    if (value.includes("\n")) {
      for (const line of value.split(/\r?\n/)) {
        const trimmed = line.trim();
        if (trimmed.length >= MIN_SECRET_LINE_LENGTH && !trimmed.startsWith("-----")) values.push(trimmed);
      }
    }
    for (const one of values) {
      for (const form of encodedForms(one)) {
        const current = this.masks.get(form);
        if (current === undefined || (current === SECRET_MASK && mask !== SECRET_MASK)) this.masks.set(form, mask);
      }
    }
    this.ordered = null;
  }

  /** How many hidden forms are known (a value counts once per encoding). */
  get size(): number {
    return this.masks.size;
  }

  /** `text` with every registered secret and every credential-shaped part replaced. Cheap enough for every log line. */
  redact(text: string): string {
    this.ordered ??= [...this.masks.keys()].sort((a, b) => b.length - a.length);
    // Registered secrets become placeholders first, so that the shape rules below neither cut a secret in
    // two (leaving half of it readable) nor take `[secret:NAME]` itself for a `secret: value` pair.
    const shown: string[] = [];
    let out = text;
    for (const secret of this.ordered) {
      if (!out.includes(secret)) continue;
      out = out.split(secret).join(`${PLACEHOLDER_START}${shown.length}${PLACEHOLDER_END}`);
      shown.push(this.masks.get(secret) ?? SECRET_MASK);
    }
    const keep = (value: string): boolean => value.includes(PLACEHOLDER_START);
    out = out.replace(URL_CREDENTIALS, (whole, scheme: string, user: string, password: string) => (keep(password) ? whole : `${scheme}${user}:${SECRET_MASK}@`));
    // `[secret:NAME]` from an earlier pass (sinks redact text that was redacted already) is not a `secret: value` pair.
    out = out.replace(KEY_VALUE, (whole, key: string, sep: string, value: string, offset: number, all: string) =>
      keep(value) || all[offset - 1] === "[" ? whole : `${key}${sep}${SECRET_MASK}`,
    );
    out = out.replace(BEARER, (whole, kind: string) => (keep(whole) ? whole : `${kind} ${SECRET_MASK}`));
    if (shown.length === 0) return out;
    return out.replace(PLACEHOLDER, (_, index: string) => shown[Number(index)] ?? SECRET_MASK);
  }

  /**
   * A JSON-like value with every string redacted, for structured sinks (run variables, stored errors).
   * A number or boolean whose text is a secret becomes the mask string. Other values are returned as is.
   */
  redactValue<T>(value: T): T | string {
    return this.redactUnknown(value, 0) as T | string;
  }

  private redactUnknown(value: unknown, depth: number): unknown {
    if (typeof value === "string") return this.redact(value);
    if (typeof value === "number" || typeof value === "boolean") {
      const text = String(value);
      const shown = this.redact(text);
      return shown === text ? value : shown;
    }
    if (depth > 20 || value === null || typeof value !== "object") return value;
    if (Array.isArray(value)) return value.map((item) => this.redactUnknown(item, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = this.redactUnknown(item, depth + 1);
    return out;
  }

  /**
   * Hides secrets in a thrown value's message and stack, in place, so that its class (and with it the
   * retry decision made from it) is kept. Causes are redacted too. Returns the same value.
   */
  redactError<E>(error: E): E {
    this.redactErrorAt(error, 0);
    return error;
  }

  private redactErrorAt(error: unknown, depth: number): void {
    if (depth > 5 || typeof error !== "object" || error === null) return;
    for (const key of ["message", "stack"] as const) {
      const text: unknown = Reflect.get(error, key);
      if (typeof text !== "string") continue;
      const shown = this.redact(text);
      if (shown === text) continue;
      // A frozen or accessor-only error cannot be rewritten; defineProperty reaches own read-only fields.
      try {
        Object.defineProperty(error, key, { value: shown, writable: true, configurable: true, enumerable: false });
      } catch {
        // Not configurable: nothing safer to do here; the sinks redact the text they are given again.
      }
    }
    this.redactErrorAt(Reflect.get(error, "cause"), depth + 1);
  }

  /** Forgets every secret (tests). */
  clear(): void {
    this.masks.clear();
    this.ordered = null;
  }
}

/** The process's redactor: connectors, the profile loader and the composition root share it. */
export const secretRedactor = new Redactor();

/** Adds a value that must never be printed, to the process's redactor (see `Redactor.register`). */
export function registerSecret(value: string | undefined, name?: string): void {
  secretRedactor.register(value, name);
}

/** Forgets every registered secret (tests). */
export function clearSecrets(): void {
  secretRedactor.clear();
}

/** `text` with every secret of the process's redactor hidden. */
export function redact(text: string): string {
  return secretRedactor.redact(text);
}

/** A URL for messages: credentials and query-string secrets hidden. Not a URL → `redact(text)`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = SECRET_MASK;
    for (const key of [...parsed.searchParams.keys()]) {
      if (/sig|token|key|secret|password|credential/i.test(key)) parsed.searchParams.set(key, SECRET_MASK);
    }
    return redact(parsed.toString().replace(/%2A%2A%2A/g, SECRET_MASK));
  } catch {
    return redact(url);
  }
}

/** The message of any thrown value, redacted. */
export function errorMessage(error: unknown): string {
  return redact(messageOf(error));
}
