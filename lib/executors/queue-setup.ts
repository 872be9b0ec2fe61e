/**
 * Whether a distributed setup can work, decided before anything starts ("refuse SQLite with a
 * clear message"). Pure: the callers pass what they read from the environment and flags.
 *
 * The decision:
 * - `executor: queue` needs `REDIS_URL` (BullMQ is the engine).
 * - Run metadata in SQLite is a file on one machine. With `DATABASE_URL` (PostgreSQL) workers may run
 *   anywhere. Without it the setup is refused unless it is declared single-machine (`--local` for
 *   `sluice worker`, `singleMachine` for the server): then the server, the scheduler and every worker
 *   share this machine's data directory — the SQLite file (WAL, safe across processes) and the output store.
 * - Across machines the output store must be a directory every machine mounts (same layout; the mount
 *   point may differ: output paths are re-rooted on arrival).
 */
import { UserError } from "../core/errors";

export interface QueueSetupInput {
  redisUrl?: string;
  databaseUrl?: string;
  /** Every worker runs on this machine and shares its data directory (SQLite is then fine). */
  singleMachine: boolean;
  /** Who asks, for the message: `sluice worker` or `executor: queue`. */
  who: string;
}

/** A checked distributed setup. */
export interface QueueSetup {
  redisUrl: string;
  metadata: { kind: "postgres"; url: string } | { kind: "sqlite" };
}

/**
 * @throws UserError `redis_required` without REDIS_URL; `postgres_required` with SQLite metadata and
 * workers possibly on other machines (the message says both ways out).
 */
export function checkQueueSetup(input: QueueSetupInput): QueueSetup {
  if (!input.redisUrl) {
    throw new UserError("redis_required", `${input.who} needs Redis: set REDIS_URL (e.g. redis://127.0.0.1:6379)`);
  }
  if (input.databaseUrl) {
    if (!/^postgres(ql)?:\/\//.test(input.databaseUrl)) {
      throw new UserError("postgres_required", `${input.who}: DATABASE_URL must be a postgres:// URL for distributed workers`);
    }
    return { redisUrl: input.redisUrl, metadata: { kind: "postgres", url: input.databaseUrl } };
  }
  if (!input.singleMachine) {
    throw new UserError(
      "postgres_required",
      `${input.who}: run metadata is in SQLite, a file on one machine, so workers on other machines cannot share it. ` +
        `Set DATABASE_URL=postgres://… for workers on several machines, or declare a single-machine setup ` +
        `(sluice worker --local) where the server and every worker share this machine's data directory.`,
    );
  }
  return { redisUrl: input.redisUrl, metadata: { kind: "sqlite" } };
}
