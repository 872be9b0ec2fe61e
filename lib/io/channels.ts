/**
 * Notification channels: the `channels:` map of `sluice.yaml`, by name, each a generic webhook, a Slack
 * incoming webhook or email over SMTP. `notify:` rules in pipeline.yaml and triggers.yaml name them.
 *
 * ```yaml
 * channels:
 *   team_slack: { kind: slack, url: "{{ env_var('SLACK_WEBHOOK_URL') }}" }
 *   ops_hook:   { kind: webhook, url: https://ops.example.com/sluice, secret: "{{ env_var('OPS_HOOK_SECRET') }}" }
 *   oncall:     { kind: email, host: smtp.example.com, port: 587, user: sluice, password: "{{ env_var('SMTP_PASSWORD') }}",
 *                 from: sluice@example.com, to: [oncall@example.com] }
 * ```
 *
 * Values read `{{ env_var('X') }}` as connections do. A Slack URL is a credential by itself (anyone holding
 * it can post), so it is registered with the redactor like a webhook's secret, an SMTP password and the
 * credential part of any URL: no log line or error shows them.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { UserError } from "../core/errors";
import { loadYaml, schemaErrors, yamlErrorMap } from "../core/yaml-file";
import { interpolate, loadDotEnv } from "./profiles";
import { registerSecret } from "./redact";

const url = z.url({ protocol: /^https?$/, error: "expected an http:// or https:// URL" });

const retries = z.number().int().min(0).max(10).optional().meta({ description: "Retries of a failed delivery (network error, 5xx, 429), 1 s apart and doubling.", default: 3 });

const webhook = z.strictObject({
  kind: z.literal("webhook").meta({ description: "A generic webhook: a POST of a JSON document (event, pipeline, run_id, state, link, error…)." }),
  url: url.meta({ description: "Where the JSON is posted." }),
  secret: z
    .string()
    .min(1)
    .optional()
    .meta({ description: "Signs the body: header `X-Sluice-Signature: sha256=<hex HMAC-SHA256 of the body with this secret>` (a secret)." }),
  headers: z.record(z.string(), z.string()).optional().meta({ description: "Extra headers (their values are secrets)." }),
  retries,
});
const slack = z.strictObject({
  kind: z.literal("slack").meta({ description: "A Slack (or Slack-compatible: Mattermost, Rocket.Chat) incoming webhook: a message with the pipeline, the run's link, the failed block and its error." }),
  url: url.meta({ description: "The incoming webhook's URL (a secret: anyone holding it can post)." }),
  retries,
});
const email = z.strictObject({
  kind: z.literal("email").meta({ description: "Email over SMTP (nodemailer)." }),
  host: z.string().min(1).meta({ description: "The SMTP server." }),
  port: z.number().int().min(1).max(65535).optional().meta({ description: "The SMTP port.", default: 587 }),
  secure: z.boolean().optional().meta({ description: "TLS from the start (port 465); otherwise STARTTLS when the server offers it.", default: false }),
  user: z.string().min(1).optional().meta({ description: "The SMTP login; none = no authentication." }),
  password: z.string().optional().meta({ description: "The SMTP password (a secret)." }),
  from: z.string().min(1).meta({ description: "The sender address." }),
  to: z.array(z.string().min(1)).min(1).meta({ description: "The recipients." }),
  retries,
});

const channel = z.discriminatedUnion("kind", [webhook, slack, email]);
/** One channel of `sluice.yaml`, by kind: scripts/gen-reference.ts may document it like a connection. */
export const channelSchema = channel;
const channelsFile = z.looseObject({
  channels: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/, "channel names are letters, digits, _ and -"), channel).optional(),
});

export type WebhookChannel = z.infer<typeof webhook>;
export type SlackChannel = z.infer<typeof slack>;
export type EmailChannel = z.infer<typeof email>;
export type Channel = z.infer<typeof channel>;

/** The channels of a project, by name. */
export type Channels = Readonly<Record<string, Channel>>;

const KEYS: Record<Channel["kind"], readonly string[]> = {
  webhook: Object.keys(webhook.shape),
  slack: Object.keys(slack.shape),
  email: Object.keys(email.shape),
};

/** Registers every secret a channel holds with the process's redactor. */
function registerChannelSecrets(name: string, value: Channel): void {
  switch (value.kind) {
    case "webhook":
      registerSecret(value.secret, `channels.${name}.secret`);
      for (const header of Object.values(value.headers ?? {})) registerSecret(header);
      registerUrlPassword(value.url);
      break;
    case "slack":
      registerSecret(value.url, `channels.${name}.url`);
      break;
    case "email":
      registerSecret(value.password, `channels.${name}.password`);
      break;
  }
}

function registerUrlPassword(text: string): void {
  const password = new URL(text).password;
  if (password !== "") registerSecret(decodeURIComponent(password));
}

/**
 * Parses the `channels:` key of `sluice.yaml` text (other keys are left to their owners).
 * @throws UserError located at the channel's key (`sluice.yaml:12:5: channels.ops.url: …`).
 */
export function parseChannels(text: string, file: string, env: Readonly<Record<string, string | undefined>>): Channels {
  const loaded = loadYaml(text, file);
  const errors: UserError[] = [];
  const interpolated = interpolate(loaded.value ?? {}, [], env, loaded, errors);
  const parsed = channelsFile.safeParse(interpolated, { error: yamlErrorMap });
  if (!parsed.success) {
    errors.push(
      ...schemaErrors(parsed.error.issues, loaded, {
        knownKeys: (path) => {
          if (path.length !== 2 || path[0] !== "channels") return [];
          const kind = kindAt(interpolated, String(path[1]));
          return kind === undefined ? [] : KEYS[kind];
        },
      }),
    );
  }
  // A missing env_var elsewhere in sluice.yaml is the connections' business; only this key's problems count here.
  const mine = errors.filter((e) => e.location.path?.startsWith("channels") === true);
  if (mine.length > 0) throw mine[0];
  const channels = parsed.success ? (parsed.data.channels ?? {}) : {};
  for (const [name, value] of Object.entries(channels)) registerChannelSecrets(name, value);
  return channels;
}

function kindAt(value: unknown, name: string): Channel["kind"] | undefined {
  if (typeof value !== "object" || value === null || !("channels" in value)) return undefined;
  const channels: unknown = value.channels;
  if (typeof channels !== "object" || channels === null) return undefined;
  const entry: unknown = Object.entries(channels).find(([k]) => k === name)?.[1];
  if (typeof entry !== "object" || entry === null || !("kind" in entry)) return undefined;
  const kind = entry.kind;
  return kind === "webhook" || kind === "slack" || kind === "email" ? kind : undefined;
}

/** The channels of `<projectDir>/sluice.yaml` (none, or no file → `{}`); `.env` fills what `env` lacks. */
export async function loadChannels(projectDir: string, env: Readonly<Record<string, string | undefined>>): Promise<Channels> {
  const text = await readFile(join(projectDir, "sluice.yaml"), "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return null;
    throw error;
  });
  if (text === null) return {};
  const dotenv = await loadDotEnv(projectDir);
  const merged: Record<string, string | undefined> = { ...dotenv };
  for (const [key, value] of Object.entries(env)) if (value !== undefined) merged[key] = value;
  return parseChannels(text, "sluice.yaml", merged);
}
