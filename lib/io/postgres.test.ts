import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { createServer, type AddressInfo, type Server } from "node:net";
import { DateDay, Decimal, Dictionary, TimestampMicrosecond, Vector, Field, Int32, makeData, RecordBatch, Schema, Struct, Table, tableFromArrays, Utf8, vectorFromArray } from "apache-arrow";
import { describeConnectorContract } from "./connector-contract";
import { firstDifference } from "../arrow/compare-tables";
import { encodeNumeric } from "../arrow/pg-binary-encode";
import { openDuckDB } from "./duckdb-session";
import { inlineParams, PostgresConnector } from "./postgres";

const URL = "postgres://postgres@127.0.0.1:5432/test";

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A fresh schema per test file section, dropped after. */
function freshSchema(): string {
  return `sluice_test_${randomUUID().slice(0, 8)}`;
}

describeConnectorContract("postgres", async () => {
  const schema = freshSchema();
  const connector = new PostgresConnector({ url: URL });
  return {
    connector,
    target: (name: string) => ({ write: { schema, table: name }, read: `SELECT * FROM "${schema}"."${name}"` }),
    cleanup: async () => {
      await connector.close();
      await admin((c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
    },
  };
}, { upstreamRefs: true });

describe("postgres connector", () => {
  let schema: string;
  let connector: PostgresConnector;
  beforeEach(() => {
    schema = freshSchema();
    connector = new PostgresConnector({ url: URL });
  });
  afterEach(async () => {
    await connector.close();
    await admin((c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
  });

  it("keeps the old table when a replace fails mid-load", async () => {
    await connector.write(tableFromArrays({ n: new Int32Array([1, 2, 3]) }), { schema, table: "t" });
    async function* failing() {
      yield tableFromArrays({ n: new Int32Array([7, 8]) }).batches[0];
      throw new Error("source broke");
    }
    await expect(connector.write(failing(), { schema, table: "t" }, { mode: "replace" })).rejects.toThrow(/source broke/);
    const after = await connector.read({ schema, table: "t" });
    expect(after.getChild("n")?.toArray()).toEqual(new Int32Array([1, 2, 3]));
    const tables = await admin((c) => c.query("SELECT tablename FROM pg_tables WHERE schemaname = $1", [schema]));
    expect(tables.rows.map((r) => r.tablename)).toEqual(["t"]);
  });

  it("refuses an existing table under fail and creates nothing on a first failed load", async () => {
    await connector.write(tableFromArrays({ n: new Int32Array([1]) }), `${schema}.t`);
    await expect(connector.write(tableFromArrays({ n: new Int32Array([2]) }), `${schema}.t`, { mode: "fail" })).rejects.toMatchObject({
      kind: "user",
      code: "target_exists",
    });
    async function* failing() {
      yield tableFromArrays({ n: new Int32Array([7]) }).batches[0];
      throw new Error("boom");
    }
    await expect(connector.write(failing(), `${schema}.fresh`, { mode: "fail" })).rejects.toThrow(/boom/);
    const tables = await admin((c) => c.query("SELECT tablename FROM pg_tables WHERE schemaname = $1", [schema]));
    expect(tables.rows.map((r) => r.tablename)).toEqual(["t"]);
  });

  it("refuses to append columns of another type", async () => {
    await connector.write(tableFromArrays({ n: new Int32Array([1]) }), `${schema}.t`);
    await expect(connector.write(tableFromArrays({ n: new Float64Array([1.5]) }), `${schema}.t`, { mode: "append" })).rejects.toThrow(/column n is int4, the data is float8/);
  });

  it("round-trips decimals, booleans, dates, timestamptz, dictionaries and sliced nulls", async () => {
    const words = new Uint32Array(4 * 4);
    const put = (row: number, value: bigint) => {
      let v = value < 0n ? (1n << 128n) + value : value;
      for (let w = 0; w < 4; w++) {
        words[row * 4 + w] = Number(v & 0xffffffffn);
        v >>= 32n;
      }
    };
    [123456n, -5n, 0n, 99999999999999n].forEach((v, i) => put(i, v));
    const decimal = makeData({ type: new Decimal(2, 16, 128), length: 4, data: words });
    const base = new Table({
      flag: vectorFromArray([true, false, true, false]),
      day: vectorFromArray([new Date("2020-01-01"), new Date("1969-12-31"), new Date("2000-02-29"), new Date("2024-01-31")], new DateDay()),
      label: vectorFromArray(["a", "b", "a", "c"], new Dictionary(new Utf8(), new Int32())),
      n: vectorFromArray([1, null, 3, 4], new Int32()),
      at: new Vector([makeData({ type: new TimestampMicrosecond("UTC"), length: 4, data: new BigInt64Array([0n, -1n, 1_700_000_000_123_456n, 946_684_800_000_000n]) })]),
    });
    const amountSchema = new Schema([new Field("amount", new Decimal(2, 16, 128))]);
    const amounts = new RecordBatch(amountSchema, makeData({ type: new Struct(amountSchema.fields), length: 4, children: [decimal] }));
    const table = base.assign(new Table([amounts]));
    const sliced = table.slice(1);
    await connector.write(sliced, `${schema}.mixed`);
    const back = await connector.read({ sql: `SELECT * FROM "${schema}".mixed WHERE amount IS NOT NULL OR $1`, params: [true] });
    expect(firstDifference(sliced, back)).toBeNull();
    const text = await admin((c) => c.query(`SELECT amount::text, pg_typeof(amount)::text AS t FROM "${schema}".mixed`));
    expect(text.rows.map((r) => r.amount)).toEqual(["-0.05", "0.00", "999999999999.99"]);
  });

  it("encodes numerics byte for byte as Postgres' numeric_send does", async () => {
    const cases: [bigint, number, string][] = [
      [123456n, 2, "1234.56"],
      [-5n, 2, "-0.05"],
      [0n, 3, "0.000"],
      [10000n, 0, "10000"],
      [1n, 9, "0.000000001"],
      [-123456789012345678901234567n, 10, "-12345678901234567.8901234567"],
    ];
    await admin(async (c) => {
      for (const [unscaled, scale, text] of cases) {
        const r = await c.query<{ b: Buffer }>("SELECT numeric_send($1::numeric) AS b", [text]);
        expect(encodeNumeric(unscaled, scale).toString("hex")).toBe(r.rows[0].b.toString("hex"));
      }
    });
  });

  it("reads types it cannot decode as text and inlines parameters safely", async () => {
    const table = await connector.read({ sql: "SELECT $1::text AS s, '{\"a\":1}'::jsonb AS j, 1.5::numeric AS n, gen_random_uuid() IS NOT NULL AS ok", params: ["it's; DROP TABLE x"] });
    expect(table.getChild("s")?.get(0)).toBe("it's; DROP TABLE x");
    expect(table.getChild("j")?.get(0)).toBe('{"a": 1}');
    expect(table.getChild("n")?.get(0)).toBe("1.5");
    expect(table.getChild("ok")?.get(0)).toBe(true);
    expect(inlineParams("SELECT '$1', $1", ["x"])).toBe("SELECT '$1', 'x'");
  });

  it("says clearly when the password is wrong or the host is down, without the password", async () => {
    // The Postgres here trusts local connections, so a wrong password is answered by a tiny server speaking
    // the real protocol: it asks for a cleartext password and rejects it with SQLSTATE 28P01, as Postgres does.
    const server = await passwordRejectingServer();
    const port = (server.address() as AddressInfo).port;
    const wrong = new PostgresConnector({ url: `postgres://alice:Sup3rSecret-pw@127.0.0.1:${port}/test` }, "warehouse");
    try {
      const error = await wrong.read("SELECT 1").catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: "user", code: "auth_failed" });
      expect(String((error as Error).message)).toMatch(/postgres "warehouse" \(alice@127.0.0.1:\d+\/test\): connect: authentication failed/);
      expect(String((error as Error).message)).not.toContain("Sup3rSecret-pw");
    } finally {
      await wrong.close();
      server.close();
    }
    const down = new PostgresConnector({ host: "127.0.0.1", port: 1, user: "u", password: "Sup3rSecret-pw", database: "db" }, "down");
    try {
      const error = await down.read("SELECT 1").catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: "operational", code: "db_unreachable" });
      expect(String((error as Error).message)).toMatch(/postgres "down" \(u@127.0.0.1:1\/db\): connect: cannot reach the server/);
      expect(String((error as Error).message)).not.toContain("Sup3rSecret-pw");
    } finally {
      await down.close();
    }
  });
});

describe("postgres connector: abort", () => {
  let connector: PostgresConnector;
  beforeEach(() => {
    connector = new PostgresConnector({ url: URL });
  });
  afterEach(() => connector.close());

  /** Statements of other sessions whose text contains `marker` and that are still running. */
  const activeWith = (marker: string) =>
    admin(async (c) => (await c.query("SELECT pid FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() AND query LIKE $1", [`%${marker}%`])).rows);

  test("an aborted read stops the statement on the server, not only the socket", async () => {
    const marker = `sluice_abort_${randomUUID().slice(0, 8)}`;
    const started = Date.now();
    const error = await connector.read(`SELECT pg_sleep(30) AS slept, '${marker}' AS marker`, { signal: AbortSignal.timeout(300) }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "cancelled" });
    expect(Date.now() - started).toBeLessThan(2_000);
    // The cancel was delivered before read() returned; give the backend a moment to act on it.
    let running = await activeWith(marker);
    for (let i = 0; i < 10 && running.length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      running = await activeWith(marker);
    }
    expect(running).toEqual([]);
  });

  test("a stream aborted while batches flow ends and leaves nothing running", async () => {
    const marker = `sluice_abort_${randomUUID().slice(0, 8)}`;
    const abort = new AbortController();
    const started = Date.now();
    const consume = async () => {
      for await (const batch of connector.stream(`SELECT g, '${marker}' AS marker, pg_sleep(CASE WHEN g = 100000 THEN 30 ELSE 0 END) FROM generate_series(1, 100001) g`, { signal: abort.signal })) {
        if (batch.numRows > 0) setTimeout(() => abort.abort(), 300);
      }
    };
    await expect(consume()).rejects.toMatchObject({ code: "cancelled" });
    expect(Date.now() - started).toBeLessThan(5_000);
    let running = await activeWith(marker);
    for (let i = 0; i < 10 && running.length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      running = await activeWith(marker);
    }
    expect(running).toEqual([]);
  });
});

/** Answers every startup with AuthenticationCleartextPassword, then FATAL 28P01 whatever the password. */
async function passwordRejectingServer(): Promise<Server> {
  const server = createServer((socket) => {
    let stage = 0;
    socket.on("data", () => {
      if (stage++ === 0) {
        const auth = Buffer.alloc(9);
        auth.write("R", 0);
        auth.writeInt32BE(8, 1);
        auth.writeInt32BE(3, 5);
        socket.write(auth);
        return;
      }
      const fields = Buffer.from("SFATAL\0C28P01\0Mpassword authentication failed for user \"alice\"\0\0");
      const head = Buffer.alloc(5);
      head.write("E", 0);
      head.writeInt32BE(4 + fields.length, 1);
      socket.end(Buffer.concat([head, fields]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

describe("postgres connector: an upstream written by reference", () => {
  const schema = freshSchema();
  const connector = new PostgresConnector({ url: URL });
  let dir: string;
  /** A persisted SQL output of 100,000 rows over 10 days (more batches than COPY streams), like clean_trips. */
  let ref: { kind: "upstream"; name: string; path: string; format: "parquet" };
  const perDay = async (): Promise<Record<string, string>> =>
    Object.fromEntries(
      (await admin((c) => c.query<{ day: string; n: string; total: string }>(`SELECT day::text AS day, count(*) AS n, sum(amount)::text AS total FROM "${schema}".trips GROUP BY 1 ORDER BY 1`))).rows.map(
        (r) => [r.day, `${r.n}:${r.total}`],
      ),
    );
  const tables = async (): Promise<string[]> => (await admin((c) => c.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY 1", [schema]))).rows.map((r) => r.tablename);
  const day = (d: string) => ({ sql: "day = $1::date", params: [d] });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "sluice-pg-ref-"));
    const session = await openDuckDB();
    try {
      const path = join(dir, "trips.parquet");
      await session.connection.run(
        `COPY (SELECT i AS id, DATE '2020-10-01' + CAST(i % 10 AS INTEGER) AS day, i * 0.25 AS amount, CASE WHEN i % 7 = 0 THEN NULL ELSE 'v' || i END AS note FROM range(100000) t(i)) TO '${path}' (FORMAT parquet)`,
      );
      ref = { kind: "upstream", name: "trips", path, format: "parquet" };
    } finally {
      session.close();
    }
  });
  afterAll(async () => {
    await connector.close();
    await admin((c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
    await rm(dir, { recursive: true, force: true });
  });

  it("loads every row into a missing table through parallel COPY streams, with values and nulls intact", async () => {
    const result = await connector.write(ref, { schema, table: "trips" });
    expect(result.rows).toBe(100_000);
    const check = await admin((c) =>
      c.query<{ n: string; ids: string; nulls: string; total: string }>(`SELECT count(*) AS n, count(DISTINCT id) AS ids, count(*) - count(note) AS nulls, sum(amount)::text AS total FROM "${schema}".trips`),
    );
    expect(check.rows[0]).toEqual({ n: "100000", ids: "100000", nulls: String(Math.ceil(100_000 / 7)), total: "1249987500.00" });
    const types = await admin((c) =>
      c.query<{ name: string; type: string }>("SELECT column_name AS name, data_type AS type FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'trips' ORDER BY ordinal_position", [schema]),
    );
    expect(types.rows.map((r) => `${r.name} ${r.type}`)).toEqual(["id bigint", "day date", "amount numeric", "note text"]);
    expect(await tables()).toEqual(["trips"]);
  });

  it("replaces one slice of an existing table and leaves every other row as it was", async () => {
    const before = await perDay();
    const result = await connector.write(ref, { schema, table: "trips" }, { replaceWhere: { sql: "day >= $1::date AND day < $2::date", params: ["2020-10-01", "2020-10-11"] } });
    expect(result.rows).toBe(100_000);
    expect(await perDay()).toEqual(before);
    // Only rows of 2020-10-03 in the data: the other nine days are not touched.
    const session = await openDuckDB();
    const oneDay = join(dir, "one-day.parquet");
    try {
      await session.connection.run(`COPY (SELECT * FROM read_parquet('${ref.path}') WHERE day = DATE '2020-10-03' LIMIT 5) TO '${oneDay}' (FORMAT parquet)`);
    } finally {
      session.close();
    }
    await connector.write({ ...ref, path: oneDay }, { schema, table: "trips" }, { replaceWhere: day("2020-10-03") });
    const after = await perDay();
    expect(after["2020-10-03"]).toMatch(/^5:/);
    for (const d of Object.keys(before).filter((d) => d !== "2020-10-03")) expect(after[d]).toBe(before[d]);
    expect(await tables()).toEqual(["trips"]);
  });

  it("refuses rows outside the slice and under fail, leaving the table and no staging table behind", async () => {
    const before = await perDay();
    await expect(connector.write(ref, { schema, table: "trips" }, { replaceWhere: day("2020-10-01") })).rejects.toMatchObject({
      code: "outside_slice",
      message: expect.stringMatching(/90000 of 100000 rows do not match replaceWhere/),
    });
    await expect(connector.write(ref, { schema, table: "trips" }, { mode: "fail" })).rejects.toMatchObject({ code: "target_exists" });
    await expect(connector.write({ ...ref, path: join(dir, "missing.parquet") }, { schema, table: "trips" })).rejects.toThrow(/missing\.parquet/);
    expect(await perDay()).toEqual(before);
    expect(await tables()).toEqual(["trips"]);
  });
});
