/**
 * What travels between the queue executor (the process that runs the Runner) and `sluice worker` processes
 * through Redis: the BullMQ job payload, the job's return value, the messages streamed back
 * over pub/sub (logs, progress, "started") and the control messages (cancel, end of run).
 *
 * Everything is validated with zod on the receiving side: a worker from another version, a
 * hand-made job or a corrupted message fails with a precise error instead of running half a block.
 *
 * Paths: outputs live under `<outputsDir>/<runId>/<block>.<format>` on every machine, but the shared
 * directory may be mounted at different places. Output records are therefore re-rooted on arrival
 * (`relocateOutput`) instead of trusting the sender's absolute path.
 */
import path from "node:path";
import { z } from "zod";
import { OperationalError, UnexpectedError, UserError, isSluiceError, type ErrorLocation } from "../core/errors";
import { BLOCK_LANGUAGES, BLOCK_TYPES, type BlockSpec, type VariableValue } from "../core/model";
import type { OutputRecord } from "../core/output-types";
import type { LogLine, Progress } from "./types";

/** Bumped when the payload changes incompatibly; a worker refuses jobs of another version. */
export const QUEUE_PROTOCOL_VERSION = 1;

/** BullMQ's key prefix when none is configured: every Sluice key in Redis starts with it. */
export const DEFAULT_QUEUE_PREFIX = "sluice";

/** The queue of blocks that name none (`block.queue`). */
export const DEFAULT_QUEUE = "default";

/** Queue names become Redis key parts: BullMQ forbids `:`, Sluice keeps them to a safe alphabet. */
export const QUEUE_NAME_PATTERN = /^[A-Za-z0-9_-]{1,100}$/;

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
/** `ColumnHistogram` of output-types.ts. */
const histogramSchema = z.object({ kind: z.enum(["number", "time"]), edges: z.array(z.number()), counts: z.array(z.number()) });

const variableValueSchema: z.ZodType<VariableValue> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(variableValueSchema), z.record(z.string(), variableValueSchema)]),
);

/** An `OutputRecord` (lib/core/output-types.ts). */
export const outputRecordSchema = z.object({
  ref: z.object({ runId: z.string(), block: z.string(), format: z.enum(["arrow", "parquet"]), path: z.string() }),
  summary: z.object({
    rows: z.number(),
    bytes: z.number(),
    columns: z.array(z.object({ name: z.string(), type: z.string(), nulls: z.number(), min: scalar, max: scalar, distinct: z.number(), histogram: histogramSchema.optional() })),
  }),
});

const blockSpecSchema = z.object({
  /** A block name, or a dynamic instance's (`child[0]`, `child[2020-10]`). */
  name: z.string().regex(/^[a-z0-9_]+(\[[A-Za-z0-9_-]{1,100}\])?$/),
  type: z.enum(BLOCK_TYPES),
  language: z.enum(BLOCK_LANGUAGES),
  upstream: z.array(z.string()),
  retries: z.object({ count: z.number(), delayMs: z.number(), backoff: z.enum(["constant", "exponential"]), maxDelayMs: z.number() }),
  timeoutMs: z.number().nullable(),
  connection: z.string().nullable(),
  queue: z.string().nullable(),
  /** The block's `memory:` limit, enforced by the worker's block process. */
  memoryBytes: z.number().int().positive().optional(),
  /** A dynamic instance: the declared block whose code file it runs. */
  instanceOf: z.string().regex(/^[a-z0-9_]+$/).optional(),
}) satisfies z.ZodType<BlockSpec>;

/** The data of one BullMQ job: one attempt of one block run. */
export const blockJobSchema = z.object({
  v: z.literal(QUEUE_PROTOCOL_VERSION),
  runId: z.string().regex(/^[A-Za-z0-9_-]+$/),
  pipelineName: z.string(),
  /** Relative to the project directory when the pipeline lives inside it (the usual case), else absolute. */
  pipelineDir: z.string(),
  block: blockSpecSchema,
  inputs: z.array(z.object({ name: z.string(), output: outputRecordSchema })),
  variables: z.record(z.string(), variableValueSchema),
  logicalDate: z.string(),
  dataInterval: z.object({ start: z.string(), end: z.string() }),
  attempt: z.number().int().min(1),
  timeoutMs: z.number().min(0),
  /** A dynamic instance's row (`ctx.item`, `{{ item.x }}`). */
  item: z.record(z.string(), z.unknown()).optional(),
  /** A SQL block run whose query is given instead of its file (the reduce of dynamic instances). */
  sql: z.string().optional(),
  /** Pub/sub channel of the executor that enqueued the job: logs, progress and "started" go there. */
  replyChannel: z.string(),
  /** `Date.now()` of the executor when it enqueued the job (enqueue → start latency). */
  enqueuedAt: z.number(),
});
export type BlockJob = z.infer<typeof blockJobSchema>;

/** A failure as it crosses processes: `plain` is an Error thrown by block code (retryable by policy). */
export const remoteErrorSchema = z.object({
  kind: z.enum(["user", "operational", "unexpected", "plain"]),
  code: z.string().optional(),
  name: z.string().optional(),
  message: z.string(),
  stack: z.string().optional(),
  location: z
    .object({ file: z.string().optional(), path: z.string().optional(), line: z.number().optional(), column: z.number().optional(), block: z.string().optional() })
    .optional(),
});
export type RemoteError = z.infer<typeof remoteErrorSchema>;

const jobTimingSchema = z.object({
  workerId: z.string(),
  /** `Date.now()` on the worker when the block started / ended. */
  startedAt: z.number(),
  endedAt: z.number(),
  /** How many times BullMQ handed this job to a worker (2+ after a worker was lost mid-block). */
  delivery: z.number(),
});

/**
 * The job's return value. Block failures are results, not thrown errors, so their kind and code survive
 * the trip (a thrown error would reach the executor as BullMQ's `failedReason` text only).
 */
export const blockJobResultSchema = z.discriminatedUnion("ok", [
  jobTimingSchema.extend({
    ok: z.literal(true),
    output: outputRecordSchema.nullable(),
    sensorResult: z.boolean().optional(),
    /** The block's `ctx.io` writes and data test, as `BlockRunResult` carries them. */
    writes: z.array(z.object({ connector: z.string(), location: z.string(), rows: z.number(), bytes: z.number().optional() })).optional(),
    tests: z.object({ passed: z.number(), failed: z.string().optional() }).optional(),
  }),
  jobTimingSchema.extend({ ok: z.literal(false), error: remoteErrorSchema }),
]);
export type BlockJobResult = z.infer<typeof blockJobResultSchema>;

const logLineSchema = z.object({ at: z.string(), level: z.enum(["debug", "info", "warn", "error"]), message: z.string() });
const progressSchema = z.object({
  rows: z.number().optional(),
  bytes: z.number().optional(),
  totalBytes: z.number().optional(),
  message: z.string().optional(),
});

/** Worker → executor, on the job's reply channel. */
export const replyMessageSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("started"), jobId: z.string(), workerId: z.string(), host: z.string(), pid: z.number(), delivery: z.number(), at: z.number() }),
  z.object({ type: z.literal("log"), jobId: z.string(), line: logLineSchema }),
  z.object({ type: z.literal("progress"), jobId: z.string(), progress: progressSchema }),
]);
export type ReplyMessage = z.infer<typeof replyMessageSchema>;

/** Executor → every worker, on the control channel. */
export const controlMessageSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("cancel"), jobId: z.string(), reason: z.string() }),
  z.object({ type: z.literal("end_run"), runId: z.string() }),
]);
export type ControlMessage = z.infer<typeof controlMessageSchema>;

/**
 * Why an executor withdrew a job, the value of its `cancelled` marker. A worker skips a marked job either
 * way; only a run's cancel means its block run ends `cancelled` (a lost worker's attempt ends failed).
 */
export type WithdrawReason = "cancelled" | "worker_lost" | "timeout";
export const CANCELLED_BY_RUN: WithdrawReason = "cancelled";

/** Redis names derived from the prefix, in one place so that executor, worker and workers page agree. */
export function queueKeys(prefix: string) {
  return {
    control: `${prefix}:sluice:control`,
    reply: (executorId: string) => `${prefix}:sluice:reply:${executorId}`,
    cancelled: (jobId: string) => `${prefix}:sluice:cancelled:${jobId}`,
    /** The worker that started a job (no lock-like expiry: it must outlive a Redis outage). */
    claim: (jobId: string) => `${prefix}:sluice:claim:${jobId}`,
    /** A job's result, written by its worker before BullMQ completes the job: a later delivery returns it. */
    result: (jobId: string) => `${prefix}:sluice:result:${jobId}`,
    workers: `${prefix}:sluice:workers`,
    worker: (workerId: string) => `${prefix}:sluice:worker:${workerId}`,
  };
}

/**
 * One job per block run attempt: re-enqueueing the same attempt (an executor that restarts, a retried
 * `add` after a Redis blip) finds the existing job instead of running the block twice. BullMQ allows `:`
 * in custom ids only as exactly three parts, which this is (run ids and block names contain no `:`).
 */
export function blockJobId(runId: string, block: string, attempt: number): string {
  return `${runId}:${block}:${attempt}`;
}

/** The queue a block is routed to. @throws UserError `invalid_queue` for a name Redis keys cannot carry. */
export function queueOf(block: Pick<BlockSpec, "name" | "queue">): string {
  const name = block.queue ?? DEFAULT_QUEUE;
  if (!QUEUE_NAME_PATTERN.test(name)) {
    throw new UserError("invalid_queue", `block ${block.name}: queue ${JSON.stringify(name)} may use letters, digits, _ and - only`, { block: block.name });
  }
  return name;
}

/** The same output, located under `outputsDir` (this machine's mount of the shared output store). */
export function relocateOutput(output: OutputRecord, outputsDir: string): OutputRecord {
  const { runId, block, format } = output.ref;
  return { ref: { runId, block, format, path: path.join(outputsDir, runId, `${block}.${format}`) }, summary: output.summary };
}

/** `pipelineDir` as sent: relative to the project when inside it, so machines may mount the project elsewhere. */
export function portablePipelineDir(pipelineDir: string, projectDir: string): string {
  const rel = path.relative(projectDir, pipelineDir);
  return rel.startsWith("..") || path.isAbsolute(rel) ? pipelineDir : rel;
}

/** Serialises whatever a block run threw, keeping what decides retries (kind) and what is shown (code, stack). */
export function toRemoteError(error: unknown): RemoteError {
  if (isSluiceError(error)) {
    return { kind: error.kind, code: error.code, name: error.name, message: error.message, stack: error.stack, location: error.location };
  }
  if (error instanceof Error) {
    const code: unknown = "code" in error ? error.code : undefined;
    return { kind: "plain", code: typeof code === "string" ? code : undefined, name: error.name, message: error.message, stack: error.stack };
  }
  return { kind: "plain", message: String(error) };
}

/** The error to throw on the executor's side: same class, code, message, location and the worker's stack. */
export function fromRemoteError(remote: RemoteError): Error {
  const location: ErrorLocation = remote.location ?? {};
  let error: Error;
  switch (remote.kind) {
    case "user":
      error = new UserError(remote.code ?? "block_error", remote.message, location);
      break;
    case "operational":
      error = new OperationalError(remote.code ?? "operational_error", remote.message, location);
      break;
    case "unexpected":
      error = new UnexpectedError(remote.code ?? "unexpected_error", remote.message, location);
      break;
    case "plain": {
      const plain = new RemoteBlockError(remote.message, remote.code);
      if (remote.name) plain.name = remote.name;
      error = plain;
      break;
    }
  }
  if (remote.stack) error.stack = remote.stack;
  return error;
}

/** An Error thrown by block code on a worker, rebuilt here; keeps its `code` when it had one. */
export class RemoteBlockError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** Narrows pub/sub text to a reply message; null when it is not one (logged by the caller, never thrown). */
export function parseReplyMessage(text: string): ReplyMessage | null {
  const parsed = replyMessageSchema.safeParse(safeJson(text));
  return parsed.success ? parsed.data : null;
}

/** Narrows pub/sub text to a control message; null when it is not one. */
export function parseControlMessage(text: string): ControlMessage | null {
  const parsed = controlMessageSchema.safeParse(safeJson(text));
  return parsed.success ? parsed.data : null;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Re-exported for workers: the line and progress shapes of `BlockRunRequest` callbacks. */
export type { LogLine, Progress };
