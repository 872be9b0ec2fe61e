/**
 * API-trigger tokens: only the hash of each trigger's token is stored (one per trigger, replaced on
 * rotation), so a copy of the metadata database cannot start runs.
 */
import { KyselyStorePart } from "./kysely-store-part";

/** The token hash of each API trigger; every method is atomic on its own. */
export interface ApiTokenStore {
  /** Stores (or replaces: rotation) the hash of a trigger's API token. */
  setTokenHash(pipeline: string, triggerId: string, hash: string, at: string): Promise<void>;
  getTokenHash(pipeline: string, triggerId: string): Promise<string | null>;
  deleteToken(pipeline: string, triggerId: string): Promise<boolean>;
}

/** `ApiTokenStore` over the metadata database (SQLite or PostgreSQL). */
export class KyselyApiTokenStore extends KyselyStorePart implements ApiTokenStore {
  async setTokenHash(pipeline: string, triggerId: string, hash: string, at: string): Promise<void> {
    await this.exclusive(() =>
      this.db
        .insertInto("trigger_tokens")
        .values({ pipeline, trigger_id: triggerId, token_hash: hash, created_at: at })
        .onConflict((oc) => oc.columns(["pipeline", "trigger_id"]).doUpdateSet({ token_hash: hash, created_at: at }))
        .execute(),
    );
  }

  async getTokenHash(pipeline: string, triggerId: string): Promise<string | null> {
    const row = await this.db.selectFrom("trigger_tokens").select("token_hash").where("pipeline", "=", pipeline).where("trigger_id", "=", triggerId).executeTakeFirst();
    return row?.token_hash ?? null;
  }

  async deleteToken(pipeline: string, triggerId: string): Promise<boolean> {
    return this.exclusive(async () => {
      const result = await this.db.deleteFrom("trigger_tokens").where("pipeline", "=", pipeline).where("trigger_id", "=", triggerId).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    });
  }
}
