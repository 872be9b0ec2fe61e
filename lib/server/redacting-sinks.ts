/**
 * Secrets stay out of every sink by decorating the sinks once, here, rather than by redaction calls spread
 * over the runner: what a block sends back (log lines, progress, errors) is redacted where it enters this
 * process (`redactingExecutor`), and what the runner writes to the metadata database is redacted on the way
 * in (`redactingStore`). The log files and the event bus (SSE, the CLI) redact on their own side too, so a
 * line that reaches them some other way is covered as well (see `createServices`).
 *
 * Output tables are data and are not redacted.
 */
import type { Pipeline, Variables } from "../core/model";
import { secretPlaceholder } from "../core/secret-variables";
import type { BlockRunRequest, RunScopedExecutor } from "../executors/types";
import type { Redactor } from "../io/redact";
import type { BlockRunError, CreateRunInput, RunStore } from "../store/metadata/run-store";

/**
 * Which variables of each pipeline are secret, as last read from its `pipeline.yaml`. Names are only ever
 * added: a variable dropped from `secret_variables:` while a run reads the file stays hidden, which errs on
 * the safe side.
 */
export class SecretVariables {
  private readonly byPipeline = new Map<string, Set<string>>();

  constructor(private readonly redactor: Redactor) {}

  /** Learns a pipeline's secret variables and hides their default values. */
  learn(pipeline: Pipeline): void {
    const names = this.byPipeline.get(pipeline.name) ?? new Set<string>();
    for (const name of pipeline.secretVariables ?? []) {
      names.add(name);
      this.registerValue(pipeline.variables[name], name);
    }
    this.byPipeline.set(pipeline.name, names);
  }

  /**
   * The variables a run records: every secret one replaced by `[secret:NAME]` (whatever its length: a short
   * secret cannot be hidden in free text, but the run record never holds it), every other value redacted.
   * The actual values are registered first, so the run's logs and errors hide them too.
   */
  forRecord(pipeline: string, variables: Variables): Variables {
    const secret = this.byPipeline.get(pipeline) ?? new Set<string>();
    for (const name of secret) this.registerValue(variables[name], name);
    const recorded: Variables = {};
    for (const [name, value] of Object.entries(variables)) {
      recorded[name] = secret.has(name) ? secretPlaceholder(name) : this.redactor.redactValue(value);
    }
    return recorded;
  }

  private registerValue(value: unknown, name: string): void {
    if (typeof value === "string") this.redactor.register(value, name);
    else if (typeof value === "number" || typeof value === "boolean") this.redactor.register(String(value), name);
    else if (Array.isArray(value)) for (const item of value) this.registerValue(item, name);
    else if (typeof value === "object" && value !== null) for (const item of Object.values(value)) this.registerValue(item, name);
  }
}

/** Only these members of a target are replaced; everything else (present or added later) passes through. */
function decorate<T extends object>(target: T, overrides: Partial<T>): T {
  return new Proxy(target, {
    get(object, key) {
      if (Object.prototype.hasOwnProperty.call(overrides, key)) return Reflect.get(overrides, key);
      const value: unknown = Reflect.get(object, key, object);
      return typeof value === "function" ? value.bind(object) : value;
    },
  });
}

/**
 * The executor with block text redacted where it comes back: log lines, progress messages, and the thrown
 * error's message and stack (rewritten in place, so its class — and the retry decision made from it — stays).
 */
export function redactingExecutor<E extends RunScopedExecutor>(executor: E, redactor: Redactor): E {
  const overrides: Partial<RunScopedExecutor> = {
    async execute(request: BlockRunRequest) {
      try {
        return await executor.execute({
          ...request,
          onLog: (line) => request.onLog({ ...line, message: redactor.redact(line.message) }),
          onProgress: (progress) =>
            request.onProgress(progress.message === undefined ? progress : { ...progress, message: redactor.redact(progress.message) }),
        });
      } catch (error) {
        throw redactor.redactError(error);
      }
    },
  };
  return decorate<E>(executor, overrides as Partial<E>);
}

function redactStoredError(error: BlockRunError | null | undefined, redactor: Redactor): BlockRunError | null | undefined {
  if (error === null || error === undefined) return error;
  return { ...error, message: redactor.redact(error.message), ...(error.stack === undefined ? {} : { stack: redactor.redact(error.stack) }) };
}

/**
 * The metadata store with what the runner writes redacted: run variables (secret ones masked by name), run
 * errors, block-run errors and attempt errors. Reads are untouched: what was written is already clean.
 */
export function redactingStore<S extends RunStore>(store: S, redactor: Redactor, secrets: SecretVariables): S {
  const overrides: Partial<RunStore> = {
    createRun: (input: CreateRunInput) => store.createRun({ ...input, variables: secrets.forRecord(input.pipeline, input.variables) }),
    updateRunState: (id, state, patch) =>
      store.updateRunState(id, state, patch.error === undefined || patch.error === null ? patch : { ...patch, error: redactor.redact(patch.error) }),
    updateBlockRun: (runId, block, patch) =>
      store.updateBlockRun(runId, block, {
        ...patch,
        ...(patch.error === undefined ? {} : { error: redactStoredError(patch.error, redactor) ?? null }),
        // Connectors keep credentials out of a write's location; a secret that slipped into a path stays out of the store too.
        ...(patch.writes ? { writes: patch.writes.map((write) => ({ ...write, location: redactor.redact(write.location) })) } : {}),
      }),
    recordAttempt: (attempt) => store.recordAttempt({ ...attempt, error: redactStoredError(attempt.error, redactor) ?? null }),
  };
  return decorate<S>(store, overrides as Partial<S>);
}
