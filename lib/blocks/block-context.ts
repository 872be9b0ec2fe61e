/**
 * Builds the `BlockContext` a TypeScript block receives (lib/sdk), inside its block process. The context
 * talks to the server only through the callbacks given here, so it can be unit-tested without a process.
 */
import { format } from "node:util";
import type { Table } from "apache-arrow";
import { UserError } from "../core/errors";
import type { BlockWrite, LogLine, Progress, RunLookupAnswer, RunLookupQuery } from "../core/execution";
import { parseRunQuery } from "../core/run-lookup";
import type { BlockContext, BlockIO, BlockLogger, RunQuery, SqlParam } from "../sdk";
import type { RunBlockJob } from "./worker-protocol";
import { recordWrites } from "./write-recorder";

/** How the context reaches the server; the block process implements it with messages. */
export interface ContextChannel {
  log(level: LogLine["level"], message: string): void;
  progress(progress: Progress): void;
  /** Runs DuckDB SQL in the server and decodes the result here. */
  sql(query: string, params: SqlParam[]): Promise<Table>;
  env(name: string): string | undefined;
  /** The connectors of `sluice.yaml` (`ctx.io`), built in the block process. */
  io: BlockIO;
  /** `ctx.runs.latest`, asked of the server. */
  runs(query: RunLookupQuery): Promise<RunLookupAnswer>;
  /** Hears every successful `ctx.io` write (what an exporter reports instead of an output). */
  onWrite?(write: BlockWrite): void;
}

/** Formats log arguments the way console.log does (`%s`, objects inspected). */
export function formatLogArgs(args: unknown[]): string {
  return format(...args);
}

function isSqlParam(value: unknown): value is SqlParam {
  return (
    value === null ||
    typeof value === "string" ||
    typeof value === "number" ||
    typeof value === "boolean" ||
    typeof value === "bigint" ||
    value instanceof Date
  );
}

/**
 * @param inputs upstream tables by name, decoded lazily: a block that never touches `ctx.inputs.x` never
 * pays for decoding a persisted Parquet upstream.
 */
export function buildBlockContext(job: RunBlockJob, inputs: ReadonlyMap<string, () => Table>, signal: AbortSignal, channel: ContextChannel): BlockContext {
  const log: BlockLogger = {
    debug: (...args) => channel.log("debug", formatLogArgs(args)),
    info: (...args) => channel.log("info", formatLogArgs(args)),
    warn: (...args) => channel.log("warn", formatLogArgs(args)),
    error: (...args) => channel.log("error", formatLogArgs(args)),
  };
  const inputView: Record<string, Table> = {};
  for (const [name, get] of inputs) {
    Object.defineProperty(inputView, name, { enumerable: true, get });
  }
  Object.freeze(inputView);
  return {
    runId: job.runId,
    pipeline: job.pipeline,
    block: job.block,
    attempt: job.attempt,
    logicalDate: new Date(job.logicalDate),
    dataInterval: { start: new Date(job.dataInterval.start), end: new Date(job.dataInterval.end) },
    variables: job.variables,
    item: job.item,
    env: (name) => channel.env(name),
    log,
    signal,
    inputs: inputView,
    progress: (progress) => channel.progress({ ...progress }),
    sql: async (query, params = []) => {
      if (typeof query !== "string") throw new TypeError("ctx.sql(query, params?): query must be a string");
      const list = [...params];
      const bad = list.findIndex((value) => !isSqlParam(value));
      if (bad >= 0) throw new TypeError(`ctx.sql: parameter $${bad + 1} must be a string, number, boolean, bigint, Date or null`);
      return channel.sql(query, list);
    },
    upstream: (name) => {
      const input = job.inputs.find((i) => i.name === name);
      if (input === undefined) {
        const names = job.inputs.map((i) => i.name);
        throw new UserError(
          "unknown_upstream",
          `ctx.upstream("${String(name)}"): not an upstream of block ${job.block} with an output (${names.length > 0 ? `it has ${names.join(", ")}` : "it has none"})`,
          { block: job.block },
        );
      }
      return Object.freeze({ kind: "upstream" as const, name: input.name, path: input.path, format: input.format });
    },
    io: channel.onWrite ? recordWrites(channel.io, (write) => channel.onWrite?.(write)) : channel.io,
    runs: Object.freeze({
      latest: async (query: RunQuery) => {
        const found = await channel.runs(parseRunQuery(query, job.logicalDate));
        return found && { id: found.id, state: found.state, logicalDate: new Date(found.logicalDate) };
      },
    }),
  };
}
