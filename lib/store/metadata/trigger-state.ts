/**
 * The scheduler's memory of each trigger in the triggers files: whether it is enabled, the schedule's
 * fingerprint, the newest logical date it handled and when it is next due. The triggers themselves live in
 * `triggers.yaml`; a trigger deleted from its file loses its row here, while its runs and claims stay.
 */
import { sql } from "kysely";
import { KyselyStorePart } from "./kysely-store-part";
import type { TriggerStateTable } from "./schema";
import { pickStored } from "./stored-values";

export type TriggerKind = "schedule" | "api";

export interface TriggerState {
  pipeline: string;
  triggerId: string;
  kind: TriggerKind;
  enabled: boolean;
  fingerprint: string;
  lastScheduled: string | null;
  nextDue: string | null;
  firstSeenAt: string;
  updatedAt: string;
}

/** A trigger as found in a triggers file, for `syncTriggers`. */
export interface TriggerDefinition {
  triggerId: string;
  kind: TriggerKind;
  enabled: boolean;
  /** Changes whenever the schedule changes; a changed fingerprint forgets the cached `nextDue`. */
  fingerprint: string;
}

/** What the scheduler remembers of each trigger; every method is atomic on its own. */
export interface TriggerStateStore {
  /** Every trigger state row (one query: a 10,000-trigger tick reads them at once). */
  listTriggerStates(pipeline?: string): Promise<TriggerState[]>;
  /**
   * Makes the stored triggers of a pipeline match its file: new ones inserted, changed ones updated (a
   * changed fingerprint clears `nextDue`), those missing from the file deleted (their claims and runs stay).
   */
  syncTriggers(pipeline: string, definitions: readonly TriggerDefinition[], at: string): Promise<void>;
  /** Forgets every trigger of pipelines not in the list (a deleted pipeline). */
  deleteTriggersOfOtherPipelines(pipelines: readonly string[]): Promise<number>;
  /** Moves `lastScheduled` forward only (never back: another scheduler may be ahead) and sets `nextDue`. */
  advanceTrigger(pipeline: string, triggerId: string, lastScheduled: string | null, nextDue: string | null): Promise<void>;
  /** Caches the computed next due time of many triggers at once (one transaction). */
  setNextDue(updates: readonly { pipeline: string; triggerId: string; nextDue: string | null }[]): Promise<void>;
}

/** Rows per INSERT: a sync of thousands of triggers stays within the databases' limit on bound parameters. */
const CHUNK = 200;

function mapState(row: TriggerStateTable): TriggerState {
  return {
    pipeline: row.pipeline,
    triggerId: row.trigger_id,
    kind: pickStored<TriggerKind>(["schedule", "api"], row.kind, "trigger kind"),
    enabled: Number(row.enabled) === 1,
    fingerprint: row.fingerprint,
    lastScheduled: row.last_scheduled,
    nextDue: row.next_due,
    firstSeenAt: row.first_seen_at,
    updatedAt: row.updated_at,
  };
}

/** `TriggerStateStore` over the metadata database (SQLite or PostgreSQL). */
export class KyselyTriggerStateStore extends KyselyStorePart implements TriggerStateStore {
  async listTriggerStates(pipeline?: string): Promise<TriggerState[]> {
    let query = this.db.selectFrom("trigger_state").selectAll();
    if (pipeline !== undefined) query = query.where("pipeline", "=", pipeline);
    const rows = await query.orderBy("pipeline").orderBy("trigger_id").execute();
    return rows.map(mapState);
  }

  async syncTriggers(pipeline: string, definitions: readonly TriggerDefinition[], at: string): Promise<void> {
    const rows: TriggerStateTable[] = definitions.map((d) => ({
      pipeline,
      trigger_id: d.triggerId,
      kind: d.kind,
      enabled: d.enabled ? 1 : 0,
      fingerprint: d.fingerprint,
      last_scheduled: null,
      next_due: null,
      first_seen_at: at,
      updated_at: at,
    }));
    await this.exclusive(() =>
      this.db.transaction().execute(async (trx) => {
        for (let i = 0; i < rows.length; i += CHUNK) {
          await trx
            .insertInto("trigger_state")
            .values(rows.slice(i, i + CHUNK))
            .onConflict((oc) =>
              oc.columns(["pipeline", "trigger_id"]).doUpdateSet({
                kind: sql`excluded.kind`,
                enabled: sql`excluded.enabled`,
                next_due: sql`case when trigger_state.fingerprint = excluded.fingerprint then trigger_state.next_due else null end`,
                fingerprint: sql`excluded.fingerprint`,
                updated_at: sql`excluded.updated_at`,
              }),
            )
            .execute();
        }
        let remove = trx.deleteFrom("trigger_state").where("pipeline", "=", pipeline);
        if (rows.length > 0) {
          const keep = rows.map((r) => r.trigger_id);
          remove = remove.where("trigger_id", "not in", keep);
        }
        await remove.execute();
      }),
    );
  }

  async deleteTriggersOfOtherPipelines(pipelines: readonly string[]): Promise<number> {
    return this.exclusive(async () => {
      let query = this.db.deleteFrom("trigger_state");
      if (pipelines.length > 0) query = query.where("pipeline", "not in", pipelines);
      const result = await query.executeTakeFirst();
      return Number(result.numDeletedRows);
    });
  }

  async advanceTrigger(pipeline: string, triggerId: string, lastScheduled: string | null, nextDue: string | null): Promise<void> {
    await this.exclusive(() =>
      this.db
        .updateTable("trigger_state")
        .set((eb) => ({
          last_scheduled:
            lastScheduled === null
              ? eb.ref("last_scheduled")
              : sql<string>`case when last_scheduled is null or last_scheduled < ${lastScheduled} then ${lastScheduled} else last_scheduled end`,
          next_due: nextDue,
        }))
        .where("pipeline", "=", pipeline)
        .where("trigger_id", "=", triggerId)
        .execute(),
    );
  }

  async setNextDue(updates: readonly { pipeline: string; triggerId: string; nextDue: string | null }[]): Promise<void> {
    if (updates.length === 0) return;
    await this.exclusive(() =>
      this.db.transaction().execute(async (trx) => {
        for (const u of updates) {
          await trx.updateTable("trigger_state").set({ next_due: u.nextDue }).where("pipeline", "=", u.pipeline).where("trigger_id", "=", u.triggerId).execute();
        }
      }),
    );
  }
}
