/**
 * The lock a limited claim holds while it counts what is active and inserts its claim: one `claim_locks`
 * row per limited resource (a trigger's max_active_runs, a backfill's concurrency). Nothing is counted in
 * that row: the active runs are always counted from `runs`, `scheduled_runs` and `backfill_runs`.
 */
import type { Transaction } from "kysely";
import type { MetadataDatabase } from "./schema";

/**
 * Serialises limited claims on one key until the transaction ends. PostgreSQL: the upsert takes the row
 * lock of `claim_locks(key)`, so a concurrent claim blocks here until this transaction commits, and its
 * next statement (a new snapshot under READ COMMITTED) sees what this one inserted. SQLite: transactions
 * start with `BEGIN IMMEDIATE`, which already holds the database's single write lock across processes;
 * the upsert is harmless there. Runs themselves never take this lock: finishing a run only frees room.
 */
export async function lockClaims(trx: Transaction<MetadataDatabase>, key: string, at: string): Promise<void> {
  await trx
    .insertInto("claim_locks")
    .values({ lock_key: key, locked_at: at })
    .onConflict((oc) => oc.column("lock_key").doUpdateSet({ locked_at: at }))
    .execute();
}

/** The lock of a trigger's `max_active_runs`. */
export const triggerLockKey = (pipeline: string, triggerId: string): string => JSON.stringify(["trigger", pipeline, triggerId]);

/** The lock of a backfill's concurrency. */
export const backfillLockKey = (backfillId: string): string => JSON.stringify(["backfill", backfillId]);
