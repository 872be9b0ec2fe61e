/**
 * SLA misses: a run recorded here has had its `sla_miss` notice claimed. The insert is the claim (the run id
 * is the key), so of two schedulers, or one restarted, exactly one sends the notice.
 */
import { KyselyStorePart } from "./kysely-store-part";

export interface SlaMissStore {
  /** Claims the SLA miss of a run: true for the one caller that recorded it, false when it already was. */
  claimSlaMiss(miss: { runId: string; pipeline: string; triggerId: string; at: string }): Promise<boolean>;
}

/** `SlaMissStore` over the metadata database (SQLite or PostgreSQL). */
export class KyselySlaMissStore extends KyselyStorePart implements SlaMissStore {
  async claimSlaMiss(miss: { runId: string; pipeline: string; triggerId: string; at: string }): Promise<boolean> {
    return this.exclusive(async () => {
      const result = await this.db
        .insertInto("sla_misses")
        .values({ run_id: miss.runId, pipeline: miss.pipeline, trigger_id: miss.triggerId, missed_at: miss.at })
        .onConflict((oc) => oc.column("run_id").doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
    });
  }
}
