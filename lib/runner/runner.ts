import { setMaxListeners } from "node:events";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { assertRunnable } from "../core/pipeline-checks";
import { UserError } from "../core/errors";
import { blockFileName, DEFAULT_POKE_INTERVAL_MS, type BlockSpec, type Pipeline, type RunMode, type RunTrigger, type Variables } from "../core/model";
import { formatDuration } from "../core/duration";
import { planRetry, planRun } from "../core/plan";
import { retryDelayMs } from "../core/retry";
import { restoreSecretVariables } from "../core/secret-variables";
import { isTerminalBlockRunState, isTerminalRunState, type BlockRunState, type RunState } from "../core/run-model";
import { blockFailEvent, transitionBlockRun, transitionRun, type BlockRunEvent, type RunEvent as RunStateEvent } from "../core/run-state";
import { decideTrigger, DEFAULT_TRIGGER_RULE, runStateFromLeaves, type TriggerDecision } from "../core/trigger-rules";
import { conditionValueFromRows, dynamicParentOf, instanceNames, instanceSpec, MAX_DYNAMIC_INSTANCES, parseInstanceName, reduceSql, skipReasons } from "../core/dynamic";
import { dependenciesOf } from "../core/flow-checks";
import type { OutputPage, OutputRef } from "../core/output-types";
import type { BlockInput, BlockRunResult, RunScopedExecutor } from "../executors/types";
import type { RunLookupAnswer, RunLookupQuery } from "../core/execution";
import { latestMatchingRun } from "../core/run-lookup";
import type { RunStore } from "../store/metadata/run-store";
import type { OutputRecord, OutputWriter } from "../core/output-types";
import { toBlockError } from "./block-error";
import { RunEventBus, type BlockError, type RunEvent } from "./events";
import { abortableSleep } from "./sleep";

/** The slice of the metadata store the runner writes. */
export type RunnerStore = Pick<RunStore, "createRun" | "updateRunState" | "updateBlockRun" | "addBlockRuns" | "recordAttempt" | "latestSuccess" | "getRun" | "reopenRun"> &
  /** `ctx.runs.latest` reads it; without it blocks get `runs_unavailable`. */
  Partial<Pick<RunStore, "listRuns">>;

/** Reads rows of a persisted output (the output store's `readPage`): a dynamic block's items, a SQL condition's value. */
export interface OutputRowReader {
  readPage(ref: OutputRef, offset: number, limit: number): Promise<OutputPage>;
}

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
  /** Defaults to `outputs` when it can read too (the output store can). */
  rows?: OutputRowReader;
  logs: LogSink;
  executor: RunScopedExecutor;
  /** Blocks of one run executing at once. */
  maxParallelBlocks: number;
  defaultTimeoutMs: number;
  now?: () => Date;
  /** Waits between retries; injectable so tests need not sleep. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** The connections `sluice.yaml` defines now, to refuse a block naming another; absent: not checked. */
  connections?: () => { file: string; names: readonly string[] };
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
  /** A dynamic instance (`child[0]`): its row, `ctx.item`. Unknown until its group has expanded. */
  item?: Record<string, unknown>;
  /** A group (a direct downstream of a dynamic block): its instances, once the dynamic block has returned. */
  instances?: string[];
  /** A condition block that succeeded: what it returned. */
  conditionValue?: boolean;
  /** A sensor's current attempt: when it started (its timeout counts from here across rescheduled checks). */
  sensorStartedAt?: Date;
  /** `pokes` when the sensor's current attempt started: the attempt's own false pokes are the difference. */
  sensorPokesBase?: number;
  /** A `mode: reschedule` sensor between checks: when the next check is due; it holds no parallel slot meanwhile. */
  nextPokeAt?: number;
}

/** What a sensor's attempt ends with besides its true check: time ran out (soft fail), or its next check is queued. */
type SensorPause = "soft_timeout" | { rescheduleAt: number };

/** What the main loop does with a pending block. */
type Verdict = { verdict: Exclude<TriggerDecision, "skip"> | "expand" } | { verdict: "skip"; reason: string };


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
    await this.checkRunnable(pipeline, dir, plan.blocks);
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

  /** Refuses a run that would fail on its wiring (see `findRunIssues`) before anything is recorded. */
  private async checkRunnable(pipeline: Pipeline, dir: string, blocks: readonly string[]): Promise<void> {
    const code: Record<string, string> = {};
    for (const spec of pipeline.blocks) {
      if (spec.language !== "sql" || !blocks.includes(spec.name)) continue;
      code[spec.name] = await readFile(path.join(dir, blockFileName(spec)), "utf8").catch(() => "");
    }
    assertRunnable(pipeline, { code, connections: this.options.connections?.() }, blocks);
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
    // A dynamic instance runs its declared block's code under its own name; its row comes back when its group expands again.
    for (const blockRun of found.blockRuns) {
      const instance = parseInstanceName(blockRun.block);
      const declared = instance ? specs.get(instance.block) : undefined;
      if (declared && !specs.has(blockRun.block)) specs.set(blockRun.block, instanceSpec(declared, blockRun.block));
    }
    // A condition's value is not stored: the conditions of re-run blocks are evaluated again.
    for (const name of [...toClear]) {
      for (const condition of specs.get(name)?.conditions ?? []) {
        const state = found.blockRuns.find((b) => b.block === condition)?.state;
        if (state !== undefined && isTerminalBlockRunState(state) && !toClear.includes(condition)) toClear.push(condition);
      }
    }
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
        // Why it was skipped stays on show.
        error: blockRun.state === "skipped" && blockRun.error ? { kind: "user", ...blockRun.error } : undefined,
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
      await this.moveBlock(context, slot, { type: "clear" }, { startedAt: null, endedAt: null, error: null, output: null, rows: null, durationMs: null, pokes: 0, lastPokeAt: null, writes: null, tests: null });
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
    // Rescheduled sensors: waiting for their next check without a slot (`resting`), then for a slot (`due`).
    const resting = new Map<string, Promise<void>>();
    const due: BlockSlot[] = [];
    const launch = (slot: BlockSlot, resumed: boolean) => {
      const task = this.runBlock(context, slot, slots, resumed)
        .then(() => {
          if (slot.nextPokeAt === undefined || slot.state !== "running") return;
          const name = slot.spec.name;
          const wait = Math.max(0, slot.nextPokeAt - this.now().getTime());
          resting.set(
            name,
            this.sleep(wait, context.signal).then(() => {
              resting.delete(name);
              due.push(slot);
            }),
          );
        })
        .finally(() => running.delete(slot.spec.name));
      running.set(slot.spec.name, task);
    };

    try {
      for (;;) {
        if (context.signal.aborted) break;
        // Decisions can unlock further ones (a skip flows down, an expansion adds instances): repeat until none.
        let decided = false;
        for (const slot of [...slots.values()]) {
          if (slot.state !== "pending") continue;
          const verdict = this.verdict(context, slots, slot);
          if (verdict.verdict === "expand") await this.expand(context, slots, slot);
          else if (verdict.verdict === "skip") {
            slot.error = { code: "skipped", kind: "user", message: verdict.reason };
            await this.moveBlock(context, slot, { type: "skip" }, { endedAt: this.now().toISOString(), error: slot.error });
          } else if (verdict.verdict === "upstream_failed") {
            // A group names the instance that failed: its own block runs are what the user looks for.
            const failed = slot.instances?.filter((name) => ["failed", "upstream_failed", "cancelled"].includes(slots.get(name)?.state ?? ""));
            if (failed?.length) slot.error = { code: "upstream_failed", kind: "user", message: `instance(s) ${failed.join(", ")} did not succeed` };
            await this.moveBlock(context, slot, { type: "upstream_failed" }, slot.error ? { error: slot.error } : {});
          } else continue;
          decided = true;
        }
        for (const slot of slots.values()) {
          if (running.size >= this.options.maxParallelBlocks) break;
          if (slot.state !== "pending" || this.verdict(context, slots, slot).verdict !== "run") continue;
          await this.moveBlock(context, slot, { type: "queue" });
          launch(slot, false);
        }
        // A rescheduled sensor whose check is due goes back in line behind the blocks that were ready before it.
        while (due.length > 0 && running.size < this.options.maxParallelBlocks) {
          const slot = due.shift() as BlockSlot;
          slot.nextPokeAt = undefined;
          launch(slot, true);
        }
        if (running.size === 0 && resting.size === 0 && due.length === 0) {
          if (decided) continue;
          break;
        }
        await Promise.race([...running.values(), ...resting.values()]);
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
    const derived = context.signal.aborted ? "cancelled" : finalRunState(slots);
    const event: RunStateEvent = derived === "success" ? { type: "succeed" } : derived === "cancelled" ? { type: "cancel" } : { type: "fail" };
    await moveRun(event, isTerminalRunState(derived) ? undefined : "internal error: a block run did not finish");
    return outcome(runId, pipeline.name, runState, slots);
  }

  /**
   * What a pending block does now. Upstreams outside the run (read from an earlier run) count as succeeded.
   * - A dynamic instance waits for its row (known once its group has expanded, after a retry).
   * - A group (direct downstream of a dynamic block) expands once the dynamic block succeeded; it is skipped
   *   when there were no rows, then waits for all its instances (any failed: `upstream_failed`).
   * - Otherwise its conditions must have finished, and a false one skips it; then its trigger rule decides
   *   over its upstreams' states and its conditions' (a condition that failed counts as a failed upstream).
   */
  private verdict(context: RunContext, slots: Map<string, BlockSlot>, slot: BlockSlot): Verdict {
    const stateOf = (name: string): BlockRunState => slots.get(name)?.state ?? (context.cached.has(name) ? "success" : "upstream_failed");
    const { spec } = slot;
    if (spec.instanceOf !== undefined && slot.item === undefined) return { verdict: "wait" };
    const parent = spec.instanceOf === undefined ? dynamicParentOf(context.pipeline.blocks, spec) : undefined;
    if (parent && slot.instances !== undefined) {
      if (slot.instances.length === 0) return { verdict: "skip", reason: skipReasons.noItems(parent.name) };
      const decision = decideTrigger("all_success", slot.instances.map(stateOf));
      return decision === "skip" ? { verdict: "skip", reason: `its instances were skipped` } : { verdict: decision };
    }
    if (parent && stateOf(parent.name) === "success") return { verdict: "expand" };
    const conditionStates: BlockRunState[] = [];
    for (const name of spec.conditions ?? []) {
      const condition = slots.get(name);
      const state = condition?.state ?? "upstream_failed";
      if (!isTerminalBlockRunState(state)) return { verdict: "wait" };
      if (state === "success" && condition?.conditionValue === false) return { verdict: "skip", reason: skipReasons.conditionFalse(name) };
      conditionStates.push(state);
    }
    const rule = spec.triggerRule ?? DEFAULT_TRIGGER_RULE;
    const states = [...spec.upstream.map(stateOf), ...conditionStates];
    const decision = decideTrigger(rule, states);
    if (decision !== "skip") return { verdict: decision };
    const deps = [...spec.upstream, ...(spec.conditions ?? [])];
    return { verdict: "skip", reason: `trigger rule ${rule} does not hold (${deps.map((d, i) => `${d} ${states[i]}`).join(", ")})` };
  }

  /**
   * Expands a group once its dynamic block has succeeded: one instance (block run) per row of the dynamic
   * block's output. Instances already in the run (a retry) keep their state and results and get their row
   * again; an instance whose row is gone (the retried dynamic block returned other rows) is skipped.
   */
  private async expand(context: RunContext, slots: Map<string, BlockSlot>, group: BlockSlot): Promise<void> {
    const { spec } = group;
    const parent = dynamicParentOf(context.pipeline.blocks, spec);
    if (!parent) return;
    let items: Record<string, unknown>[];
    let names: string[];
    try {
      const output = slots.get(parent.name)?.result?.output ?? context.cached.get(parent.name) ?? null;
      items = output === null ? [] : await this.readRows(output, Math.min(output.summary.rows, MAX_DYNAMIC_INSTANCES + 1));
      names = instanceNames(spec.name, parent, items);
    } catch (error) {
      // The group cannot expand (bad keys, too many rows, unreadable output): it fails with that error.
      group.error = toBlockError(error);
      const at = this.now().toISOString();
      await this.moveBlock(context, group, { type: "queue" });
      await this.moveBlock(context, group, { type: "start" }, { startedAt: at, endedAt: null, error: null });
      await this.moveBlock(context, group, { type: "fail", retryable: false, attemptsLeft: 0 }, { endedAt: at, error: group.error });
      return;
    }
    await this.options.store.addBlockRuns(context.runId, names);
    names.forEach((name, i) => {
      const existing = slots.get(name);
      if (existing) {
        existing.item = items[i];
        return;
      }
      slots.set(name, { spec: instanceSpec(spec, name), state: "pending", attempt: 0, attemptBase: 0, pokes: 0, rows: null, durationMs: null, item: items[i] });
    });
    const current = new Set(names);
    for (const slot of slots.values()) {
      if (slot.state !== "pending" || slot.spec.instanceOf !== spec.name || current.has(slot.spec.name)) continue;
      slot.error = { code: "skipped", kind: "user", message: `no longer a row of dynamic block ${parent.name}` };
      await this.moveBlock(context, slot, { type: "skip" }, { endedAt: this.now().toISOString(), error: slot.error });
    }
    group.instances = names;
    this.log(context.runId, spec.name, group.attempt, {
      at: this.now().toISOString(),
      level: "info",
      message: `${names.length} instance(s) from dynamic block ${parent.name}${names.length > 0 ? `: ${names.slice(0, 5).join(", ")}${names.length > 5 ? ", …" : ""}` : ""}`,
    });
  }

  private async readRows(output: OutputRecord, limit: number): Promise<Record<string, unknown>[]> {
    const reader = this.options.rows ?? (isRowReader(this.options.outputs) ? this.options.outputs : undefined);
    if (!reader) throw new UserError("no_output_reader", "this runner cannot read outputs back (dynamic blocks and SQL conditions need the output store)");
    if (limit <= 0) return [];
    return (await reader.readPage(output.ref, 0, limit)).rows;
  }

  /** A condition's value: a TypeScript condition returns it; a SQL one returns one boolean cell. */
  private async conditionValue(spec: BlockSpec, result: BlockRunResult): Promise<boolean> {
    if (typeof result.sensorResult === "boolean") return result.sensorResult;
    if (result.output === null) throw new UserError("bad_condition", `condition ${spec.name} returned nothing; a condition returns a boolean`, { block: spec.name });
    return conditionValueFromRows(spec.name, await this.readRows(result.output, 2));
  }

  /** Every block that never ran ends as cancelled (run cancelled) or upstream_failed (an upstream failed). */
  private async finishLeftovers(context: RunContext, slots: Map<string, BlockSlot>, how: "cancel" | "upstream_failed") {
    for (const slot of slots.values()) {
      if (slot.state === "pending" || slot.state === "queued" || slot.state === "up_for_retry") {
        await this.moveBlock(context, slot, { type: how });
      } else if (slot.state === "running" && slot.nextPokeAt !== undefined) {
        // A rescheduled sensor between checks: nothing of it is running, and a run that ends this way was cancelled.
        slot.nextPokeAt = undefined;
        slot.error = { code: "cancelled", kind: "user", message: "run cancelled" };
        await this.moveBlock(context, slot, { type: "cancel" }, { endedAt: this.now().toISOString(), error: slot.error });
      }
    }
  }

  /**
   * Runs a block's attempts until it succeeds, fails for good or is skipped. `resumed`: a rescheduled sensor's
   * next check within the attempt it already started (it stayed `running`).
   */
  private async runBlock(context: RunContext, slot: BlockSlot, slots: Map<string, BlockSlot>, resumed = false): Promise<void> {
    const { spec } = slot;
    for (let first = true; ; first = false) {
      let startedAt: Date;
      if (first && resumed && slot.sensorStartedAt) {
        startedAt = slot.sensorStartedAt;
      } else {
        slot.attempt += 1;
        startedAt = this.now();
        if (spec.type === "sensor") {
          slot.sensorStartedAt = startedAt;
          slot.sensorPokesBase = slot.pokes;
        }
        await this.moveBlock(context, slot, { type: "start" }, { startedAt: startedAt.toISOString(), endedAt: null, error: null });
      }
      const controller = new AbortController();
      const onRunAbort = () => controller.abort(context.signal.reason);
      context.signal.addEventListener("abort", onRunAbort, { once: true });
      try {
        const result =
          spec.type === "sensor"
            ? await this.pokeUntilMet(context, slot, slots, startedAt, controller.signal)
            : await this.executeOnce(context, slot, slots, spec.timeoutMs ?? this.options.defaultTimeoutMs, controller.signal);
        if (typeof result === "object" && "rescheduleAt" in result) {
          // Stays `running` without a slot; the run loop queues its next check.
          slot.nextPokeAt = result.rescheduleAt;
          return;
        }
        slot.sensorStartedAt = undefined;
        slot.durationMs = this.now().getTime() - startedAt.getTime();
        const endedAt = this.now().toISOString();
        if (result === "soft_timeout") {
          slot.error = { code: "skipped", kind: "user", message: `sensor ${spec.name} timed out with soft_fail: true` };
          await this.moveBlock(context, slot, { type: "skip" }, { endedAt, durationMs: slot.durationMs, error: slot.error });
          await this.recordAttempt(context, slot, startedAt.toISOString(), endedAt);
          return;
        }
        if (spec.type === "condition") {
          slot.conditionValue = await this.conditionValue(spec, result);
          this.log(context.runId, spec.name, slot.attempt, { at: endedAt, level: "info", message: `condition ${spec.name} is ${slot.conditionValue}` });
        }
        slot.result = result;
        slot.rows = result.output?.summary.rows ?? null;
        // Earlier attempts' errors stay in the attempt history; the block run itself succeeded.
        slot.error = undefined;
        await this.moveBlock(context, slot, { type: "succeed" }, { endedAt, output: result.output, rows: slot.rows, durationMs: slot.durationMs, writes: result.writes ?? null, tests: result.tests ?? null });
        await this.recordAttempt(context, slot, startedAt.toISOString(), endedAt);
        return;
      } catch (error) {
        slot.sensorStartedAt = undefined;
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
    let block = spec;
    let inputs: BlockInput[];
    let sql: string | undefined;
    if (slot.instances !== undefined) {
      // A group: its instances have all succeeded. Without `reduce` it only orders what follows; with it, their
      // outputs are gathered into one table by a DuckDB query in the run database (where the executor keeps outputs).
      inputs = slot.instances.flatMap((name) => {
        const output = slots.get(name)?.result?.output;
        return output ? [{ name, output, ipc: slots.get(name)?.result?.ipc }] : [];
      });
      if (spec.reduce !== true || inputs.length === 0) return Promise.resolve({ output: null });
      block = { ...spec, type: "transformer", language: "sql", upstream: inputs.map((input) => input.name), connection: null, memoryBytes: undefined };
      sql = reduceSql(block.upstream);
    } else {
      inputs = this.inputsOf(context, spec, slots);
    }
    return this.options.executor.execute({
      runId: context.runId,
      pipelineName: context.pipeline.name,
      pipelineDir: context.dir,
      projectDir: this.options.projectDir,
      block,
      inputs,
      ...(slot.item !== undefined ? { item: slot.item } : {}),
      ...(sql !== undefined ? { sql } : {}),
      variables: context.variables,
      logicalDate: context.logicalDate,
      dataInterval: context.dataInterval,
      attempt: slot.attempt,
      timeoutMs,
      signal,
      outputs: this.options.outputs,
      ...(this.options.store.listRuns ? { findRun: (query: RunLookupQuery) => this.findRun(query) } : {}),
      onLog: (line) => this.log(context.runId, spec.name, slot.attempt, line),
      onProgress: (progress) => this.emit({ type: "progress", runId: context.runId, block: spec.name, progress }),
    });
  }

  /**
   * `ctx.runs.latest`: the newest run of a pipeline for a logical date, among its newest runs (the store's
   * page limit): a sensor asks about a recent date, not about one a thousand runs back.
   */
  private async findRun(query: RunLookupQuery): Promise<RunLookupAnswer> {
    const listRuns = this.options.store.listRuns;
    if (!listRuns) throw new UserError("runs_unavailable", "ctx.runs needs a runner with run records");
    const runs = await listRuns.call(this.options.store, { pipeline: query.pipeline, ...(query.state ? { state: query.state } : {}), limit: 1000 });
    return latestMatchingRun(runs, query);
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
   * With `mode: reschedule` it does not wait: after a false poke it returns when its next poke is due, and the
   * run loop gives its parallel slot to other blocks meanwhile; `startedAt` is the attempt's, so the timeout
   * still covers all pokes.
   *
   * @returns the true poke's result, `soft_timeout` when time ran out and the sensor has `softFail`, or when
   *   a rescheduled sensor's next poke is due.
   * @throws UserError `sensor_timeout` when time ran out, naming how long and how often it poked.
   */
  private async pokeUntilMet(
    context: RunContext,
    slot: BlockSlot,
    slots: Map<string, BlockSlot>,
    startedAt: Date,
    signal: AbortSignal,
  ): Promise<BlockRunResult | SensorPause> {
    const { spec } = slot;
    const timeoutMs = spec.timeoutMs ?? this.options.defaultTimeoutMs;
    const intervalMs = spec.pokeIntervalMs ?? DEFAULT_POKE_INTERVAL_MS;
    const deadline = startedAt.getTime() + timeoutMs;
    for (;;) {
      // One poke may take the time left, but never less than a second nor more than any block may.
      const pokeTimeout = Math.min(this.options.defaultTimeoutMs, Math.max(1000, deadline - this.now().getTime()));
      const result = await this.executeOnce(context, slot, slots, pokeTimeout, signal);
      if (result.sensorResult !== false) return result;
      slot.pokes += 1;
      const at = this.now();
      await this.options.store.updateBlockRun(context.runId, spec.name, { state: slot.state, pokes: slot.pokes, lastPokeAt: at.toISOString() });
      const left = deadline - at.getTime();
      if (left <= 0) {
        const waited = ((at.getTime() - startedAt.getTime()) / 1000).toFixed(1);
        const message = `sensor "${spec.name}" poked ${slot.pokes - (slot.sensorPokesBase ?? 0)} time(s) over ${waited} s (timeout ${formatDuration(timeoutMs)}) and its condition never held`;
        this.log(context.runId, spec.name, slot.attempt, { at: at.toISOString(), level: spec.softFail ? "warn" : "error", message: spec.softFail ? `${message}; soft_fail: skipped` : message });
        if (spec.softFail) return "soft_timeout";
        throw new UserError("sensor_timeout", message, { block: spec.name });
      }
      const wait = Math.min(intervalMs, left);
      const reschedule = spec.mode === "reschedule";
      this.log(context.runId, spec.name, slot.attempt, {
        at: at.toISOString(),
        level: "info",
        message: `poke ${slot.pokes}: condition not met; next poke in ${formatDuration(wait)}${reschedule ? " (slot released until then)" : ""}`,
      });
      if (reschedule) return { rescheduleAt: at.getTime() + wait };
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
      // A skipped block (and a group whose instance failed) carries why, which the notebook shows on its cell.
      error: slot.state === "failed" || slot.state === "up_for_retry" || slot.state === "skipped" || slot.state === "upstream_failed" ? slot.error : undefined,
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

function isRowReader(value: unknown): value is OutputRowReader {
  return typeof value === "object" && value !== null && typeof (value as Partial<OutputRowReader>).readPage === "function";
}

/**
 * The state of a run whose block runs have all finished, from its leaves (Airflow): a leaf is a block run
 * nothing else in the run depends on — a group's instances feed their group, conditions the blocks they gate.
 * A block run left unfinished (a bug) keeps the run `running`, which the caller reports.
 */
function finalRunState(slots: Map<string, BlockSlot>): RunState {
  const states = [...slots.values()];
  if (states.some((s) => !isTerminalBlockRunState(s.state))) return "running";
  const feeding = new Set<string>();
  for (const slot of states) for (const dep of [...(slot.instances ?? []), ...dependenciesOf(slot.spec)]) feeding.add(dep);
  return runStateFromLeaves(states.map((s) => ({ state: s.state, leaf: !feeding.has(s.spec.name) })));
}
