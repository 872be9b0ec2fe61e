/**
 * The embedded metadata store: SQLite through better-sqlite3, in WAL mode, in a file under the
 * data directory, shared by the server, the CLI, the scheduler and local workers at the same time.
 *
 * Sharing one file safely takes three things:
 * - WAL mode, so readers never wait for the writer, and a busy timeout, so a writer waits for another
 *   process's write instead of failing at once;
 * - `BEGIN IMMEDIATE` transactions, so a transaction takes the write lock up front (a deferred one that
 *   reads first can fail with SQLITE_BUSY when another connection writes in between, without waiting);
 * - in-process serialisation of writes between stores opened on the same file: better-sqlite3 waits for a
 *   lock synchronously, so inside one thread it would wait for a transaction that can only finish once the
 *   thread is free again.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import {
  CompiledQuery,
  Kysely,
  SqliteAdapter,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  type SqliteDialectConfig,
} from "kysely";
import { KyselyRunStore, type ExclusiveWrite } from "./kysely-run-store";
import { migrateToLatest } from "./migrations";
import type { MetadataDatabase } from "./schema";

/** Tuning of the embedded store. */
export interface SqliteRunStoreOptions {
  /** How long a write waits for another process's write lock before failing. Default 5000 ms. */
  busyTimeoutMs?: number;
}

/** Starts transactions with `BEGIN IMMEDIATE`. */
class ImmediateTransactionDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("begin immediate"));
  }
}

/** SQLite does support transactional DDL; saying so makes Kysely's Migrator run inside one transaction. */
class TransactionalDdlAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class SharedFileSqliteDialect extends SqliteDialect {
  constructor(private readonly dialectConfig: SqliteDialectConfig) {
    super(dialectConfig);
  }
  override createDriver(): Driver {
    return new ImmediateTransactionDriver(this.dialectConfig);
  }
  override createAdapter(): DialectAdapter {
    return new TransactionalDdlAdapter();
  }
}

/** A promise-chain mutex. */
class AsyncMutex {
  private tail: Promise<void> = Promise.resolve();
  users = 0;
  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

/** One mutex per database file in this process, shared by every store opened on it. */
const fileMutexes = new Map<string, AsyncMutex>();

function acquireMutex(key: string): AsyncMutex {
  let mutex = fileMutexes.get(key);
  if (!mutex) {
    mutex = new AsyncMutex();
    fileMutexes.set(key, mutex);
  }
  mutex.users++;
  return mutex;
}

function releaseMutex(key: string, mutex: AsyncMutex): void {
  mutex.users--;
  if (mutex.users === 0 && fileMutexes.get(key) === mutex) fileMutexes.delete(key);
}

/** `RunStore` in a SQLite file; open with `SqliteRunStore.open(file)`. */
export class SqliteRunStore extends KyselyRunStore {
  private constructor(db: Kysely<MetadataDatabase>, exclusive: ExclusiveWrite, onClose: () => void) {
    super(db, { exclusive, onClose });
  }

  /**
   * Opens (creating if needed) the database file and brings its schema up to date. `":memory:"` gives a
   * private in-memory database (tests).
   */
  static async open(file: string, options: SqliteRunStoreOptions = {}): Promise<SqliteRunStore> {
    const inMemory = file === ":memory:";
    const resolved = inMemory ? file : path.resolve(file);
    if (!inMemory) mkdirSync(path.dirname(resolved), { recursive: true });
    const database = new Database(resolved, { timeout: options.busyTimeoutMs ?? 5000 });
    try {
      database.pragma("journal_mode = WAL");
      database.pragma("synchronous = NORMAL");
      database.pragma("foreign_keys = ON");
    } catch (error) {
      database.close();
      throw error;
    }
    const key = inMemory ? `:memory:${Math.random()}` : resolved;
    const mutex = acquireMutex(key);
    const db = new Kysely<MetadataDatabase>({ dialect: new SharedFileSqliteDialect({ database }) });
    const store = new SqliteRunStore(db, (work) => mutex.run(work), () => releaseMutex(key, mutex));
    try {
      await mutex.run(() => migrateToLatest(db));
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }
}
