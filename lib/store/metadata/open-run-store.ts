/**
 * Chooses the metadata store from the environment: PostgreSQL when `DATABASE_URL` is set,
 * else the embedded SQLite file. One place, so the server, the CLI and the standalone scheduler can never
 * disagree about where runs live.
 */
import { PostgresRunStore } from "./postgres-run-store";
import type { MetadataStore, RunStore } from "./run-store";
import { SqliteRunStore } from "./sqlite-run-store";

/** The part of the environment that picks the store (`lib/server/env.ts` parses it). */
export interface RunStoreEnv {
  DATABASE_URL?: string;
}

/**
 * Opens the metadata store: `PostgresRunStore` for `env.DATABASE_URL`, otherwise `SqliteRunStore` on
 * `sqliteFile` (e.g. `<data dir>/sluice.db`).
 */
export async function createRunStore(env: RunStoreEnv, sqliteFile: string): Promise<MetadataStore> {
  const url = env.DATABASE_URL;
  if (url !== undefined && url !== "") return PostgresRunStore.open(url);
  return SqliteRunStore.open(sqliteFile);
}

/**
 * Whether a run store also carries the scheduler's state (every Kysely store does): lets commands that
 * receive `Services.runs`, typed as the narrow `RunStore`, reach the trigger tables without a cast.
 */
export function isMetadataStore(store: RunStore): store is MetadataStore {
  return "triggers" in store && typeof store.triggers === "object" && store.triggers !== null;
}
