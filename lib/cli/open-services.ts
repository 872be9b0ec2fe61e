import { OperationalError } from "../core/errors";
import { readEnv } from "../server/env";
import { createServices, type ServiceOptions, type Services } from "../server/services";
import { connectionFailure, errorCode } from "./failure-report";

/**
 * `createServices` for a command: a metadata database that does not answer, or refuses the connection,
 * becomes one error naming DATABASE_URL (its password hidden) instead of the driver's socket error.
 *
 * @throws OperationalError `database_unreachable`, or whatever `createServices` throws.
 */
export async function openServices(options: ServiceOptions): Promise<Services> {
  try {
    return await createServices(options);
  } catch (error) {
    const databaseUrl = (options.env ?? readEnv()).DATABASE_URL;
    if (databaseUrl === undefined || databaseUrl === "") throw error;
    const connection = connectionFailure(error);
    if (connection !== null) {
      throw new OperationalError("database_unreachable", `the metadata database at DATABASE_URL ${withoutPassword(databaseUrl)} does not answer: ${connection}`, {}, { cause: error });
    }
    if (isPostgresError(error)) {
      throw new OperationalError("database_refused", `the metadata database at DATABASE_URL ${withoutPassword(databaseUrl)} refused: ${error.message}`, {}, { cause: error });
    }
    throw error;
  }
}

/** The URL as it can be shown: the password replaced, and nothing at all if it does not parse. */
export function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(not a URL)";
  }
}

/** A PostgreSQL server's answer (bad password, unknown database): a five-character SQLSTATE and a severity. */
function isPostgresError(error: unknown): error is Error {
  return error instanceof Error && /^[0-9A-Z]{5}$/.test(errorCode(error) ?? "") && "severity" in error;
}
