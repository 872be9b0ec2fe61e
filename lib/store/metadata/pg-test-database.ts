/**
 * Test helper: a throw-away schema in the real PostgreSQL on this machine (integration tests
 * use the real database), so concurrent test files never see each other's rows.
 */
import { randomBytes } from "node:crypto";
import { Client } from "pg";

/** The test database (trust auth on 127.0.0.1). */
export const TEST_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test";

/** A fresh, unique schema name. */
export function freshSchemaName(prefix = "sluice_test"): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
}

/** Drops a schema and everything in it. */
export async function dropSchema(schema: string, url = TEST_DATABASE_URL): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
