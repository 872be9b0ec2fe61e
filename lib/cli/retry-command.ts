import { UserError } from "../core/errors";
import type { RunState } from "../core/run-model";
import type { RunEvent } from "../runner/events";
import type { Services } from "../server/services";
import { defineRetryCommand, type RetryOptions } from "./command-definitions";
import { parseCommandLine } from "./command-line";
import { renderProgress, type BlockLine } from "./progress-view";
import { describeBlockError, redactingIo, toJsonSummary, type CliIo } from "./run-command";

/**
 * `sluice retry <run_id> [--from block] [--json]`: clears and re-runs a finished run's failed,
 * upstream_failed and cancelled blocks (or `--from` a block and its downstream) inside the same run — same
 * id, logical date, data interval, variables — with live per-block progress like `sluice run`. Exit code 1
 * when the retried run fails, or when it is refused (a live run, or a run with nothing to retry).
 */
export async function retryCommand(argv: string[], services: Services, rawIo: CliIo): Promise<number> {
  const io = redactingIo(rawIo, (text) => services.redactor.redact(text));
  const { options: values, operands } = parseCommandLine<RetryOptions>("retry", defineRetryCommand, argv);
  const runId = operands[0];

  const found = await services.runs.getRun(runId);
  if (!found) throw new UserError("run_not_found", `there is no run ${runId}`);
  const view = new RetryView(found.run.pipeline, runId, io, values.json ? "silent" : io.stdout.isTTY ? "tty" : "lines");
  for (const blockRun of found.blockRuns) view.seed({ name: blockRun.block, state: blockRun.state, attempt: blockRun.attempt, rows: blockRun.rows ?? undefined });
  const unsubscribe = services.runner.events.subscribe((event) => view.onEvent(event), runId);
  const onSignal = () => services.runner.cancel(runId);
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const started = await services.runner.retry(runId, { fromBlock: values.from });
    const outcome = await started.done;
    view.finish(outcome.state);
    if (values.json) io.stdout.write(JSON.stringify(toJsonSummary(outcome)) + "\n");
    return outcome.state === "success" ? 0 : 1;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    unsubscribe();
  }
}

/** Live progress of the retried run: the per-block table on a terminal, one line per change otherwise. */
class RetryView {
  private state: RunState = "queued";
  private readonly blocks = new Map<string, BlockLine>();
  private drawnLines = 0;

  constructor(
    private readonly pipeline: string,
    private readonly runId: string,
    private readonly io: CliIo,
    private readonly mode: "tty" | "lines" | "silent",
  ) {}

  seed(line: BlockLine): void {
    this.blocks.set(line.name, line);
  }

  onEvent(event: RunEvent): void {
    if (event.type === "run_state") this.state = event.state;
    if (event.type === "block_state") {
      const error = event.error ? describeBlockError(event.error) : undefined;
      this.blocks.set(event.block, { name: event.block, state: event.state, attempt: event.attempt, rows: event.rows, durationMs: event.durationMs, error });
      if (this.mode === "lines") {
        const extra = [event.rows !== undefined ? `${event.rows} rows` : "", event.durationMs !== undefined ? `${event.durationMs} ms` : ""].filter(Boolean).join(", ");
        this.io.stdout.write(`${event.block}: ${event.state}${event.attempt > 1 ? ` (attempt ${event.attempt})` : ""}${extra ? ` — ${extra}` : ""}\n`);
        if (error && (event.state === "failed" || event.state === "up_for_retry")) this.io.stdout.write(error.replace(/^/gm, "    ") + "\n");
      }
    }
    if (event.type === "log" && this.mode === "lines") this.io.stdout.write(`  [${event.block}] ${event.line.message}\n`);
    if (this.mode === "tty") this.draw();
  }

  finish(state: RunState): void {
    this.state = state;
    if (this.mode === "tty") this.draw();
    if (this.mode === "lines") this.io.stdout.write(`${this.pipeline}: run ${this.runId} ${state} (retried)\n`);
  }

  private draw(): void {
    const lines = renderProgress(this.pipeline, this.runId, this.state, [...this.blocks.values()]);
    const up = this.drawnLines > 0 ? `\x1b[${this.drawnLines}A` : "";
    this.io.stdout.write(up + lines.map((l) => `\x1b[2K${l}`).join("\n") + "\n");
    this.drawnLines = lines.length;
  }
}
