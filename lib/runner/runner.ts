import { setMaxListeners } from "node:events";
import { OperationalError, UserError } from "../core/errors";
import type { BlockSpec, Pipeline, RunMode, RunTrigger, Variables } from "../core/model";
import { planRun } from "../core/plan";
import { retryDelayMs } from "../core/retry";
import { isTerminalRunState, type BlockRunState, type RunState } from "../core/run-model";
import { blockFailEvent, deriveRunState, transitionBlockRun, transitionRun, type BlockRunEvent, type RunEvent as RunStateEvent } from "../core/run-state";
import type { BlockInput, BlockRunResult, RunScopedExecutor } from "../executors/types";
import type { RunStore } from "../store/metadata/run-store";
import type { OutputRecord, OutputWriter } from "../store/output-types";
import { toBlockError } from "./block-error";
import { RunEventBus, type BlockError, type RunEvent } from "./events";
import { abortableSleep } from "./sleep";

/** The slice of the metadata store the runner writes. */
export type RunnerStore = Pick<RunStore, "createRun" | "updateRunState" | "updateBlockRun" | "recordAttempt" | "latestSuccessfulOutput">;

/** Where the runner finds pipelines. */
export interface PipelineSource {
  read(name: string): Promise<{ pipeline: Pipeline; dir: string }>;
}

/** Where log lines go (besides the event bus). */
export interface LogSink {
  append(runId: string, block: string, attempt: number, line: { at: string; level: "debug" | "info" | "warn" | "error"; message: string }): void;
}

export interface RunnerOptions {
  projectDir: string;
  pipelines: PipelineSource;
  store: RunnerStore;
  outputs: OutputWriter;
  logs: LogSink;
  executor: RunScopedExecutor;
  /** Blocks of one run executing at once. */
  maxParallelBlocks: number;
  defaultTimeoutMs: number;
  now?: () => Date;
  /** Waits between retries; injectable so tests need not sleep. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export interface StartRunRequest {
  pipeline: string;
  mode?: RunMode;
  block?: string;
  variables?: Variables;
  /** ISO instant; defaults to now. */
  logicalDate?: string;
  dataInterval?: { start: string; end: string };
  trigger?: RunTrigger;
  triggerId?: string | null;
}

export interface BlockOutcome {
  name: string;
  state: BlockRunState;
  attempt: number;
  rows: number | null;
  durationMs: number | null;
  error?: BlockError;
}

export interface RunOutcome {
  runId: string;
  pipeline: string;
  state: RunState;
  blocks: BlockOutcome[];
}

export interface StartedRun {
  runId: string;
  /** Settles when the run reaches a terminal state; never rejects for a block failure. */
  done: Promise<RunOutcome>;
}

interface BlockSlot {
  spec: BlockSpec;
  state: BlockRunState;
  attempt: number;
  rows: number | null;
  durationMs: number | null;
  error?: BlockError;
  result?: BlockRunResult;
  controller?: AbortController;
}


/**
 * Executes pipeline runs: plans what to run, hands ready blocks to the executor (independent blocks in parallel,
 * bounded), retries with backoff, propagates `upstream_failed`, cancels, persists every state change through the
 * pure transition functions of lib/core, and publishes events.
 */
export class Runner {
  readonly events = new RunEventBus();
  private readonly active = new Map<string, AbortController>();
  private readonly now: () => Date;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;

  constructor(private readonly options: RunnerOptions) {
    this.now = options.now ?? (() => new Date());
    this.sleep = options.sleep ?? abortableSleep;
  }

  /**
   * Validates the request and records the run (queued) before returning, so a bad request fails here with a
   * clear error and a good one has a run id at once.
   */
  async start(request: StartRunRequest): Promise<StartedRun> {
    const { pipeline, dir } = await this.options.pipelines.read(request.pipeline);
    const mode = request.mode ?? "pipeline";
    const plan = planRun(pipeline, { mode, block: request.block });
    const cached = new Map<string, OutputRecord>();
    for (const name of plan.cachedInputs) {
      const output = await this.options.store.latestSuccessfulOutput(pipeline.name, name);
      if (!output) {
        throw new UserError(
          "no_cached_output",
          `block "${request.block}" needs the output of upstream "${name}", which has never run successfully; run it with its upstreams first`,
          { block: name },
        );
      }
      cached.set(name, output);
    }
    const logicalDate = request.logicalDate ?? this.now().toISOString();
    const variables: Variables = { ...pipeline.variables, ...(request.variables ?? {}) };
    const run = await this.options.store.createRun({
      pipeline: pipeline.name,
      trigger: request.trigger ?? "manual",
      triggerId: request.triggerId ?? null,
      logicalDate,
      variables,
      mode,
      block: request.block ?? null,
      blocks: plan.blocks,
    });
    const controller = new AbortController();
    // Every running block listens to the run's signal: a wide run has more than the default 10 listeners.
    setMaxListeners(0, controller.signal);
    this.active.set(run.id, controller);
    const context: RunContext = {
      runId: run.id,
      pipeline,
      dir,
      variables,
      logicalDate,
      dataInterval: request.dataInterval ?? { start: logicalDate, end: logicalDate },
      cached,
      signal: controller.signal,
    };
    const done = this.execute(context, plan.blocks).finally(() => this.active.delete(run.id));
    return { runId: run.id, done };
  }

  /** Starts a run and waits for its end. */
  async run(request: StartRunRequest): Promise<RunOutcome> {
    return (await this.start(request)).done;
  }

  /** Cancels a live run: running blocks are killed, waiting ones cancelled. Returns false when the run is not live here. */
  cancel(runId: string): boolean {
    const controller = this.active.get(runId);
    if (!controller) return false;
    controller.abort(new UserError("cancelled", "run cancelled"));
    return true;
  }

  isActive(runId: string): boolean {
    return this.active.has(runId);
  }

  private emit(event: RunEvent): void {
    this.events.emit(event);
  }

  private async execute(context: RunContext, order: string[]): Promise<RunOutcome> {
    const { runId, pipeline } = context;
    const specs = new Map(pipeline.blocks.map((b) => [b.name, b]));
    const slots = new Map<string, BlockSlot>();
    for (const name of order) {
      const spec = specs.get(name);
      if (!spec) throw new UserError("missing_block", `block "${name}" is not in pipeline "${pipeline.name}"`, { block: name });
      slots.set(name, { spec, state: "pending", attempt: 0, rows: null, durationMs: null });
    }
    let runState: RunState = "queued";
    const moveRun = async (event: RunStateEvent, error?: string) => {
      runState = transitionRun(runState, event);
      await this.setRunState(runId, pipeline.name, runState, error);
    };
    await moveRun({ type: "start" });

    const running = new Map<string, Promise<void>>();
    const isReady = (slot: BlockSlot) =>
      slot.state === "pending" &&
      slot.spec.upstream.every((up) => context.cached.has(up) || slots.get(up)?.state === "success");

    try {
      for (;;) {
        if (context.signal.aborted) break;
        for (const slot of slots.values()) {
          if (running.size >= this.options.maxParallelBlocks) break;
          if (!isReady(slot)) continue;
          await this.moveBlock(context, slot, { type: "queue" });
          const task = this.runBlock(context, slot, slots).finally(() => running.delete(slot.spec.name));
          running.set(slot.spec.name, task);
        }
        if (running.size === 0) break;
        await Promise.race(running.values());
      }
      await Promise.all(running.values());
    } catch (error) {
      // A store or executor bug: do not leave the run `running`.
      await Promise.allSettled(running.values());
      await this.finishLeftovers(context, slots, "cancel").catch(() => undefined);
      await this.options.executor.endRun(runId);
      await moveRun({ type: "fail" }, `internal error: ${toBlockError(error).message}`);
      return outcome(runId, pipeline.name, runState, slots);
    }

    await this.finishLeftovers(context, slots, context.signal.aborted ? "cancel" : "upstream_failed");
    await this.options.executor.endRun(runId);
    const derived = context.signal.aborted ? "cancelled" : deriveRunState([...slots.values()].map((s) => s.state));
    const event: RunStateEvent = derived === "success" ? { type: "succeed" } : derived === "cancelled" ? { type: "cancel" } : { type: "fail" };
    await moveRun(event, isTerminalRunState(derived) ? undefined : "internal error: a block run did not finish");
    return outcome(runId, pipeline.name, runState, slots);
  }

  /** Every block that never ran ends as cancelled (run cancelled) or upstream_failed (an upstream failed). */
  private async finishLeftovers(context: RunContext, slots: Map<string, BlockSlot>, how: "cancel" | "upstream_failed") {
    for (const slot of slots.values()) {
      if (slot.state === "pending" || slot.state === "queued" || slot.state === "up_for_retry") {
        await this.moveBlock(context, slot, { type: how });
      }
    }
  }

  private async runBlock(context: RunContext, slot: BlockSlot, slots: Map<string, BlockSlot>): Promise<void> {
    const { spec } = slot;
    for (;;) {
      slot.attempt += 1;
      const startedAt = this.now();
      await this.moveBlock(context, slot, { type: "start" }, { startedAt: startedAt.toISOString(), endedAt: null, error: null });
      const controller = new AbortController();
      const onRunAbort = () => controller.abort(context.signal.reason);
      context.signal.addEventListener("abort", onRunAbort, { once: true });
      try {
        const result = await this.options.executor.execute({
          runId: context.runId,
          pipelineName: context.pipeline.name,
          pipelineDir: context.dir,
          projectDir: this.options.projectDir,
          block: spec,
          inputs: this.inputsOf(context, spec, slots),
          variables: context.variables,
          logicalDate: context.logicalDate,
          dataInterval: context.dataInterval,
          attempt: slot.attempt,
          timeoutMs: spec.timeoutMs ?? this.options.defaultTimeoutMs,
          signal: controller.signal,
          outputs: this.options.outputs,
          onLog: (line) => {
            this.options.logs.append(context.runId, spec.name, slot.attempt, line);
            this.emit({ type: "log", runId: context.runId, block: spec.name, attempt: slot.attempt, line });
          },
          onProgress: (progress) => this.emit({ type: "progress", runId: context.runId, block: spec.name, progress }),
        });
        if (spec.type === "sensor" && result.sensorResult === false) {
          throw new OperationalError("sensor_not_met", `sensor "${spec.name}" condition not met`, { block: spec.name });
        }
        slot.result = result;
        slot.rows = result.output?.summary.rows ?? null;
        slot.durationMs = this.now().getTime() - startedAt.getTime();
        const endedAt = this.now().toISOString();
        await this.moveBlock(context, slot, { type: "succeed" }, { endedAt, output: result.output, rows: slot.rows, durationMs: slot.durationMs });
        await this.recordAttempt(context, slot, startedAt.toISOString(), endedAt);
        return;
      } catch (error) {
        slot.durationMs = this.now().getTime() - startedAt.getTime();
        slot.error = toBlockError(error);
        const endedAt = this.now().toISOString();
        if (context.signal.aborted) {
          await this.moveBlock(context, slot, { type: "cancel" }, { endedAt, error: slot.error, durationMs: slot.durationMs });
          await this.recordAttempt(context, slot, startedAt.toISOString(), endedAt);
          return;
        }
        const attemptsLeft = spec.retries.count + 1 - slot.attempt;
        await this.moveBlock(context, slot, blockFailEvent(error, attemptsLeft), { endedAt, error: slot.error, durationMs: slot.durationMs });
        await this.recordAttempt(context, slot, startedAt.toISOString(), endedAt);
        if (slot.state !== "up_for_retry") return;
        await this.sleep(retryDelayMs(spec.retries, slot.attempt), context.signal);
        if (context.signal.aborted) return; // finishLeftovers cancels it
        await this.moveBlock(context, slot, { type: "retry_due" });
      } finally {
        context.signal.removeEventListener("abort", onRunAbort);
      }
    }
  }

  private async recordAttempt(context: RunContext, slot: BlockSlot, startedAt: string, endedAt: string): Promise<void> {
    await this.options.store.recordAttempt({
      runId: context.runId,
      block: slot.spec.name,
      attempt: slot.attempt,
      state: slot.state,
      startedAt,
      endedAt,
      error: slot.state === "success" ? null : (slot.error ?? null),
    });
  }

  private inputsOf(context: RunContext, spec: BlockSpec, slots: Map<string, BlockSlot>): BlockInput[] {
    return spec.upstream.map((name) => {
      const result = slots.get(name)?.result;
      if (result?.output) return { name, output: result.output, ipc: result.ipc };
      const cached = context.cached.get(name);
      if (cached) return { name, output: cached };
      throw new UserError("missing_input", `upstream "${name}" of block "${spec.name}" produced no output`, { block: spec.name });
    });
  }

  private async moveBlock(
    context: RunContext,
    slot: BlockSlot,
    event: BlockRunEvent,
    patch: Omit<Parameters<RunnerStore["updateBlockRun"]>[2], "state"> = {},
  ): Promise<void> {
    slot.state = transitionBlockRun(slot.state, event);
    const at = this.now().toISOString();
    const queuedAt = event.type === "queue" || event.type === "retry_due" ? { queuedAt: at } : {};
    await this.options.store.updateBlockRun(context.runId, slot.spec.name, {
      ...patch,
      ...queuedAt,
      state: slot.state,
      attempt: slot.attempt,
    });
    this.emit({
      type: "block_state",
      runId: context.runId,
      block: slot.spec.name,
      state: slot.state,
      attempt: slot.attempt,
      at,
      rows: slot.rows ?? undefined,
      durationMs: slot.durationMs ?? undefined,
      error: slot.state === "failed" || slot.state === "up_for_retry" ? slot.error : undefined,
    });
  }

  private async setRunState(runId: string, pipeline: string, state: RunState, error?: string): Promise<void> {
    const at = this.now().toISOString();
    await this.options.store.updateRunState(runId, state, { at, error: error ?? null });
    this.emit({ type: "run_state", runId, pipeline, state, at, error });
  }
}

interface RunContext {
  runId: string;
  pipeline: Pipeline;
  dir: string;
  variables: Variables;
  logicalDate: string;
  dataInterval: { start: string; end: string };
  cached: Map<string, OutputRecord>;
  signal: AbortSignal;
}

function outcome(runId: string, pipeline: string, state: RunState, slots: Map<string, BlockSlot>): RunOutcome {
  return {
    runId,
    pipeline,
    state,
    blocks: [...slots.values()].map((s) => ({
      name: s.spec.name,
      state: s.state,
      attempt: s.attempt,
      rows: s.rows,
      durationMs: s.durationMs,
      error: s.error,
    })),
  };
}
