/**
 * Sends one notice to one channel: a webhook's signed JSON, a Slack message, an email. `deliverWithRetries`
 * tries a few times with a growing wait, because a chat service or mail relay that hiccups should not cost
 * the on-call person the message; after the last attempt it reports and gives up (a run never fails for it).
 */
import { createHmac } from "node:crypto";
import { createTransport } from "nodemailer";
import { OperationalError, UserError, messageOf } from "../core/errors";
import { emailMessage, slackBody, webhookBody, type RunNotice } from "../core/notify";
import type { Channel, EmailChannel } from "../io/channels";

/** The header a signed webhook carries: `sha256=<hex HMAC-SHA256 of the raw body with the channel's secret>`. */
export const SIGNATURE_HEADER = "X-Sluice-Signature";

export interface DeliveryOptions {
  /** Attempts in all (default: the channel's `retries` + 1, else 4). */
  attempts?: number;
  /** The wait before the second attempt, doubled for each one after (default 1 s). */
  firstDelayMs?: number;
  /** The longest one attempt may take (default 10 s). */
  timeoutMs?: number;
}

/** The signature of a body, as the receiver recomputes it to check the sender knows the secret. */
export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

async function post(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<void> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body, signal: AbortSignal.timeout(timeoutMs) });
  const answer = await response.text().catch(() => "");
  if (response.ok) return;
  const detail = `HTTP ${response.status}${answer ? `: ${answer.slice(0, 200)}` : ""}`;
  // The receiver refused this request as such: sending it again cannot help (429 and 5xx can).
  if (response.status >= 400 && response.status < 500 && response.status !== 429 && response.status !== 408) throw new UserError("notify_refused", detail);
  throw new OperationalError("notify_unavailable", detail);
}

async function sendEmail(channel: EmailChannel, notice: RunNotice, timeoutMs: number): Promise<void> {
  const transport = createTransport({
    host: channel.host,
    port: channel.port ?? 587,
    secure: channel.secure ?? false,
    ...(channel.user ? { auth: { user: channel.user, pass: channel.password ?? "" } } : {}),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  try {
    const { subject, text } = emailMessage(notice);
    await transport.sendMail({ from: channel.from, to: channel.to, subject, text });
  } finally {
    transport.close();
  }
}

/** One attempt to send `notice` to `channel`. @throws UserError (no point retrying) or another error. */
export async function deliver(channel: Channel, notice: RunNotice, timeoutMs = 10_000): Promise<void> {
  switch (channel.kind) {
    case "webhook": {
      const body = JSON.stringify(webhookBody(notice));
      const headers: Record<string, string> = { ...(channel.headers ?? {}), "X-Sluice-Event": notice.event };
      if (channel.secret) headers[SIGNATURE_HEADER] = signBody(body, channel.secret);
      return post(channel.url, body, headers, timeoutMs);
    }
    case "slack":
      return post(channel.url, JSON.stringify(slackBody(notice)), {}, timeoutMs);
    case "email":
      return sendEmail(channel, notice, timeoutMs);
  }
}

/**
 * Sends with retries; resolves whether it arrived. Every failed attempt is reported through `report`
 * (the caller redacts: an error may quote the URL).
 */
export async function deliverWithRetries(
  channel: Channel,
  notice: RunNotice,
  report: (message: string) => void,
  options: DeliveryOptions = {},
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<boolean> {
  const attempts = Math.max(1, options.attempts ?? (channel.retries ?? 3) + 1);
  const firstDelayMs = options.firstDelayMs ?? 1000;
  for (let attempt = 1; ; attempt++) {
    try {
      await deliver(channel, notice, options.timeoutMs);
      return true;
    } catch (error) {
      const final = attempt >= attempts || error instanceof UserError;
      report(`attempt ${attempt} of ${attempts} failed: ${messageOf(error)}${final ? "; giving up" : "; will retry"}`);
      if (final) return false;
      await sleep(firstDelayMs * 2 ** (attempt - 1));
    }
  }
}
