/**
 * `RunStore` written once with Kysely, for every SQL dialect Sluice supports (DESIGN §6): the embedded
 * SQLite store (`sqlite-run-store.ts`) and, later, PostgreSQL through `pg`. Queries stay within what both
 * dialects share: ISO-text times, JSON as text, `ON CONFLICT … DO UPDATE`, `UPDATE … RETURNING`.
 */
import { type Kysely, type Transaction, type Updateable } from "kysely";
import { z } from "zod";
import { UnexpectedError, UserError } from "../../core/errors";
import type { RunMode, RunTrigger, Variables } from "../../core/model";
import { BLOCK_RUN_STATES, RUN_STATES, isTerminalRunState, type BlockRunState, type RunState } from "../../core/run-model";
import type { OutputRecord } from "../output-types";
import { newSortableId } from "./ids";
import type {
  BlockAttempt,
  BlockRun,
  BlockRunError,
  BlockRunPatch,
  CreateRunInput,
  ListRunsFilter,
  Run,
  RunStatePatch,
  MetadataStore,
  RunWithBlockRuns,
} from "./run-store";
import type { BlockRunsTable, MetadataDatabase, RunsTable } from "./schema";
import { KyselyTriggerStore, type TriggerStore } from "./trigger-store";

const RUN_ID = /^[A-Za-z0-9_-]{1,200}$/;
const RUN_TRIGGERS: readonly RunTrigger[] = ["manual", "schedule", "api", "backfill"];
const RUN_MODES: readonly RunMode[] = ["pipeline", "block", "with_upstream", "from"];
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1000;
/** Rows per multi-row INSERT: far below SQLite's bound-parameter limit whatever the column count. */
const INSERT_CHUNK = 200;

const blockRunErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  kind: z.enum(["user", "operational", "unexpected"]).optional(),
  stack: z.string().optional(),
});
const scalarSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const outputRecordSchema = z.object({
  ref: z.object({ runId: z.string(), block: z.string(), format: z.enum(["arrow", "parquet"]), path: z.string() }),
  summary: z.object({
    rows: z.number(),
    bytes: z.number(),
    columns: z.array(
      z.object({ name: z.string(), type: z.string(), nulls: z.number(), min: scalarSchema, max: scalarSchema, distinct: z.number() }),
    ),
  }),
});
const variablesSchema = z.record(z.string(), z.json());

type RunRow = RunsTable;
type BlockRunRow = { [K in keyof BlockRunsTable]: K extends "rows" | "duration_ms" ? number | string | null : BlockRunsTable[K] };

/** Runs a write exclusively among this process's stores sharing the database (identity when not needed). */
export type ExclusiveWrite = <T>(work: () => Promise<T>) => Promise<T>;

/** What differs between dialects when they share the Kysely store: write serialisation and cleanup. */
export interface KyselyRunStoreOptions {
  /**
   * Serialises writes with other stores of this process on the same database. SQLite needs it: a write
   * waiting on SQLite's lock blocks the whole thread, so an async transaction of a sibling store in the
   * same thread could never finish. Defaults to running the work directly.
   */
  exclusive?: ExclusiveWrite;
  /** Called after the Kysely instance is destroyed. */
  onClose?: () => void;
}

function parseJson<T>(text: string | null, schema: z.ZodType<T>, what: string): T | null {
  if (text === null) return null;
  const parsed = schema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new UnexpectedError("corrupt_metadata", `stored ${what} is malformed: ${parsed.error.message}`);
  return parsed.data;
}

function pick<T extends string>(allowed: readonly T[], value: string, what: string): T {
  const found = allowed.find((candidate) => candidate === value);
  if (found === undefined) throw new UnexpectedError("corrupt_metadata", `stored ${what} ${JSON.stringify(value)} is not known`);
  return found;
}

function toNumberOrNull(value: number | string | null): number | null {
  return value === null ? null : Number(value);
}

function mapRun(row: RunRow): Run {
  return {
    id: row.id,
    pipeline: row.pipeline,
    state: pick(RUN_STATES, row.state, "run state"),
    trigger: pick(RUN_TRIGGERS, row.trigger_kind, "trigger kind"),
    triggerId: row.trigger_id,
    logicalDate: row.logical_date,
    variables: parseJson<Variables>(row.variables, variablesSchema, "variables") ?? {},
    mode: pick(RUN_MODES, row.mode, "run mode"),
    block: row.target_block,
    createdAt: row.created_at,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    error: row.error,
  };
}

function mapBlockRun(row: BlockRunRow): BlockRun {
  return {
    id: row.id,
    runId: row.run_id,
    block: row.block,
    state: pick(BLOCK_RUN_STATES, row.state, "block run state"),
    attempt: Number(row.attempt),
    queuedAt: row.queued_at,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    error: parseJson<BlockRunError>(row.error, blockRunErrorSchema, "block error"),
    output: parseJson<OutputRecord>(row.output, outputRecordSchema, "output record"),
    rows: toNumberOrNull(row.rows),
    durationMs: toNumberOrNull(row.duration_ms),
  };
}

function errorJson(error: BlockRunError | null): string | null {
  if (error === null) return null;
  const { code, message, kind, stack } = error;
  return JSON.stringify({ code, message, kind, stack });
}

function outputJson(output: OutputRecord | null): string | null {
  return output === null ? null : JSON.stringify({ ref: output.ref, summary: output.summary });
}

/** `RunStore` over any Kysely dialect with `RETURNING` and `ON CONFLICT` (SQLite, PostgreSQL). */
export class KyselyRunStore implements MetadataStore {
  private readonly exclusive: ExclusiveWrite;
  private closed = false;
  /** The scheduler's state, in the same database (same connection, same write serialisation). */
  readonly triggers: TriggerStore;

  constructor(
    protected readonly db: Kysely<MetadataDatabase>,
    private readonly options: KyselyRunStoreOptions = {},
  ) {
    this.exclusive = options.exclusive ?? ((work) => work());
    this.triggers = new KyselyTriggerStore(db, this.exclusive);
  }

  async createRun(input: CreateRunInput): Promise<Run> {
    const id = input.id ?? newSortableId();
    if (!RUN_ID.test(id)) throw new UserError("invalid_run_id", `invalid run id ${JSON.stringify(id)}: use letters, digits, _ and - only`);
    const seen = new Set<string>();
    for (const block of input.blocks) {
      if (seen.has(block)) throw new UserError("duplicate_block", `block ${block} is listed twice in run ${id}`, { block });
      seen.add(block);
    }
    const row: RunRow = {
      id,
      pipeline: input.pipeline,
      state: "queued",
      trigger_kind: input.trigger,
      trigger_id: input.triggerId ?? null,
      logical_date: input.logicalDate,
      variables: JSON.stringify(input.variables),
      mode: input.mode,
      target_block: input.block ?? null,
      created_at: input.createdAt ?? new Date().toISOString(),
      started_at: null,
      ended_at: null,
      error: null,
    };
    const blockRows = input.blocks.map((block, position) => ({
      id: newSortableId(),
      run_id: id,
      block,
      position,
      state: "pending",
      attempt: 0,
      queued_at: null,
      started_at: null,
      ended_at: null,
      error: null,
      output: null,
      rows: null,
      duration_ms: null,
    }));
    await this.exclusive(() =>
      this.db.transaction().execute(async (trx: Transaction<MetadataDatabase>) => {
        await trx.insertInto("runs").values(row).execute();
        for (let i = 0; i < blockRows.length; i += INSERT_CHUNK) {
          await trx
            .insertInto("block_runs")
            .values(blockRows.slice(i, i + INSERT_CHUNK))
            .execute();
        }
      }),
    );
    return mapRun(row);
  }

  async getRun(id: string): Promise<RunWithBlockRuns | null> {
    const run = await this.db.selectFrom("runs").selectAll().where("id", "=", id).executeTakeFirst();
    if (!run) return null;
    const blockRuns = await this.db.selectFrom("block_runs").selectAll().where("run_id", "=", id).orderBy("position").execute();
    return { run: mapRun(run), blockRuns: blockRuns.map(mapBlockRun) };
  }

  async listRuns(filter: ListRunsFilter = {}): Promise<Run[]> {
    const limit = Math.max(1, Math.min(MAX_LIMIT, Math.floor(filter.limit ?? DEFAULT_LIMIT)));
    let query = this.db.selectFrom("runs").selectAll();
    if (filter.pipeline !== undefined) query = query.where("pipeline", "=", filter.pipeline);
    if (filter.state !== undefined) {
      const states: readonly RunState[] = typeof filter.state === "string" ? [filter.state] : filter.state;
      if (states.length === 0) return [];
      query = query.where("state", "in", states);
    }
    if (filter.before !== undefined) query = query.where("id", "<", filter.before);
    if (filter.createdBefore !== undefined) query = query.where("created_at", "<", filter.createdBefore);
    const rows = await query.orderBy("id", "desc").limit(limit).execute();
    return rows.map(mapRun);
  }

  async updateRunState(id: string, state: RunState, patch: RunStatePatch): Promise<Run> {
    const { at, error } = patch;
    const row = await this.exclusive(() =>
      this.db
        .updateTable("runs")
        .set((eb) => ({
          state,
          ...(state === "running" ? { started_at: eb.fn.coalesce("started_at", eb.val(at)) } : {}),
          ...(isTerminalRunState(state) ? { ended_at: at } : {}),
          ...(state === "queued" ? { ended_at: null } : {}),
          ...(error !== undefined ? { error } : {}),
        }))
        .where("id", "=", id)
        .returningAll()
        .executeTakeFirst(),
    );
    if (!row) throw new UserError("run_not_found", `there is no run ${id}`);
    return mapRun(row);
  }

  async updateBlockRun(runId: string, block: string, patch: BlockRunPatch): Promise<BlockRun> {
    const set: Updateable<BlockRunsTable> = { state: patch.state };
    if (patch.attempt !== undefined) set.attempt = patch.attempt;
    if (patch.queuedAt !== undefined) set.queued_at = patch.queuedAt;
    if (patch.startedAt !== undefined) set.started_at = patch.startedAt;
    if (patch.endedAt !== undefined) set.ended_at = patch.endedAt;
    if (patch.error !== undefined) set.error = errorJson(patch.error);
    if (patch.output !== undefined) set.output = outputJson(patch.output);
    if (patch.rows !== undefined) set.rows = patch.rows;
    if (patch.durationMs !== undefined) set.duration_ms = patch.durationMs;
    const row = await this.exclusive(() =>
      this.db.updateTable("block_runs").set(set).where("run_id", "=", runId).where("block", "=", block).returningAll().executeTakeFirst(),
    );
    if (!row) throw new UserError("block_run_not_found", `run ${runId} has no block ${block}`, { block });
    return mapBlockRun(row);
  }

  async recordAttempt(attempt: BlockAttempt): Promise<void> {
    const values = {
      run_id: attempt.runId,
      block: attempt.block,
      attempt: attempt.attempt,
      state: attempt.state,
      started_at: attempt.startedAt,
      ended_at: attempt.endedAt,
      error: errorJson(attempt.error),
    };
    await this.exclusive(() =>
      this.db
        .insertInto("block_attempts")
        .values(values)
        .onConflict((oc) =>
          oc.columns(["run_id", "block", "attempt"]).doUpdateSet({
            state: values.state,
            started_at: values.started_at,
            ended_at: values.ended_at,
            error: values.error,
          }),
        )
        .execute(),
    );
  }

  async listAttempts(runId: string, block?: string): Promise<BlockAttempt[]> {
    let query = this.db.selectFrom("block_attempts").selectAll().where("run_id", "=", runId);
    if (block !== undefined) query = query.where("block", "=", block);
    const rows = await query.orderBy("block").orderBy("attempt").execute();
    return rows.map((row) => ({
      runId: row.run_id,
      block: row.block,
      attempt: Number(row.attempt),
      state: pick<BlockRunState>(BLOCK_RUN_STATES, row.state, "attempt state"),
      startedAt: row.started_at,
      endedAt: row.ended_at,
      error: parseJson<BlockRunError>(row.error, blockRunErrorSchema, "block error"),
    }));
  }

  async latestSuccessfulOutput(pipeline: string, block: string): Promise<OutputRecord | null> {
    const row = await this.db
      .selectFrom("block_runs as br")
      .innerJoin("runs as r", "r.id", "br.run_id")
      .select("br.output")
      .where("r.pipeline", "=", pipeline)
      .where("br.block", "=", block)
      .where("br.state", "=", "success")
      .where("br.output", "is not", null)
      .orderBy((eb) => eb.fn.coalesce("br.ended_at", "r.created_at"), "desc")
      .orderBy("br.run_id", "desc")
      .limit(1)
      .executeTakeFirst();
    return row ? parseJson<OutputRecord>(row.output, outputRecordSchema, "output record") : null;
  }

  async findRunsInState(states: readonly RunState[]): Promise<Run[]> {
    if (states.length === 0) return [];
    const rows = await this.db.selectFrom("runs").selectAll().where("state", "in", states).orderBy("id").execute();
    return rows.map(mapRun);
  }

  async deleteRun(id: string): Promise<boolean> {
    return this.exclusive(() =>
      this.db.transaction().execute(async (trx: Transaction<MetadataDatabase>) => {
        await trx.deleteFrom("block_attempts").where("run_id", "=", id).execute();
        await trx.deleteFrom("block_runs").where("run_id", "=", id).execute();
        const result = await trx.deleteFrom("runs").where("id", "=", id).executeTakeFirst();
        return Number(result.numDeletedRows) > 0;
      }),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.destroy();
    this.options.onClose?.();
  }
}
