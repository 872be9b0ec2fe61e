import { setMaxListeners } from "node:events";
import { UserError } from "../core/errors";
import { DEFAULT_POKE_INTERVAL_MS, type BlockSpec, type Pipeline, type RunMode, type RunTrigger, type Variables } from "../core/model";
import { formatDuration } from "../core/duration";
import { planRetry, planRun } from "../core/plan";
import { retryDelayMs } from "../core/retry";
import { restoreSecretVariables } from "../core/secret-variables";
import { isTerminalRunState, type BlockRunState, type RunState } from "../core/run-model";
import { blockFailEvent, blockReadiness, deriveRunState, transitionBlockRun, transitionRun, type BlockRunEvent, type RunEvent as RunStateEvent } from "../core/run-state";
import type { BlockInput, BlockRunResult, RunScopedExecutor } from "../executors/types";
import type { RunStore } from "../store/metadata/run-store";
import type { OutputRecord, OutputWriter } from "../core/output-types";
import { toBlockError } from "./block-error";
import { RunEventBus, type BlockError, type RunEvent } from "./events";
import { abortableSleep } from "./sleep";

/** The slice of the metadata store the runner writes. */
export type RunnerStore = Pick<RunStore, "createRun" | "updateRunState" | "updateBlockRun" | "recordAttempt" | "latestSuccess" | "getRun" | "reopenRun">;

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
  /** Sensors: checks that found the condition false. */
  pokes: number;
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
  /** The attempt number before this execution: a retried block run continues its numbering, not its budget. */
  attemptBase: number;
  pokes: number;
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
    const cached = new Map<string, OutputRecord | null>();
    for (const name of plan.cachedInputs) {
      const latest = await this.options.store.latestSuccess(pipeline.name, name);
      if (!latest) {
        throw new UserError(
          "no_cached_output",
          `block "${request.block}" needs the output of upstream "${name}", which has never run successfully; run it with its upstreams first`,
          { block: name },
        );
      }
      cached.set(name, latest.output);
    }
    const logicalDate = request.logicalDate ?? this.now().toISOString();
    const dataInterval = request.dataInterval ?? { start: logicalDate, end: logicalDate };
    const variables: Variables = { ...pipeline.variables, ...(request.variables ?? {}) };
    const run = await this.options.store.createRun({
      pipeline: pipeline.name,
      trigger: request.trigger ?? "manual",
      triggerId: request.triggerId ?? null,
      logicalDate,
      dataInterval,
      variables,
      mode,
      block: request.block ?? null,
      blocks: plan.blocks,
      cachedInputs: Object.fromEntries(cached),
    });
    const slots = new Map<string, BlockSlot>();
    for (const name of plan.blocks) slots.set(name, newSlot(pipeline, name));
    return this.launch({ runId: run.id, pipeline, dir, variables, logicalDate, dataInterval, cached }, slots, "queued");
  }

  /**
   * Retries a finished run inside itself (Airflow's clear): its failed, upstream_failed and cancelled block
   * runs — or `fromBlock` and its downstream — go back to pending and run again with the same run id,
   * logical date, data interval, variables and trigger. Block runs keep their attempt history (numbering
   * continues; each gets its full retry budget again). Inputs come from this run's own outputs, and from
   * the very outputs of earlier runs it read when it started, never from a newer run.
   *
   * @throws UserError `run_not_found`, `run_not_finished` (a live run cannot be retried), or the
   *   `planRetry` errors (`nothing_to_retry`, `unknown_block`, `upstream_not_succeeded`).
   */
  async retry(runId: string, options: { fromBlock?: string } = {}): Promise<StartedRun> {
    const found = await this.options.store.getRun(runId);
    if (!found) throw new UserError("run_not_found", `there is no run ${runId}`);
    if (!isTerminalRunState(found.run.state) || this.active.has(runId)) {
      throw new UserError("run_not_finished", `run ${runId} is ${found.run.state}; only a finished run can be retried`);
    }
    const { pipeline, dir } = await this.options.pipelines.read(found.run.pipeline);
    const cached = new Map(Object.entries(found.run.cachedInputs));
    const toClear = planRetry(
      pipeline,
      { blocks: found.blockRuns.map((b) => ({ name: b.block, state: b.state })), cachedInputs: new Set(cached.keys()) },
      options.fromBlock,
    );
    const specs = new Map(pipeline.blocks.map((b) => [b.name, b]));
    for (const name of toClear) {
      if (!specs.has(name)) throw new UserError("missing_block", `block "${name}" of run ${runId} is no longer in pipeline "${pipeline.name}"; it cannot be retried`, { block: name });
    }
    // Before reopening: a secret that cannot be restored must leave the run as it was.
    const variables = restoreSecretVariables(pipeline, found.run.variables, runId);
    const reopened = await this.options.store.reopenRun(runId);
    if (!reopened) throw new UserError("run_not_finished", `run ${runId} is not finished (another retry may have started it); only a finished run can be retried`);
    const slots = new Map<string, BlockSlot>();
    for (const blockRun of found.blockRuns) {
      const spec = specs.get(blockRun.block);
      // A block removed from the pipeline since the run keeps its recorded state; nothing reads it.
      if (!spec) continue;
      slots.set(blockRun.block, {
        spec,
        state: blockRun.state,
        attempt: blockRun.attempt,
        attemptBase: blockRun.attempt,
        pokes: blockRun.pokes,
        rows: blockRun.rows,
        durationMs: blockRun.durationMs,
        result: blockRun.state === "success" ? { output: blockRun.output } : undefined,
      });
    }
    const context: Omit<RunContext, "signal"> = {
      runId,
      pipeline,
      dir,
      variables,
      logicalDate: reopened.logicalDate,
      dataInterval: reopened.dataInterval,
      cached,
    };
    for (const name of toClear) {
      const slot = slots.get(name);
      if (!slot) continue;
      slot.rows = null;
      slot.durationMs = null;
      slot.error = undefined;
      slot.result = undefined;
      slot.pokes = 0;
      await this.moveBlock(context, slot, { type: "clear" }, { startedAt: null, endedAt: null, error: null, output: null, rows: null, durationMs: null, pokes: 0, lastPokeAt: null });
    }
    return this.launch(context, slots, "queued");
  }

  /**
   * "Run again": a new run of what `runId` ran (same mode and block), with the same logical date, data
   * interval and variables. Its cached upstreams are the latest successful ones, as for any new run.
   */
  async rerun(runId: string): Promise<StartedRun> {
    const found = await this.options.store.getRun(runId);
    if (!found) throw new UserError("run_not_found", `there is no run ${runId}`);
    const { run } = found;
    const { pipeline } = await this.options.pipelines.read(run.pipeline);
    return this.start({
      pipeline: run.pipeline,
      mode: run.mode,
      block: run.block ?? undefined,
      variables: restoreSecretVariables(pipeline, run.variables, runId),
      logicalDate: run.logicalDate,
      dataInterval: run.dataInterval,
      trigger: "manual",
    });
  }

  /** Registers a run as live here and executes its slots in the background. */
  private launch(context: Omit<RunContext, "signal">, slots: Map<string, BlockSlot>, from: RunState): StartedRun {
    const controller = new AbortController();
    // Every running block listens to the run's signal: a wide run has more than the default 10 listeners.
    setMaxListeners(0, controller.signal);
    this.active.set(context.runId, controller);
    const done = this.execute({ ...context, signal: controller.signal }, slots, from).finally(() => this.active.delete(context.runId));
    return { runId: context.runId, done };
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

  private async execute(context: RunContext, slots: Map<string, BlockSlot>, from: RunState): Promise<RunOutcome> {
    const { runId, pipeline } = context;
    let runState: RunState = from;
    const moveRun = async (event: RunStateEvent, error?: string) => {
      runState = transitionRun(runState, event);
      await this.setRunState(runId, pipeline.name, runState, error);
    };
    await moveRun({ type: "start" });

    const running = new Map<string, Promise<void>>();
    // Upstreams outside the run (read from an earlier run) count as succeeded; so do those without output.
    const readiness = (slot: BlockSlot) =>
      blockReadiness(slot.spec.upstream.map((up) => slots.get(up)?.state ?? (context.cached.has(up) ? "success" : "upstream_failed")));

    try {
      for (;;) {
        if (context.signal.aborted) break;
        for (const slot of slots.values()) {
          if (slot.state !== "pending") continue;
          const verdict = readiness(slot);
          if (verdict === "skip") await this.moveBlock(context, slot, { type: "skip" });
          if (verdict === "upstream_failed") await this.moveBlock(context, slot, { type: "upstream_failed" });
        }
        for (const slot of slots.values()) {
          if (running.size >= this.options.maxParallelBlocks) break;
          if (slot.state !== "pending" || readiness(slot) !== "ready") continue;
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
        const result =
          spec.type === "sensor"
            ? await this.pokeUntilMet(context, slot, slots, startedAt, controller.signal)
            : await this.executeOnce(context, slot, slots, spec.timeoutMs ?? this.options.defaultTimeoutMs, controller.signal);
        slot.durationMs = this.now().getTime() - startedAt.getTime();
        const endedAt = this.now().toISOString();
        if (result === "soft_timeout") {
          await this.moveBlock(context, slot, { type: "skip" }, { endedAt, durationMs: slot.durationMs });
          await this.recordAttempt(context, slot, startedAt.toISOString(), endedAt);
          return;
        }
        slot.result = result;
        slot.rows = result.output?.summary.rows ?? null;
        // Earlier attempts' errors stay in the attempt history; the block run itself succeeded.
        slot.error = undefined;
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
        // A retried block run continues its attempt numbers but gets its whole retry budget again.
        const attemptsLeft = spec.retries.count + 1 - (slot.attempt - slot.attemptBase);
        await this.moveBlock(context, slot, blockFailEvent(error, attemptsLeft), { endedAt, error: slot.error, durationMs: slot.durationMs });
        await this.recordAttempt(context, slot, startedAt.toISOString(), endedAt);
        if (slot.state !== "up_for_retry") return;
        await this.sleep(retryDelayMs(spec.retries, slot.attempt - slot.attemptBase), context.signal);
        if (context.signal.aborted) return; // finishLeftovers cancels it
        await this.moveBlock(context, slot, { type: "retry_due" });
      } finally {
        context.signal.removeEventListener("abort", onRunAbort);
      }
    }
  }

  /** One execution of the block's code by the executor. */
  private executeOnce(context: RunContext, slot: BlockSlot, slots: Map<string, BlockSlot>, timeoutMs: number, signal: AbortSignal): Promise<BlockRunResult> {
    const { spec } = slot;
    // An executor handed an already-aborted signal never hears the abort: stop here instead.
    if (signal.aborted) return Promise.reject(signal.reason);
    return this.options.executor.execute({
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
      timeoutMs,
      signal,
      outputs: this.options.outputs,
      onLog: (line) => this.log(context.runId, spec.name, slot.attempt, line),
      onProgress: (progress) => this.emit({ type: "progress", runId: context.runId, block: spec.name, progress }),
    });
  }

  private log(runId: string, block: string, attempt: number, line: { at: string; level: "debug" | "info" | "warn" | "error"; message: string }): void {
    this.options.logs.append(runId, block, attempt, line);
    this.emit({ type: "log", runId, block, attempt, line });
  }

  /**
   * A sensor's attempt: pokes (executes the block) every `pokeIntervalMs` until it returns true or until its
   * `timeoutMs` (all pokes together) has passed. A false poke is not a failure: it is counted on the block run
   * and logged, and `retries` never pay for it (they only cover errors its code throws).
   *
   * @returns the true poke's result, or `soft_timeout` when time ran out and the sensor has `softFail`.
   * @throws UserError `sensor_timeout` when time ran out, naming how long and how often it poked.
   */
  private async pokeUntilMet(
    context: RunContext,
    slot: BlockSlot,
    slots: Map<string, BlockSlot>,
    startedAt: Date,
    signal: AbortSignal,
  ): Promise<BlockRunResult | "soft_timeout"> {
    const { spec } = slot;
    const timeoutMs = spec.timeoutMs ?? this.options.defaultTimeoutMs;
    const intervalMs = spec.pokeIntervalMs ?? DEFAULT_POKE_INTERVAL_MS;
    const deadline = startedAt.getTime() + timeoutMs;
    let pokesThisAttempt = 0;
    for (;;) {
      // One poke may take the time left, but never less than a second nor more than any block may.
      const pokeTimeout = Math.min(this.options.defaultTimeoutMs, Math.max(1000, deadline - this.now().getTime()));
      const result = await this.executeOnce(context, slot, slots, pokeTimeout, signal);
      if (result.sensorResult !== false) return result;
      pokesThisAttempt += 1;
      slot.pokes += 1;
      const at = this.now();
      await this.options.store.updateBlockRun(context.runId, spec.name, { state: slot.state, pokes: slot.pokes, lastPokeAt: at.toISOString() });
      const left = deadline - at.getTime();
      if (left <= 0) {
        const waited = ((at.getTime() - startedAt.getTime()) / 1000).toFixed(1);
        const message = `sensor "${spec.name}" poked ${pokesThisAttempt} time(s) over ${waited} s (timeout ${formatDuration(timeoutMs)}) and its condition never held`;
        this.log(context.runId, spec.name, slot.attempt, { at: at.toISOString(), level: spec.softFail ? "warn" : "error", message: spec.softFail ? `${message}; soft_fail: skipped` : message });
        if (spec.softFail) return "soft_timeout";
        throw new UserError("sensor_timeout", message, { block: spec.name });
      }
      const wait = Math.min(intervalMs, left);
      this.log(context.runId, spec.name, slot.attempt, {
        at: at.toISOString(),
        level: "info",
        message: `poke ${slot.pokes}: condition not met; next poke in ${formatDuration(wait)}`,
      });
      await this.sleep(wait, signal);
      if (signal.aborted) throw signal.reason;
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

  /**
   * The outputs of a block's upstreams, in `upstream` order, from this run or the earlier runs it read when
   * it started. An upstream that succeeded without output (an exporter, a sensor) is left out: it orders the
   * block without feeding it, so `ctx.inputs.<name>` is undefined and the first-upstream `input` is the first
   * upstream that has an output.
   */
  private inputsOf(context: RunContext, spec: BlockSpec, slots: Map<string, BlockSlot>): BlockInput[] {
    const inputs: BlockInput[] = [];
    for (const name of spec.upstream) {
      const slot = slots.get(name);
      if (slot) {
        const output = slot.result?.output;
        if (output) inputs.push({ name, output, ipc: slot.result?.ipc });
        continue;
      }
      const cached = context.cached.get(name);
      if (cached) inputs.push({ name, output: cached });
    }
    return inputs;
  }

  private async moveBlock(
    context: Pick<RunContext, "runId">,
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
  /** Upstreams outside the run: their outputs from earlier runs (null: succeeded without output). */
  cached: Map<string, OutputRecord | null>;
  signal: AbortSignal;
}

function newSlot(pipeline: Pipeline, name: string): BlockSlot {
  const spec = pipeline.blocks.find((b) => b.name === name);
  if (!spec) throw new UserError("missing_block", `block "${name}" is not in pipeline "${pipeline.name}"`, { block: name });
  return { spec, state: "pending", attempt: 0, attemptBase: 0, pokes: 0, rows: null, durationMs: null };
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
      pokes: s.pokes,
      rows: s.rows,
      durationMs: s.durationMs,
      error: s.error,
    })),
  };
}
