/**
 * Listens to the runs' events and turns them into notifications (`notify:` rules of the pipeline and of the
 * run's trigger, sent to `sluice.yaml` channels) and callbacks (`on_success`, `on_failure`, `on_retry`).
 * Everything here happens beside the run, never inside it: the run's state is decided before this hears of
 * it, and a channel or callback that fails is reported and that is all. `drain()` waits for what is still
 * being sent, so a command that exits after its run does not cut a message off.
 */
import { formatDuration } from "../core/duration";
import { messageOf } from "../core/errors";
import type { Pipeline } from "../core/model";
import { channelsFor, type NotifiedError, type NotifyEvent, type NotifyRule, type RunNotice } from "../core/notify";
import type { Trigger } from "../core/triggers-schema";
import type { Channels } from "../io/channels";
import type { RunEvent, RunEventBus } from "../runner/events";
import type { Run } from "../store/metadata/run-store";
import { deliverWithRetries, type DeliveryOptions } from "./deliver";
import type { CallbackEvent, CallbackRunner } from "./run-callbacks";

export interface NotifierOptions {
  channels: Channels;
  pipelines: { read(name: string): Promise<{ pipeline: Pipeline; dir: string }> };
  runs: { getRun(id: string): Promise<{ run: Run } | null> };
  /** The trigger a run came from (its `notify:` and `sla:`), or null. */
  findTrigger: (pipeline: string, triggerId: string) => Promise<Trigger | null>;
  /** The run's page, when the server's address is known. */
  runLink: (runId: string) => string | null;
  /** Where problems go (a console); already redacted by the caller's wiring or not, this redacts. */
  report: (message: string) => void;
  /** Hides secrets in what is reported. */
  redact: (text: string) => string;
  callbacks?: CallbackRunner;
  delivery?: DeliveryOptions;
}

const CALLBACK_EVENT: Partial<Record<NotifyEvent, CallbackEvent>> = { success: "success", failure: "failure", retry: "retry" };

/** Sends a run's notifications and runs its callbacks; see the file comment. */
export class Notifier {
  private readonly pending = new Set<Promise<void>>();
  /** The first block failure of each live run: what a `failure` notice names. */
  private readonly firstFailure = new Map<string, NotifiedError>();

  constructor(private readonly options: NotifierOptions) {}

  /** Subscribes to every run of `bus`; returns the unsubscribe function. */
  listen(bus: RunEventBus): () => void {
    return bus.subscribe((event) => this.onEvent(event));
  }

  /** Resolves once every notification and callback started so far has finished (or given up). */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /**
   * Sends `sla_miss` of a run to the channels of the pipeline's and the trigger's rules that list it (the
   * scheduler's SLA watch calls this once per run). Resolves with the channels that received it.
   */
  slaMissed(miss: { pipeline: string; runId: string; trigger: Trigger; slaMs: number }): Promise<string[]> {
    return this.track(this.sendSlaMiss(miss));
  }

  private async sendSlaMiss(miss: { pipeline: string; runId: string; trigger: Trigger; slaMs: number }): Promise<string[]> {
    try {
      const found = await this.options.runs.getRun(miss.runId);
      const { pipeline } = await this.options.pipelines.read(miss.pipeline);
      const notice: RunNotice = {
        event: "sla_miss",
        pipeline: miss.pipeline,
        runId: miss.runId,
        state: found?.run.state ?? "running",
        trigger: miss.trigger.name,
        logicalDate: found?.run.logicalDate ?? null,
        link: this.options.runLink(miss.runId),
        error: null,
        sla: formatDuration(miss.slaMs),
        at: new Date().toISOString(),
      };
      return await this.sendNow(notice, [...(pipeline.notify ?? []), ...(miss.trigger.notify ?? [])]);
    } catch (problem) {
      this.problem(`run ${miss.runId}: sla_miss notification: ${messageOf(problem)}`);
      return [];
    }
  }

  private onEvent(event: RunEvent): void {
    if (event.type === "block_state" && (event.state === "failed" || event.state === "up_for_retry") && event.error) {
      const error: NotifiedError = { block: event.block, code: event.error.code, message: event.error.message, attempt: event.attempt };
      if (event.state === "failed" && !this.firstFailure.has(event.runId)) this.firstFailure.set(event.runId, error);
      if (event.state === "up_for_retry") void this.track(this.handle(event.runId, "retry", error));
      return;
    }
    if (event.type !== "run_state") return;
    if (event.state !== "success" && event.state !== "failed" && event.state !== "cancelled") return;
    const error = this.firstFailure.get(event.runId) ?? (event.error ? { block: null, code: "run_failed", message: event.error } : null);
    this.firstFailure.delete(event.runId);
    if (event.state === "cancelled") return;
    void this.track(this.handle(event.runId, event.state === "success" ? "success" : "failure", event.state === "failed" ? error : null));
  }

  private track<T>(work: Promise<T>): Promise<T> {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.pending.add(settled);
    void settled.finally(() => this.pending.delete(settled));
    return work;
  }

  private async handle(runId: string, event: "success" | "failure" | "retry", error: NotifiedError | null): Promise<void> {
    try {
      const found = await this.options.runs.getRun(runId);
      if (!found) return;
      const { run } = found;
      const { pipeline, dir } = await this.options.pipelines.read(run.pipeline);
      const trigger = run.triggerId ? await this.options.findTrigger(run.pipeline, run.triggerId).catch(() => null) : null;
      const rules = [...(pipeline.notify ?? []), ...(trigger?.notify ?? [])];
      const notice: RunNotice = {
        event,
        pipeline: run.pipeline,
        runId,
        state: event === "retry" ? "running" : event === "success" ? "success" : "failed",
        trigger: run.triggerId,
        logicalDate: run.logicalDate,
        link: this.options.runLink(runId),
        error,
        at: new Date().toISOString(),
      };
      const callbackEvent = CALLBACK_EVENT[event];
      const names = callbackEvent === undefined ? [] : callbacksOf(pipeline, callbackEvent);
      await Promise.all([
        this.sendNow(notice, rules),
        ...names.map((name) =>
          this.options.callbacks?.run({
            event: event,
            name,
            dir,
            run: { id: runId, pipeline: run.pipeline, state: notice.state, triggerId: run.triggerId, logicalDate: run.logicalDate, link: notice.link },
            error,
            variables: run.variables,
          }).then((failure) => {
            if (failure !== null) this.problem(`run ${runId}: ${failure}`);
          }),
        ),
      ]);
    } catch (problem) {
      this.problem(`run ${runId}: ${event} notifications: ${messageOf(problem)}`);
    }
  }

  private async sendNow(notice: RunNotice, rules: readonly NotifyRule[]): Promise<string[]> {
    const names = channelsFor(rules, notice.event);
    const sent = await Promise.all(
      names.map(async (name) => {
        const channel = this.options.channels[name];
        if (!channel) {
          const known = Object.keys(this.options.channels);
          this.problem(`notify ${notice.event} of run ${notice.runId}: no channel "${name}" in sluice.yaml (known: ${known.join(", ") || "none"})`);
          return null;
        }
        const ok = await deliverWithRetries(channel, notice, (message) => this.problem(`notify ${notice.event} of run ${notice.runId} to ${name}: ${message}`), this.options.delivery);
        return ok ? name : null;
      }),
    );
    return sent.filter((name): name is string => name !== null);
  }

  private problem(message: string): void {
    this.options.report(this.options.redact(message));
  }
}

function callbacksOf(pipeline: Pipeline, event: CallbackEvent): string[] {
  const callbacks = pipeline.callbacks;
  if (!callbacks) return [];
  return event === "success" ? callbacks.onSuccess : event === "failure" ? callbacks.onFailure : callbacks.onRetry;
}
