/**
 * The production metadata store: PostgreSQL through `pg`, chosen when `DATABASE_URL` is set,
 * for a server with several processes or machines (distributed workers, a standalone scheduler). The
 * queries are the shared Kysely ones (`KyselyRunStore`); only the connection differs. PostgreSQL
 * serialises concurrent writers itself, so no in-process write lock is needed, and Kysely's Migrator
 * takes an advisory lock so that two processes starting together migrate once.
 */
import { Kysely, PostgresDialect } from "kysely";
import { Pool } from "pg";
import { KyselyRunStore } from "./kysely-run-store";
import { migrateToLatest } from "./migrations";
import type { MetadataDatabase } from "./schema";

export interface PostgresRunStoreOptions {
  /**
   * Tables go in this schema (created if missing) instead of the connection's default: lets tests, or
   * several Sluice installations, share one database without seeing each other.
   */
  schema?: string;
  /** Connections in the pool. Default 10. */
  maxConnections?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** `RunStore` (and `TriggerStore`) in PostgreSQL; open with `PostgresRunStore.open(databaseUrl)`. */
export class PostgresRunStore extends KyselyRunStore {
  private constructor(db: Kysely<MetadataDatabase>) {
    super(db);
  }

  /**
   * Connects and brings the schema up to date.
   *
   * @throws Error from `pg` when the database cannot be reached; UnexpectedError `migration_failed`.
   */
  static async open(databaseUrl: string, options: PostgresRunStoreOptions = {}): Promise<PostgresRunStore> {
    const { schema } = options;
    if (schema !== undefined && !SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name ${JSON.stringify(schema)}`);
    const pool = new Pool({
      connectionString: databaseUrl,
      max: options.maxConnections ?? 10,
      ...(schema !== undefined ? { options: `-c search_path=${schema}` } : {}),
    });
    const db = new Kysely<MetadataDatabase>({ dialect: new PostgresDialect({ pool }) });
    const store = new PostgresRunStore(db);
    try {
      if (schema !== undefined) {
        const client = await pool.connect();
        try {
          await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
        } catch (error) {
          // Two processes creating the schema at once: the loser sees a unique violation; the schema exists.
          if (!(error instanceof Error && "code" in error && error.code === "23505")) throw error;
        } finally {
          client.release();
        }
      }
      // Kysely's own tables go in the schema our tables go in (the search_path's first schema by default).
      const current = schema ?? (await pool.query<{ schema: string | null }>("SELECT current_schema() AS schema")).rows[0]?.schema ?? "public";
      await migrateWithRetry(() => migrateToLatest(db, { migrationTableSchema: current }));
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }
}

/**
 * Two processes starting at once may both try to create Kysely's bookkeeping tables; PostgreSQL can then
 * fail the loser (a unique violation in the catalog) before the winner's table is visible. The second
 * attempt finds the tables and waits on the migration lock like any later process, so retry a few times.
 */
async function migrateWithRetry(migrate: () => Promise<void>, attempts = 4): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await migrate();
      return;
    } catch (error) {
      if (attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}
