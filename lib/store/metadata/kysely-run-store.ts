/**
 * `RunStore` written once with Kysely, for every SQL dialect Sluice supports: the embedded
 * SQLite store (`sqlite-run-store.ts`) and, later, PostgreSQL through `pg`. Queries stay within what both
 * dialects share: ISO-text times, JSON as text, `ON CONFLICT … DO UPDATE`, `UPDATE … RETURNING`.
 */
import { type Kysely, type Transaction, type Updateable } from "kysely";
import { z } from "zod";
import { UnexpectedError, UserError } from "../../core/errors";
import type { RunMode, RunTrigger, Variables } from "../../core/model";
import { BLOCK_RUN_STATES, RUN_STATES, isTerminalRunState, type BlockRunState, type RunState } from "../../core/run-model";
import type { OutputRecord } from "../../core/output-types";
import type { BlockTests, BlockWrite } from "../../core/execution";
import { newSortableId } from "./ids";
import type {
  BlockAttempt,
  BlockRun,
  BlockRunError,
  BlockRunPatch,
  CreateRunInput,
  LatestBlockRun,
  ListRunsFilter,
  OrphanedRun,
  OwnerLease,
  Run,
  RunOwner,
  RunOwnership,
  RunStatePatch,
  MetadataStore,
  RunWithBlockRuns,
} from "./run-store";
import type { BlockRunsTable, MetadataDatabase, RunOwnersTable, RunsTable } from "./schema";
import { pickStored } from "./stored-values";
import { KyselyTriggerStore, type TriggerStore } from "./trigger-store";

const RUN_ID = /^[A-Za-z0-9_-]{1,200}$/;
const RUN_TRIGGERS: readonly RunTrigger[] = ["manual", "schedule", "api", "backfill"];
const RUN_MODES: readonly RunMode[] = ["pipeline", "block", "with_upstream", "from"];
const OWNER_KINDS: readonly RunOwner["kind"][] = ["server", "cli", "scheduler", "worker"];
const UNFINISHED_RUN_STATES: readonly RunState[] = ["queued", "running"];
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
const writesSchema = z.array(z.object({ connector: z.string(), location: z.string(), rows: z.number(), bytes: z.number().optional() }));
const testsSchema = z.object({ passed: z.number(), failed: z.string().optional() });
const cachedInputsSchema = z.record(z.string(), outputRecordSchema.nullable());

type RunRow = RunsTable;
type BlockRunRow = {
  [K in keyof BlockRunsTable]: K extends "rows" | "duration_ms" ? number | string | null : K extends "pokes" ? number : K extends "writes" | "tests" ? string | null : BlockRunsTable[K];
};

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

function toNumberOrNull(value: number | string | null): number | null {
  return value === null ? null : Number(value);
}

function mapRun(row: RunRow): Run {
  return {
    id: row.id,
    pipeline: row.pipeline,
    state: pickStored(RUN_STATES, row.state, "run state"),
    trigger: pickStored(RUN_TRIGGERS, row.trigger_kind, "trigger kind"),
    triggerId: row.trigger_id,
    logicalDate: row.logical_date,
    variables: parseJson<Variables>(row.variables, variablesSchema, "variables") ?? {},
    mode: pickStored(RUN_MODES, row.mode, "run mode"),
    block: row.target_block,
    dataInterval: { start: row.data_interval_start ?? row.logical_date, end: row.data_interval_end ?? row.logical_date },
    cachedInputs: parseJson<Record<string, OutputRecord | null>>(row.cached_inputs, cachedInputsSchema, "cached inputs") ?? {},
    createdAt: row.created_at,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    error: row.error,
  };
}

function mapOwner(row: RunOwnersTable): OwnerLease {
  return {
    id: row.id,
    kind: pickStored(OWNER_KINDS, row.kind, "owner kind"),
    host: row.host,
    pid: Number(row.pid),
    processStartedAt: row.process_started_at,
    heartbeatAt: row.heartbeat_at,
    leaseExpiresAt: row.lease_expires_at,
  };
}

function mapBlockRun(row: BlockRunRow): BlockRun {
  return {
    id: row.id,
    runId: row.run_id,
    block: row.block,
    state: pickStored(BLOCK_RUN_STATES, row.state, "block run state"),
    attempt: Number(row.attempt),
    queuedAt: row.queued_at,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    error: parseJson<BlockRunError>(row.error, blockRunErrorSchema, "block error"),
    output: parseJson<OutputRecord>(row.output, outputRecordSchema, "output record"),
    rows: toNumberOrNull(row.rows),
    durationMs: toNumberOrNull(row.duration_ms),
    pokes: Number(row.pokes ?? 0),
    lastPokeAt: row.last_poke_at ?? null,
    writes: parseJson<BlockWrite[]>(row.writes ?? null, writesSchema, "block writes"),
    tests: parseJson<BlockTests>(row.tests ?? null, testsSchema, "block tests"),
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
      data_interval_start: input.dataInterval?.start ?? input.logicalDate,
      data_interval_end: input.dataInterval?.end ?? input.logicalDate,
      cached_inputs: JSON.stringify(input.cachedInputs ?? {}),
      created_at: input.createdAt ?? new Date().toISOString(),
      started_at: null,
      ended_at: null,
      error: null,
      owner_id: input.ownerId ?? null,
      cancel_requested_at: null,
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
      owner_id: null,
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

  async addBlockRuns(runId: string, blocks: readonly string[]): Promise<void> {
    if (blocks.length === 0) return;
    await this.exclusive(() =>
      this.db.transaction().execute(async (trx: Transaction<MetadataDatabase>) => {
        const run = await trx.selectFrom("runs").select("id").where("id", "=", runId).executeTakeFirst();
        if (!run) throw new UserError("run_not_found", `there is no run ${runId}`);
        const existing = await trx.selectFrom("block_runs").select(["block", "position"]).where("run_id", "=", runId).execute();
        const have = new Set(existing.map((row) => row.block));
        let position = existing.reduce((max, row) => Math.max(max, Number(row.position)), -1);
        const rows = [...new Set(blocks)]
          .filter((block) => !have.has(block))
          .map((block) => ({
            id: newSortableId(),
            run_id: runId,
            block,
            position: (position += 1),
            state: "pending",
            attempt: 0,
            queued_at: null,
            started_at: null,
            ended_at: null,
            error: null,
            output: null,
            rows: null,
            duration_ms: null,
            owner_id: null,
          }));
        for (let i = 0; i < rows.length; i += INSERT_CHUNK) await trx.insertInto("block_runs").values(rows.slice(i, i + INSERT_CHUNK)).execute();
      }),
    );
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
    if (patch.pokes !== undefined) set.pokes = patch.pokes;
    if (patch.lastPokeAt !== undefined) set.last_poke_at = patch.lastPokeAt;
    if (patch.writes !== undefined) set.writes = patch.writes === null ? null : JSON.stringify(patch.writes);
    if (patch.tests !== undefined) set.tests = patch.tests === null ? null : JSON.stringify(patch.tests);
    if (patch.ownerId !== undefined) set.owner_id = patch.ownerId;
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
      state: pickStored<BlockRunState>(BLOCK_RUN_STATES, row.state, "attempt state"),
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

  async latestSuccess(pipeline: string, block: string): Promise<{ runId: string; output: OutputRecord | null } | null> {
    const row = await this.db
      .selectFrom("block_runs as br")
      .innerJoin("runs as r", "r.id", "br.run_id")
      .select(["br.run_id", "br.output"])
      .where("r.pipeline", "=", pipeline)
      .where("br.block", "=", block)
      .where("br.state", "=", "success")
      .orderBy((eb) => eb.fn.coalesce("br.ended_at", "r.created_at"), "desc")
      .orderBy("br.run_id", "desc")
      .limit(1)
      .executeTakeFirst();
    return row ? { runId: row.run_id, output: parseJson<OutputRecord>(row.output, outputRecordSchema, "output record") } : null;
  }

  async latestBlockRuns(pipeline: string): Promise<{ latest: LatestBlockRun[]; withOutput: LatestBlockRun[] }> {
    const [latest, withOutput] = await Promise.all([this.newestPerBlock(pipeline, false), this.newestPerBlock(pipeline, true)]);
    return { latest, withOutput };
  }

  /**
   * The newest block run per block of a pipeline in one query: a window function ranks each block's runs
   * (SQLite and PostgreSQL both have `row_number() OVER`), so the history is read once, not once per block.
   */
  private async newestPerBlock(pipeline: string, successWithOutput: boolean): Promise<LatestBlockRun[]> {
    let ranked = this.db
      .selectFrom("block_runs as br")
      .innerJoin("runs as r", "r.id", "br.run_id")
      .selectAll("br")
      .select((eb) =>
        eb.fn
          .agg<number>("row_number")
          .over((over) => over.partitionBy("br.block").orderBy(eb.fn.coalesce("br.ended_at", "br.started_at", "r.created_at"), "desc").orderBy("br.run_id", "desc"))
          .as("rank"),
      )
      .where("r.pipeline", "=", pipeline);
    ranked = successWithOutput ? ranked.where("br.state", "=", "success").where("br.output", "is not", null) : ranked.where("br.state", "not in", ["pending", "queued"]);
    const rows = await this.db.selectFrom(ranked.as("ranked")).selectAll().where("rank", "=", 1).orderBy("block").execute();
    if (rows.length === 0) return [];
    const runIds = [...new Set(rows.map((row) => row.run_id))];
    const runs = new Map<string, Run>();
    for (let i = 0; i < runIds.length; i += INSERT_CHUNK) {
      const found = await this.db.selectFrom("runs").selectAll().where("id", "in", runIds.slice(i, i + INSERT_CHUNK)).execute();
      for (const run of found) runs.set(run.id, mapRun(run));
    }
    return rows.flatMap((row) => {
      const run = runs.get(row.run_id);
      return run ? [{ run, blockRun: mapBlockRun(row) }] : [];
    });
  }

  async reopenRun(id: string): Promise<Run | null> {
    // One conditional UPDATE: the state check and the move are atomic, so two retries of one run (or a retry
    // racing the run's own end) cannot both win.
    const row = await this.exclusive(() =>
      this.db
        .updateTable("runs")
        .set({ state: "queued", ended_at: null, error: null })
        .where("id", "=", id)
        .where("state", "in", ["success", "failed", "cancelled"])
        .returningAll()
        .executeTakeFirst(),
    );
    return row ? mapRun(row) : null;
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

  async registerOwner(owner: RunOwner, lease: { at: string; leaseExpiresAt: string }): Promise<void> {
    const row: RunOwnersTable = {
      id: owner.id,
      kind: owner.kind,
      host: owner.host,
      pid: owner.pid,
      process_started_at: owner.processStartedAt,
      heartbeat_at: lease.at,
      lease_expires_at: lease.leaseExpiresAt,
    };
    await this.exclusive(() =>
      this.db
        .insertInto("run_owners")
        .values(row)
        .onConflict((oc) => oc.column("id").doUpdateSet({ heartbeat_at: row.heartbeat_at, lease_expires_at: row.lease_expires_at }))
        .execute(),
    );
  }

  async renewOwnerLease(ownerId: string, lease: { at: string; leaseExpiresAt: string }): Promise<boolean> {
    const result = await this.exclusive(() =>
      this.db
        .updateTable("run_owners")
        .set({ heartbeat_at: lease.at, lease_expires_at: lease.leaseExpiresAt })
        .where("id", "=", ownerId)
        .executeTakeFirst(),
    );
    return Number(result.numUpdatedRows) > 0;
  }

  async claimRun(runId: string, ownerId: string): Promise<void> {
    await this.exclusive(() => this.db.updateTable("runs").set({ owner_id: ownerId, cancel_requested_at: null }).where("id", "=", runId).execute());
  }

  async releaseOwner(ownerId: string): Promise<void> {
    await this.exclusive(() => this.db.deleteFrom("run_owners").where("id", "=", ownerId).execute());
  }

  async getRunOwnership(runId: string): Promise<RunOwnership | null> {
    const row = await this.db.selectFrom("runs").select(["owner_id", "cancel_requested_at"]).where("id", "=", runId).executeTakeFirst();
    if (!row) return null;
    const owner = row.owner_id === null ? undefined : await this.db.selectFrom("run_owners").selectAll().where("id", "=", row.owner_id).executeTakeFirst();
    return { ownerId: row.owner_id, owner: owner ? mapOwner(owner) : null, cancelRequestedAt: row.cancel_requested_at };
  }

  async requestCancel(runId: string, at: string): Promise<boolean> {
    const result = await this.exclusive(() =>
      this.db
        .updateTable("runs")
        .set((eb) => ({ cancel_requested_at: eb.fn.coalesce("cancel_requested_at", eb.val(at)) }))
        .where("id", "=", runId)
        .where("state", "in", UNFINISHED_RUN_STATES)
        .executeTakeFirst(),
    );
    return Number(result.numUpdatedRows) > 0;
  }

  async findCancelRequests(ownerId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom("runs")
      .select("id")
      .where("owner_id", "=", ownerId)
      .where("state", "in", UNFINISHED_RUN_STATES)
      .where("cancel_requested_at", "is not", null)
      .orderBy("id")
      .execute();
    return rows.map((row) => row.id);
  }

  async findOrphanedRuns(now: string): Promise<OrphanedRun[]> {
    const rows = await this.db
      .selectFrom("runs as r")
      .leftJoin("run_owners as o", "o.id", "r.owner_id")
      .selectAll("r")
      .select([
        "o.id as o_id",
        "o.kind as o_kind",
        "o.host as o_host",
        "o.pid as o_pid",
        "o.process_started_at as o_process_started_at",
        "o.heartbeat_at as o_heartbeat_at",
        "o.lease_expires_at as o_lease_expires_at",
      ])
      .where("r.state", "in", UNFINISHED_RUN_STATES)
      .where((eb) => eb.or([eb("o.id", "is", null), eb("o.lease_expires_at", "<", now)]))
      .orderBy("r.id")
      .execute();
    return rows.map((row) => {
      const owner =
        row.o_id === null || row.o_kind === null || row.o_host === null || row.o_pid === null || row.o_process_started_at === null || row.o_heartbeat_at === null || row.o_lease_expires_at === null
          ? null
          : mapOwner({
              id: row.o_id,
              kind: row.o_kind,
              host: row.o_host,
              pid: row.o_pid,
              process_started_at: row.o_process_started_at,
              heartbeat_at: row.o_heartbeat_at,
              lease_expires_at: row.o_lease_expires_at,
            });
      return { run: mapRun(row), ownerId: row.owner_id, owner, cancelRequestedAt: row.cancel_requested_at };
    });
  }

  async removeExpiredOwners(now: string): Promise<number> {
    const result = await this.exclusive(() =>
      this.db
        .deleteFrom("run_owners")
        .where("lease_expires_at", "<", now)
        .where((eb) =>
          eb.not(
            eb.exists(
              eb
                .selectFrom("runs")
                .select("runs.id")
                .whereRef("runs.owner_id", "=", "run_owners.id")
                .where("runs.state", "in", UNFINISHED_RUN_STATES),
            ),
          ),
        )
        .executeTakeFirst(),
    );
    return Number(result.numDeletedRows);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.destroy();
    this.options.onClose?.();
  }
}
