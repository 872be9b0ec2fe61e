import { Client } from "pg";
import { MIGRATIONS } from "./migrations";
import { createRunStore } from "./open-run-store";
import { dropSchema, freshSchemaName, TEST_DATABASE_URL } from "./pg-test-database";
import { PostgresRunStore } from "./postgres-run-store";
import { ownershipContract } from "./ownership.contract";
import { runStoreContract } from "./run-store.contract";
import { SqliteRunStore } from "./sqlite-run-store";
import { triggerStoreContract } from "./trigger-store.contract";

function pgFixture() {
  const schema = freshSchemaName();
  return {
    open: () => PostgresRunStore.open(TEST_DATABASE_URL, { schema, maxConnections: 4 }),
    cleanup: () => dropSchema(schema),
  };
}

runStoreContract("postgres (own schema)", async () => pgFixture());
triggerStoreContract("postgres (own schema)", async () => pgFixture());
ownershipContract("postgres (own schema)", async () => pgFixture());

describe("PostgresRunStore", () => {
  it("puts its tables in the given schema and migrates once when two stores open together", async () => {
    const schema = freshSchemaName();
    try {
      const [a, b] = await Promise.all([
        PostgresRunStore.open(TEST_DATABASE_URL, { schema }),
        PostgresRunStore.open(TEST_DATABASE_URL, { schema }),
      ]);
      await a.close();
      await b.close();
      const client = new Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      try {
        const { rows } = await client.query<{ table_name: string }>(
          "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name",
          [schema],
        );
        expect(rows.map((r) => r.table_name)).toEqual(
          expect.arrayContaining(["block_attempts", "block_runs", "runs", "scheduled_runs", "trigger_state", "backfills", "backfill_runs", "trigger_tokens"]),
        );
        const migrations = await client.query<{ name: string }>(`SELECT name FROM "${schema}".kysely_migration ORDER BY name`);
        expect(migrations.rows.map((r) => r.name)).toEqual(Object.keys(MIGRATIONS).sort());
      } finally {
        await client.end();
      }
    } finally {
      await dropSchema(schema);
    }
  });

  it("refuses a schema name that is not a plain identifier", async () => {
    await expect(PostgresRunStore.open(TEST_DATABASE_URL, { schema: 'x"; drop table runs; --' })).rejects.toThrow(/invalid schema name/);
  });

  it("createRunStore picks PostgreSQL for DATABASE_URL (schema from the URL's search_path)", async () => {
    const schema = freshSchemaName();
    const client = new Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    try {
      await client.query(`CREATE SCHEMA "${schema}"`);
      const store = await createRunStore({ DATABASE_URL: `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}` }, ":memory:");
      try {
        expect(store).toBeInstanceOf(PostgresRunStore);
        const run = await store.createRun({ pipeline: "p", trigger: "manual", logicalDate: "2024-01-01T00:00:00.000Z", variables: {}, mode: "pipeline", blocks: ["a"] });
        const { rows } = await client.query<{ id: string }>(`SELECT id FROM "${schema}".runs`);
        expect(rows.map((r) => r.id)).toEqual([run.id]);
        const migrations = await client.query<{ name: string }>(`SELECT name FROM "${schema}".kysely_migration ORDER BY name`);
        expect(migrations.rows).toHaveLength(Object.keys(MIGRATIONS).length);
      } finally {
        await store.close();
      }
    } finally {
      await client.end();
      await dropSchema(schema);
    }
  });

  it("createRunStore picks SQLite without DATABASE_URL", async () => {
    const store = await createRunStore({}, ":memory:");
    expect(store).toBeInstanceOf(SqliteRunStore);
    await store.close();
    const empty = await createRunStore({ DATABASE_URL: "" }, ":memory:");
    expect(empty).toBeInstanceOf(SqliteRunStore);
    await empty.close();
  });
});
