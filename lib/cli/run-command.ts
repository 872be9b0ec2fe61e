import { UserError } from "../core/errors";
import type { RunMode } from "../core/model";
import type { RunState } from "../core/run-model";
import type { BlockError, RunEvent } from "../runner/events";
import type { RunOutcome } from "../runner/runner";
import type { Services } from "../server/services";
import { defineRunCommand, type RunOptions } from "./command-definitions";
import { parseCommandLine } from "./command-line";
import { parseVars } from "./parse-vars";
import { formatBytes, renderProgress, type BlockLine } from "./progress-view";

export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
}

/** `sluice run`: runs a pipeline (or part of it) here, with live per-block progress; exit code 1 when it fails. */
export async function runCommand(argv: string[], services: Services, rawIo: CliIo): Promise<number> {
  // Everything this command prints (progress, logs, errors, --json) goes through the secret redactor.
  const io = redactingIo(rawIo, (text) => services.redactor.redact(text));
  const { options: values, operands } = parseCommandLine<RunOptions>("run", defineRunCommand, argv);
  const pipelineName = operands[0];
  if ((values.upstream || values.downstream) && !values.block) throw new UserError("usage", "--upstream and --downstream go with --block");
  if (values.upstream && values.downstream) throw new UserError("usage", "choose one of --upstream and --downstream");
  const mode: RunMode = !values.block ? "pipeline" : values.upstream ? "with_upstream" : values.downstream ? "from" : "block";
  const logicalDate = values.logicalDate;

  const view = new LiveView(pipelineName, io, values.json ? "silent" : io.stdout.isTTY ? "tty" : "lines");
  const unsubscribe = services.runner.events.subscribe((event) => view.onEvent(event));
  // SIGINT/SIGTERM cancel the run cleanly (blocks killed, states written) before the process exits; a
  // second signal gets the default behaviour (immediate exit), the run then recovered once its lease expires.
  let signalled: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    signalled ??= signal;
    if (view.runId) services.runner.cancel(view.runId);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const started = await services.runner.start({
      pipeline: pipelineName,
      mode,
      block: values.block,
      variables: parseVars(values.var ?? []),
      logicalDate,
    });
    view.runId = started.runId;
    if (signalled) services.runner.cancel(started.runId); // the signal came while the run was being recorded
    const outcome = await started.done;
    view.finish(outcome);
    if (values.json) io.stdout.write(JSON.stringify(toJsonSummary(outcome)) + "\n");
    if (signalled) {
      io.stderr.write(`sluice run: ${signalled}: run ${outcome.runId} ${outcome.state}\n`);
      return signalled === "SIGINT" ? 130 : 143;
    }
    return outcome.state === "success" ? 0 : 1;
  } catch (error) {
    throw services.redactor.redactError(error);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    unsubscribe();
  }
}

/** `io` whose streams redact every string written to them. */
export function redactingIo(io: CliIo, redact: (text: string) => string): CliIo {
  return { stdout: redactingStream(io.stdout, redact), stderr: redactingStream(io.stderr, redact) };
}

function redactingStream<S extends NodeJS.WritableStream>(stream: S, redact: (text: string) => string): S {
  const write = (chunk: unknown, ...rest: unknown[]): boolean =>
    Boolean(Reflect.apply(stream.write, stream, [typeof chunk === "string" ? redact(chunk) : chunk, ...rest]));
  return new Proxy(stream, {
    get(target, key) {
      if (key === "write") return write;
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

export function toJsonSummary(outcome: RunOutcome) {
  return {
    run_id: outcome.runId,
    pipeline: outcome.pipeline,
    status: outcome.state,
    blocks: outcome.blocks.map((b) => ({
      name: b.name,
      status: b.state,
      attempts: b.attempt,
      rows: b.rows,
      duration_ms: b.durationMs,
      ...(b.error ? { error: b.error.message } : {}),
    })),
  };
}

/** Message plus the stack frames that point into the block's own file, which is what its author needs. */
export function describeBlockError(error: BlockError): string {
  const frames = (error.stack ?? "")
    .split("\n")
    .filter((line) => /^\s+at /.test(line) && !/node_modules|node:|[/\\]cache[/\\]workers[/\\]|[/\\]lib[/\\](blocks|executors|runner)[/\\]/.test(line))
    .slice(0, 3);
  return [error.message, ...frames.map((f) => f.trim())].join("\n");
}

class LiveView {
  runId: string | undefined;
  private state: RunState = "queued";
  private readonly blocks = new Map<string, BlockLine>();
  private drawnLines = 0;
  private lastDraw = 0;

  constructor(
    private readonly pipeline: string,
    private readonly io: CliIo,
    private readonly mode: "tty" | "lines" | "silent",
  ) {}

  onEvent(event: RunEvent): void {
    if (this.runId && event.runId !== this.runId) return;
    switch (event.type) {
      case "run_state":
        this.state = event.state;
        break;
      case "block_state": {
        const line: BlockLine = {
          ...(this.blocks.get(event.block) ?? { name: event.block }),
          state: event.state,
          attempt: event.attempt,
          rows: event.rows,
          durationMs: event.durationMs,
          error: event.error ? describeBlockError(event.error) : undefined,
        };
        this.blocks.set(event.block, line);
        if (this.mode === "lines" && event.state !== "pending") {
          const extra = [event.rows !== undefined ? `${event.rows} rows` : "", event.durationMs !== undefined ? `${event.durationMs} ms` : ""].filter(Boolean).join(", ");
          this.io.stdout.write(`${event.block}: ${event.state}${event.attempt > 1 ? ` (attempt ${event.attempt})` : ""}${extra ? ` — ${extra}` : ""}\n`);
          if (line.error && (event.state === "failed" || event.state === "up_for_retry")) this.io.stdout.write(indent(line.error) + "\n");
        }
        break;
      }
      case "progress": {
        const current = this.blocks.get(event.block);
        if (!current) break;
        const p = event.progress;
        const parts = [
          p.bytes !== undefined ? `${formatBytes(p.bytes)}${p.totalBytes ? ` of ${formatBytes(p.totalBytes)}` : ""}` : "",
          p.rows !== undefined ? `${p.rows.toLocaleString("en-US")} rows` : "",
          p.message ?? "",
        ];
        current.progress = parts.filter(Boolean).join(" · ");
        break;
      }
      case "log":
        if (this.mode === "lines") this.io.stdout.write(`  [${event.block}] ${event.line.message}\n`);
        break;
    }
    if (this.mode === "tty") this.draw(false);
  }

  finish(outcome: RunOutcome): void {
    if (this.mode === "tty") this.draw(true);
    if (this.mode === "lines") this.io.stdout.write(`${outcome.pipeline}: run ${outcome.runId} ${outcome.state}\n`);
  }

  private draw(force: boolean): void {
    const now = Date.now();
    if (!force && now - this.lastDraw < 80) return;
    this.lastDraw = now;
    const lines = renderProgress(this.pipeline, this.runId ?? "…", this.state, [...this.blocks.values()]);
    const up = this.drawnLines > 0 ? `\x1b[${this.drawnLines}A` : "";
    this.io.stdout.write(up + lines.map((l) => `\x1b[2K${l}`).join("\n") + "\n");
    this.drawnLines = lines.length;
  }
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");
}
