/**
 * Notifications and callbacks, the pure part: the events a rule listens to (`notify:` in pipeline.yaml
 * and triggers.yaml), the facts about a run a message is made of, and the three message shapes the
 * channels send (a JSON document for webhooks, Slack's `text`, an email's subject and body). No IO: the
 * delivery lives in lib/notify.
 */
import { z } from "zod";

/** What a notification or a callback can be about. `retry`: a block attempt failed and will be retried. */
export const NOTIFY_EVENTS = ["failure", "success", "retry", "sla_miss"] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

/** One `notify:` entry: send these events of a run to a channel of `sluice.yaml`. */
export interface NotifyRule {
  on: NotifyEvent[];
  channel: string;
}

/** The file format of one `notify:` entry, shared by pipeline.yaml and triggers.yaml. */
export const notifyRuleSchema = z
  .strictObject({
    on: z
      .array(z.enum(NOTIFY_EVENTS))
      .min(1, { error: "list at least one of failure, success, retry, sla_miss" })
      .meta({ description: "The events sent: `failure` (the run failed), `success`, `retry` (a block attempt failed and will be retried), `sla_miss` (a trigger's `sla` passed before the run ended)." }),
    channel: z.string().min(1).meta({ description: "A channel of the `channels:` map of `sluice.yaml` (a webhook, a Slack incoming webhook or email)." }),
  })
  .meta({ title: "notification rule" });

/** Callback files of a pipeline, by event (`on_failure: [alert_team]` runs `alert_team.ts`). */
export interface PipelineCallbacks {
  onSuccess: string[];
  onFailure: string[];
  onRetry: string[];
}

/** The failure a message or callback is about. */
export interface NotifiedError {
  block: string | null;
  code: string;
  message: string;
  attempt?: number;
}

/** Everything a notification says about a run. */
export interface RunNotice {
  event: NotifyEvent;
  pipeline: string;
  runId: string;
  /** The run's state when the notice was made (`failed`, `success`, `running` for a retry or an SLA miss). */
  state: string;
  trigger: string | null;
  logicalDate: string | null;
  /** The run's page, when the server's address is known. */
  link: string | null;
  /** The failed block and its error (`failure`, `retry`). */
  error: NotifiedError | null;
  /** `sla_miss`: the SLA, e.g. `45m`. */
  sla?: string;
  at: string;
}

/** The events of `rules` that ask for `event`, by channel name (each channel once). */
export function channelsFor(rules: readonly NotifyRule[], event: NotifyEvent): string[] {
  return [...new Set(rules.filter((rule) => rule.on.includes(event)).map((rule) => rule.channel))];
}

const HEADLINE: Record<NotifyEvent, string> = {
  failure: "failed",
  success: "succeeded",
  retry: "is retrying a block",
  sla_miss: "missed its SLA",
};

/** One line saying what happened: `Sluice: green_taxi_etl failed (run 0190…)`. */
export function noticeHeadline(notice: RunNotice): string {
  return `Sluice: ${notice.pipeline} ${HEADLINE[notice.event]}${notice.sla ? ` (${notice.sla})` : ""} (run ${notice.runId})`;
}

/** The lines of a message's body, shared by Slack and email. */
function noticeLines(notice: RunNotice): string[] {
  const lines = [`Pipeline: ${notice.pipeline}`, `Run: ${notice.link ?? notice.runId}`, `State: ${notice.state}`];
  if (notice.trigger) lines.push(`Trigger: ${notice.trigger}`);
  if (notice.logicalDate) lines.push(`Logical date: ${notice.logicalDate}`);
  if (notice.error) {
    if (notice.error.block) lines.push(`Failed block: ${notice.error.block}${notice.error.attempt ? ` (attempt ${notice.error.attempt})` : ""}`);
    lines.push(`Error: ${notice.error.code}: ${notice.error.message}`);
  }
  return lines;
}

/** The JSON document a generic webhook receives. */
export function webhookBody(notice: RunNotice): Record<string, unknown> {
  return {
    event: notice.event,
    pipeline: notice.pipeline,
    run_id: notice.runId,
    state: notice.state,
    trigger: notice.trigger,
    logical_date: notice.logicalDate,
    link: notice.link,
    error: notice.error,
    ...(notice.sla ? { sla: notice.sla } : {}),
    at: notice.at,
  };
}

/** A Slack incoming webhook's payload: `text` in Slack's mrkdwn (a link as `<url|label>`). */
export function slackBody(notice: RunNotice): { text: string } {
  const run = notice.link ? `<${notice.link}|${notice.runId}>` : notice.runId;
  const lines = [`*${noticeHeadline(notice).replace(` (run ${notice.runId})`, "")}*`, `Pipeline: \`${notice.pipeline}\``, `Run: ${run} (${notice.state})`];
  if (notice.trigger) lines.push(`Trigger: ${notice.trigger}`);
  if (notice.error) {
    if (notice.error.block) lines.push(`Failed block: \`${notice.error.block}\``);
    lines.push(`Error: \`${notice.error.code}\` ${notice.error.message}`);
  }
  return { text: lines.join("\n") };
}

/** An email's subject and plain-text body. */
export function emailMessage(notice: RunNotice): { subject: string; text: string } {
  return { subject: noticeHeadline(notice), text: `${noticeLines(notice).join("\n")}\n` };
}
