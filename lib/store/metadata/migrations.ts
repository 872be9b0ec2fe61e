/**
 * Schema migrations in code: one list for SQLite and PostgreSQL, applied with Kysely's
 * `Migrator` when a store opens. Only dialect-neutral schema builder calls are used here; a migration is
 * never edited once released — add a new one.
 */
import { Migrator, type Kysely, type Migration, type MigrationProvider } from "kysely";
import { messageOf, UnexpectedError } from "../../core/errors";

/** Migrations by name; names sort in the order they apply. */
export const MIGRATIONS: Record<string, Migration> = {
  "0001_runs": {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable("runs")
        .ifNotExists()
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("pipeline", "text", (c) => c.notNull())
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("trigger_kind", "text", (c) => c.notNull())
        .addColumn("trigger_id", "text")
        .addColumn("logical_date", "text", (c) => c.notNull())
        .addColumn("variables", "text", (c) => c.notNull())
        .addColumn("mode", "text", (c) => c.notNull())
        .addColumn("target_block", "text")
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("started_at", "text")
        .addColumn("ended_at", "text")
        .addColumn("error", "text")
        .execute();
      await db.schema.createIndex("runs_pipeline_id").ifNotExists().on("runs").columns(["pipeline", "id"]).execute();
      await db.schema.createIndex("runs_state").ifNotExists().on("runs").column("state").execute();

      await db.schema
        .createTable("block_runs")
        .ifNotExists()
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("run_id", "text", (c) => c.notNull().references("runs.id").onDelete("cascade"))
        .addColumn("block", "text", (c) => c.notNull())
        .addColumn("position", "integer", (c) => c.notNull())
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("attempt", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("queued_at", "text")
        .addColumn("started_at", "text")
        .addColumn("ended_at", "text")
        .addColumn("error", "text")
        .addColumn("output", "text")
        .addColumn("rows", "bigint")
        .addColumn("duration_ms", "bigint")
        .addUniqueConstraint("block_runs_run_block", ["run_id", "block"])
        .execute();
      await db.schema.createIndex("block_runs_block_state").ifNotExists().on("block_runs").columns(["block", "state"]).execute();

      await db.schema
        .createTable("block_attempts")
        .ifNotExists()
        .addColumn("run_id", "text", (c) => c.notNull().references("runs.id").onDelete("cascade"))
        .addColumn("block", "text", (c) => c.notNull())
        .addColumn("attempt", "integer", (c) => c.notNull())
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("started_at", "text")
        .addColumn("ended_at", "text")
        .addColumn("error", "text")
        .addPrimaryKeyConstraint("block_attempts_pk", ["run_id", "block", "attempt"])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable("block_attempts").ifExists().execute();
      await db.schema.dropTable("block_runs").ifExists().execute();
      await db.schema.dropTable("runs").ifExists().execute();
    },
  },
  "0002_triggers": {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable("trigger_state")
        .ifNotExists()
        .addColumn("pipeline", "text", (c) => c.notNull())
        .addColumn("trigger_id", "text", (c) => c.notNull())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("enabled", "integer", (c) => c.notNull())
        .addColumn("fingerprint", "text", (c) => c.notNull())
        .addColumn("last_scheduled", "text")
        .addColumn("next_due", "text")
        .addColumn("first_seen_at", "text", (c) => c.notNull())
        .addColumn("updated_at", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("trigger_state_pk", ["pipeline", "trigger_id"])
        .execute();

      // The primary key is the exactly-once guarantee: two schedulers claiming the same slot, one wins.
      await db.schema
        .createTable("scheduled_runs")
        .ifNotExists()
        .addColumn("pipeline", "text", (c) => c.notNull())
        .addColumn("trigger_id", "text", (c) => c.notNull())
        .addColumn("logical_date", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("run_id", "text")
        .addColumn("claimed_at", "text", (c) => c.notNull())
        .addColumn("error", "text")
        .addPrimaryKeyConstraint("scheduled_runs_pk", ["pipeline", "trigger_id", "logical_date"])
        .execute();
      await db.schema.createIndex("scheduled_runs_status").ifNotExists().on("scheduled_runs").columns(["status", "claimed_at"]).execute();

      await db.schema
        .createTable("backfills")
        .ifNotExists()
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("pipeline", "text", (c) => c.notNull())
        .addColumn("trigger_id", "text", (c) => c.notNull())
        .addColumn("range_start", "text", (c) => c.notNull())
        .addColumn("range_end", "text", (c) => c.notNull())
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("concurrency", "integer", (c) => c.notNull())
        .addColumn("total", "integer", (c) => c.notNull())
        .addColumn("slots", "text", (c) => c.notNull())
        .addColumn("variables", "text", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("ended_at", "text")
        .execute();
      await db.schema.createIndex("backfills_state").ifNotExists().on("backfills").column("state").execute();

      await db.schema
        .createTable("backfill_runs")
        .ifNotExists()
        .addColumn("backfill_id", "text", (c) => c.notNull().references("backfills.id").onDelete("cascade"))
        .addColumn("logical_date", "text", (c) => c.notNull())
        .addColumn("run_id", "text")
        .addColumn("claimed_at", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("backfill_runs_pk", ["backfill_id", "logical_date"])
        .execute();

      await db.schema
        .createTable("trigger_tokens")
        .ifNotExists()
        .addColumn("pipeline", "text", (c) => c.notNull())
        .addColumn("trigger_id", "text", (c) => c.notNull())
        .addColumn("token_hash", "text", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("trigger_tokens_pk", ["pipeline", "trigger_id"])
        .execute();

      await db.schema.createIndex("runs_trigger_state").ifNotExists().on("runs").columns(["pipeline", "trigger_id", "state"]).execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropIndex("runs_trigger_state").ifExists().execute();
      await db.schema.dropTable("trigger_tokens").ifExists().execute();
      await db.schema.dropTable("backfill_runs").ifExists().execute();
      await db.schema.dropTable("backfills").ifExists().execute();
      await db.schema.dropTable("scheduled_runs").ifExists().execute();
      await db.schema.dropTable("trigger_state").ifExists().execute();
    },
  },
  "0003_run_ownership": {
    async up(db: Kysely<unknown>): Promise<void> {
      // One row per live process that drives runs; its lease is renewed by heartbeat. Recovery fails the
      // runs of an owner whose lease expired, and only those (a live process's runs are never touched).
      await db.schema
        .createTable("run_owners")
        .ifNotExists()
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("host", "text", (c) => c.notNull())
        .addColumn("pid", "integer", (c) => c.notNull())
        .addColumn("process_started_at", "text", (c) => c.notNull())
        .addColumn("heartbeat_at", "text", (c) => c.notNull())
        .addColumn("lease_expires_at", "text", (c) => c.notNull())
        .execute();
      // SQLite adds one column per ALTER TABLE statement.
      await db.schema.alterTable("runs").addColumn("owner_id", "text").execute();
      await db.schema.alterTable("runs").addColumn("cancel_requested_at", "text").execute();
      await db.schema.alterTable("block_runs").addColumn("owner_id", "text").execute();
      await db.schema.createIndex("runs_owner_state").ifNotExists().on("runs").columns(["owner_id", "state"]).execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropIndex("runs_owner_state").ifExists().execute();
      await db.schema.alterTable("block_runs").dropColumn("owner_id").execute();
      await db.schema.alterTable("runs").dropColumn("cancel_requested_at").execute();
      await db.schema.alterTable("runs").dropColumn("owner_id").execute();
      await db.schema.dropTable("run_owners").ifExists().execute();
    },
  },
  "0004_retry_in_place": {
    async up(db: Kysely<unknown>): Promise<void> {
      // A retry re-runs blocks inside the same run, so the run must remember what its blocks saw: the data
      // interval, and the upstream outputs it read from earlier runs (JSON `{block: OutputRecord | null}`).
      await db.schema.alterTable("runs").addColumn("data_interval_start", "text").execute();
      await db.schema.alterTable("runs").addColumn("data_interval_end", "text").execute();
      await db.schema.alterTable("runs").addColumn("cached_inputs", "text").execute();
      // A sensor's pokes are not attempts: counted here, with the time of the last one.
      await db.schema.alterTable("block_runs").addColumn("pokes", "integer", (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable("block_runs").addColumn("last_poke_at", "text").execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable("block_runs").dropColumn("last_poke_at").execute();
      await db.schema.alterTable("block_runs").dropColumn("pokes").execute();
      await db.schema.alterTable("runs").dropColumn("cached_inputs").execute();
      await db.schema.alterTable("runs").dropColumn("data_interval_end").execute();
      await db.schema.alterTable("runs").dropColumn("data_interval_start").execute();
    },
  },
  "0005_claim_locks": {
    async up(db: Kysely<unknown>): Promise<void> {
      // One row per limited resource (a trigger's max_active_runs, a backfill's concurrency). A claim upserts
      // the row first: in PostgreSQL that row lock makes concurrent claims of one trigger take turns, so
      // "count the active runs, then insert the claim" cannot be passed by two schedulers at once. Nothing
      // is counted here: the active runs are always counted from `runs` and `scheduled_runs`.
      await db.schema
        .createTable("claim_locks")
        .ifNotExists()
        .addColumn("lock_key", "text", (c) => c.primaryKey())
        .addColumn("locked_at", "text", (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable("claim_locks").ifExists().execute();
    },
  },
  "0006_block_run_feedback": {
    async up(db: Kysely<unknown>): Promise<void> {
      // What a block did besides returning a table: the `ctx.io` writes of an exporter (JSON
      // `[{connector, location, rows, bytes?}]`) and its data test (JSON `{passed, failed?}`). Null when none.
      await db.schema.alterTable("block_runs").addColumn("writes", "text").execute();
      await db.schema.alterTable("block_runs").addColumn("tests", "text").execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable("block_runs").dropColumn("tests").execute();
      await db.schema.alterTable("block_runs").dropColumn("writes").execute();
    },
  },
  "0007_sla_misses": {
    async up(db: Kysely<unknown>): Promise<void> {
      // One row per run whose trigger's `sla:` passed before it ended: the row is the proof the
      // `sla_miss` notice was sent, so a restarted or second scheduler never sends it again.
      await db.schema
        .createTable("sla_misses")
        .ifNotExists()
        .addColumn("run_id", "text", (c) => c.primaryKey())
        .addColumn("pipeline", "text", (c) => c.notNull())
        .addColumn("trigger_id", "text", (c) => c.notNull())
        .addColumn("missed_at", "text", (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable("sla_misses").ifExists().execute();
    },
  },
};

/** Hands the in-code migrations to Kysely's `Migrator` (no migration folder to ship or find at run time). */
export class InCodeMigrationProvider implements MigrationProvider {
  constructor(private readonly migrations: Record<string, Migration> = MIGRATIONS) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return this.migrations;
  }
}

/**
 * Brings the schema up to date.
 *
 * @throws UnexpectedError `migration_failed` naming the migration that failed.
 */
export async function migrateToLatest<DB>(db: Kysely<DB>, options: { migrationTableSchema?: string } = {}): Promise<void> {
  // PostgreSQL: name the schema of Kysely's own tables, else its existence check matches a
  // `kysely_migration` table of another schema in the same database and skips creating its own.
  const migrator = new Migrator({ db, provider: new InCodeMigrationProvider(), ...options });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((result) => result.status === "Error")?.migrationName ?? "unknown";
    const reason = messageOf(error);
    throw new UnexpectedError("migration_failed", `metadata migration ${failed} failed: ${reason}`, {}, { cause: error });
  }
}
