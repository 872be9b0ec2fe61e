/**
 * Callback files (`on_success: [notify_team]` runs `notify_team.ts` from the pipeline folder): compiled like
 * a block (esbuild, cached by content) and called with a `CallbackContext` in this process once the run
 * ended (or a block attempt failed, for `on_retry`).
 *
 * In this process rather than a block process: a callback runs after the run released its blocks' slots and
 * the executor's run state (with the queue executor there may be no block process here at all), and what it
 * does is small (post a message, call an API). The price is that a callback that never settles cannot be
 * killed: at its timeout it is abandoned and reported, and the run's state is never touched by it.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { compileBlock } from "../blocks/compile-block";
import { formatLogArgs } from "../blocks/block-context";
import { messageOf } from "../core/errors";
import type { LogLine } from "../core/execution";
import type { Variables } from "../core/model";
import type { BlockLogger, CallbackContext } from "../sdk";

export type CallbackEvent = CallbackContext["event"];

export interface CallbackRunnerOptions {
  projectDir: string;
  /** Where compiled callbacks are cached (the block compiler's cache). */
  cacheDir: string;
  /** `ctx.env` of callbacks. */
  env: Readonly<Record<string, string | undefined>>;
  /** The run's log, where `ctx.log` lines and a callback's failure go. */
  appendLog: (runId: string, name: string, line: LogLine) => void;
  /** Default 60 s. */
  timeoutMs?: number;
}

/** What a callback is called with, besides what the runner fills in. */
export interface CallbackCall {
  event: CallbackEvent;
  name: string;
  /** The pipeline folder (holds `<name>.ts`). */
  dir: string;
  run: CallbackContext["run"];
  error: CallbackContext["error"];
  variables: Variables;
}

const LOG_PREFIX: Record<CallbackEvent, string> = { success: "on_success", failure: "on_failure", retry: "on_retry" };

/** Runs callback files; never throws: a failing callback is logged and that is all. */
export class CallbackRunner {
  constructor(private readonly options: CallbackRunnerOptions) {}

  /** Resolves with the error message when the callback failed, else null. */
  async run(call: CallbackCall): Promise<string | null> {
    const logName = `${LOG_PREFIX[call.event]}-${call.name}`;
    const write = (level: LogLine["level"], message: string): void => {
      try {
        this.options.appendLog(call.run.id, logName, { at: new Date().toISOString(), level, message });
      } catch {
        // A log that cannot be written must not turn into the callback's failure.
      }
    };
    const timeoutMs = this.options.timeoutMs ?? 60_000;
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    try {
      const main = await this.load(call);
      const log: BlockLogger = {
        debug: (...args) => write("debug", formatLogArgs(args)),
        info: (...args) => write("info", formatLogArgs(args)),
        warn: (...args) => write("warn", formatLogArgs(args)),
        error: (...args) => write("error", formatLogArgs(args)),
      };
      const env = this.options.env;
      const ctx: CallbackContext = {
        event: call.event,
        run: call.run,
        error: call.error,
        variables: call.variables,
        env: (name) => env[name],
        log,
        signal: controller.signal,
      };
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          controller.abort(new Error(`timed out after ${timeoutMs} ms`));
          reject(new Error(`timed out after ${timeoutMs} ms (abandoned)`));
        }, timeoutMs);
      });
      await Promise.race([Promise.resolve().then(() => main(ctx)), timeout]);
      return null;
    } catch (error) {
      const message = `callback ${call.name}.ts failed: ${messageOf(error)}`;
      write("error", message);
      return message;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The callback's default export, compiled (cached) and loaded with the callback file's own `require`. */
  private async load(call: CallbackCall): Promise<(ctx: CallbackContext) => unknown> {
    const file = join(call.dir, `${call.name}.ts`);
    const compiled = await compileBlock(file, { cacheDir: this.options.cacheDir, displayRoot: this.options.projectDir, block: call.name });
    const factory: unknown = createRequire(compiled)(compiled);
    if (typeof factory !== "function") throw new Error(`compiled callback ${compiled} is not a block factory`);
    const module: { exports: Record<string, unknown> } = { exports: {} };
    factory(createRequire(file), module, module.exports, file, dirname(file));
    const main = module.exports.default;
    if (typeof main !== "function") throw new Error(`${call.name}.ts has no default export function (export default async function (ctx: CallbackContext) { … })`);
    return main as (ctx: CallbackContext) => unknown;
  }
}
