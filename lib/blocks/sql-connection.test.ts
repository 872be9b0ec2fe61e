/**
 * SQL blocks with `connection:` against the real Postgres and a real DuckDB warehouse file, through
 * `runSqlBlock` with real run databases and the real output store. Upstreams are real outputs (the TLC
 * zone lookup read by a DuckDB block).
 */
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { DEFAULT_RETRY_POLICY, type BlockSpec } from "../core/model";
import type { BlockInput, BlockRunRequest, LogLine } from "../core/execution";
import { DuckDBWarehouse } from "../io/duckdb-warehouse";
import { parseProfiles } from "../io/profiles";
import { OutputStore } from "../store/output-store";
import { taxiDataDir } from "../../test/taxi-data";
import { RunDatabases } from "./run-database";
import { runSqlBlock, type SqlBlockDeps } from "./sql-block";
import { referencedUpstreams, sqlIdentifiers, STAGING_SCHEMA, withStagedUpstreams } from "./sql-connection";

jest.setTimeout(120_000);

const PG_URL = "postgres://postgres@127.0.0.1:5432/test";
const schema = `sluice_sqlconn_${randomUUID().slice(0, 8)}`;

describe("which upstreams a query mentions, and the WITH prefix that makes them visible", () => {
  it("reads names outside strings and comments; quoted names keep their case", () => {
    const words = sqlIdentifiers(`SELECT 'zones' AS s, $$trips$$ AS d -- trips\n/* fares */ FROM "Zones" JOIN clean_Trips USING (id)`);
    expect(words.has("zones")).toBe(false);
    expect(words.has("Zones")).toBe(true);
    expect(words.has("trips")).toBe(false);
    expect(words.has("fares")).toBe(false);
    expect(words.has("clean_trips")).toBe(true);
    expect(referencedUpstreams("select * from CLEAN_TRIPS", ["clean_trips", "zones"])).toEqual(["clean_trips"]);
  });

  it("prepends the staged names, or joins the query's own WITH [RECURSIVE] list", () => {
    const staged = new Map([["zones", "zones_abc"]]);
    expect(withStagedUpstreams("SELECT * FROM zones", staged)).toBe(`WITH "zones" AS (SELECT * FROM "sluice_staging"."zones_abc")\nSELECT * FROM zones`);
    expect(withStagedUpstreams("-- top\nwith recursive r AS (SELECT 1) SELECT * FROM r, zones", staged)).toBe(
      `-- top\nWITH recursive "zones" AS (SELECT * FROM "sluice_staging"."zones_abc"),\n r AS (SELECT 1) SELECT * FROM r, zones`,
    );
    expect(withStagedUpstreams("SELECT 1", new Map())).toBe("SELECT 1");
  });
});

describe("SQL blocks with connection: (ELT in Postgres and in the DuckDB warehouse)", () => {
  let tmp: string;
  let pipelineDir: string;
  let outputs: OutputStore;
  let databases: RunDatabases;
  let deps: SqlBlockDeps;
  let client: pg.Client;
  let zones: BlockInput;
  const runId = `run_sqlconn_${Date.now()}`;
  const logs: LogLine[] = [];

  function spec(name: string, connection: string | null, upstream: string[] = []): BlockSpec {
    return { name, type: "transformer", language: "sql", upstream, retries: DEFAULT_RETRY_POLICY, timeoutMs: null, connection, queue: null };
  }

  function request(block: BlockSpec, sql: string, inputs: BlockInput[] = [], variables: Record<string, string> = {}): BlockRunRequest {
    writeFileSync(join(pipelineDir, `${block.name}.sql`), sql);
    return {
      runId,
      pipelineName: "elt",
      pipelineDir,
      projectDir: tmp,
      block,
      inputs,
      variables,
      logicalDate: "2020-10-01T00:00:00.000Z",
      dataInterval: { start: "2020-09-30T00:00:00.000Z", end: "2020-10-01T00:00:00.000Z" },
      attempt: 1,
      timeoutMs: 60_000,
      signal: new AbortController().signal,
      onLog: (line) => logs.push(line),
      onProgress: () => undefined,
      outputs,
    };
  }

  async function run(block: BlockSpec, sql: string, inputs: BlockInput[] = [], variables: Record<string, string> = {}): Promise<BlockInput> {
    const result = await runSqlBlock(request(block, sql, inputs, variables), deps);
    if (result.output === null) throw new Error("no output");
    return { name: block.name, output: result.output };
  }

  const stagingTables = async () =>
    Number((await client.query("SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name LIKE $2", [STAGING_SCHEMA, `%${runId.slice(-8)}%`])).rows[0].n);

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), "sluice-sql-connection-"));
    pipelineDir = join(tmp, "pipelines", "elt");
    mkdirSync(pipelineDir, { recursive: true });
    outputs = new OutputStore(join(tmp, ".sluice"));
    databases = new RunDatabases(join(tmp, "duckdb"));
    const profiles = parseProfiles(
      `connections:\n  pg: { kind: postgres, url: "${PG_URL}", schema: ${schema} }\n  wh: { kind: duckdb, path: warehouse.duckdb }\n  lake: { kind: gcs, bucket: b }\n`,
      "sluice.yaml",
      {},
    );
    deps = { databases, connections: { profiles, dataDir: join(tmp, ".sluice"), projectDir: tmp } };
    client = new pg.Client(PG_URL);
    await client.connect();
    await client.query(`CREATE SCHEMA "${schema}"`);
    await client.query(`CREATE TABLE "${schema}".borough_names (borough text, official text)`);
    await client.query(`INSERT INTO "${schema}".borough_names VALUES ('Manhattan', 'New York County'), ('Brooklyn', 'Kings County'), ('Unknown', NULL)`);
    const csv = join(taxiDataDir(), "taxi_zone_lookup.csv").replace(/'/g, "''");
    zones = await run(spec("zones", null), `SELECT * FROM read_csv('${csv}', header = true, all_varchar = false)`);
  });

  afterAll(async () => {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
    await databases.closeAll();
    await outputs.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("Postgres: joins an upstream (staged by binary COPY) with a Postgres table; variables are bound; the result is the block's output", async () => {
    const sql = `-- per borough, in Postgres
SELECT z."Borough" AS borough, b.official, count(*)::int4 AS zones, sum(z."LocationID")::int8 AS id_sum,
       bool_or(z."Zone" = 'NA') AS has_na_zone
FROM zones z LEFT JOIN borough_names b ON b.borough = z."Borough"
WHERE z."Borough" <> {{ variables.skip }}
GROUP BY 1, 2 ORDER BY 1`;
    const out = await run(spec("by_borough", "pg", ["zones"]), sql, [zones], { skip: "EWR" });
    expect(out.output.summary.rows).toBe(6);
    // A downstream DuckDB block reads it like any SQL output, from the run database.
    const check = await run(
      spec("check", null, ["by_borough"]),
      "SELECT string_agg(borough || ':' || zones || ':' || coalesce(official, '-') || ':' || has_na_zone, ',' ORDER BY borough) AS s, sum(id_sum) AS ids FROM by_borough",
      [out],
    );
    const db = await databases.get(runId);
    const connection = await db.connect();
    try {
      const rows = (await connection.runAndReadAll(`SELECT s, ids FROM "${check.name}"`)).getRowObjects();
      // The "NA" zone arrives as a string (not null) in Postgres and comes back unchanged.
      expect(rows[0].s).toBe("Bronx:43:-:false,Brooklyn:61:Kings County:false,Manhattan:69:New York County:false,Queens:69:-:false,Staten Island:20:-:false,Unknown:2:-:true");
      // Every LocationID but EWR's (1): 2 + 3 + … + 265.
      expect(Number(rows[0].ids)).toBe((265 * 266) / 2 - 1);
    } finally {
      db.release(connection);
    }
    expect(await stagingTables()).toBe(0);
    expect(logs.some((l) => /upstream zones \(265 rows\) staged in postgres "pg" as sluice_staging\./.test(l.message))).toBe(true);
  });

  it("Postgres: an upstream the SQL does not mention is not copied; a query with its own WITH still sees the upstream", async () => {
    logs.length = 0;
    const out = await run(spec("own_with", "pg", ["zones"]), "WITH m AS (SELECT official FROM borough_names WHERE official IS NOT NULL) SELECT count(*)::int4 AS n FROM m", [zones]);
    expect(out.output.summary.rows).toBe(1);
    expect(logs.some((l) => l.message.includes("staged"))).toBe(false);
    const both = await run(spec("own_with_2", "pg", ["zones"]), `WITH m AS (SELECT 1 AS one) SELECT count(*)::int4 AS n FROM zones, m WHERE "Zone" IN ('NA', 'N/A', 'NV')`, [zones]);
    expect(both.output.summary.rows).toBe(1);
  });

  it("DuckDB warehouse: runs in the warehouse file, next to its own tables", async () => {
    const warehouse = new DuckDBWarehouse({ path: join(tmp, "warehouse.duckdb") }, { dataDir: join(tmp, ".sluice") });
    await warehouse.execute("CREATE TABLE service (zone_type VARCHAR, paid BOOLEAN); INSERT INTO service VALUES ('Yellow Zone', true), ('Boro Zone', false)");
    await warehouse.close();
    const out = await run(
      spec("by_service", "wh", ["zones"]),
      "SELECT z.service_zone, s.paid, count(*) AS n FROM zones z JOIN service s ON s.zone_type = z.service_zone GROUP BY ALL ORDER BY 1",
      [zones],
    );
    expect(out.output.summary.rows).toBe(2);
    await expect(run(spec("wipe", "wh", []), "DELETE FROM service")).rejects.toMatchObject({ kind: "user", message: expect.stringMatching(/^block wipe \(pipelines\/elt\/wipe\.sql\) is a DELETE statement; a SQL block is one SELECT/) });
    const back = new DuckDBWarehouse({ path: join(tmp, "warehouse.duckdb") }, { dataDir: join(tmp, ".sluice") });
    try {
      const left = await back.read(`SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = '${STAGING_SCHEMA}'`);
      expect(Number(left.getChild("n")?.get(0))).toBe(0);
      expect(Number((await back.read("SELECT count(*) AS n FROM service")).getChild("n")?.get(0))).toBe(2);
    } finally {
      await back.close();
    }
  });

  it("bad input: unknown connection, a connection of another kind, bad SQL, a statement that is not a query — each names the block", async () => {
    await expect(run(spec("x1", "nope", []), "SELECT 1")).rejects.toThrow(/block x1 \(pipelines\/elt\/x1\.sql\): connection "nope" is not in sluice\.yaml \(known: pg, wh, lake\)/);
    await expect(run(spec("x2", "lake", []), "SELECT 1")).rejects.toThrow(/block x2 .*connection "lake" is gcs; a SQL block runs in a postgres or duckdb connection/);
    await expect(run(spec("x3", "pg", ["zones"]), "SELECT nope FROM zones", [zones])).rejects.toMatchObject({
      kind: "user",
      message: expect.stringMatching(/block x3 \(pipelines\/elt\/x3\.sql\): postgres "pg" .*column "nope" does not exist/),
    });
    await expect(run(spec("x4", "pg", []), `DELETE FROM borough_names`)).rejects.toMatchObject({ kind: "user", message: expect.stringMatching(/block x4/) });
    expect(Number((await client.query(`SELECT count(*) AS n FROM "${schema}".borough_names`)).rows[0].n)).toBe(3);
    expect(await stagingTables()).toBe(0);
  });

  it("a timeout fails the block at once; the staging table goes when the abandoned query ends", async () => {
    const slow = { ...request(spec("slow", "pg", ["zones"]), `SELECT count(*) AS n FROM zones, pg_sleep(4)`, [zones]), timeoutMs: 1_000 };
    const started = Date.now();
    await expect(runSqlBlock(slow, deps)).rejects.toMatchObject({ kind: "operational", code: "timeout", message: expect.stringMatching(/^block slow timed out after /) });
    expect(Date.now() - started).toBeLessThan(3_500);
    // The connector closes its connection on abort, but Postgres finishes the running statement before it
    // notices (it does not cancel it), and the DROP of the staging table waits for that statement's lock.
    for (let i = 0; i < 100 && (await stagingTables()) > 0; i++) await new Promise((r) => setTimeout(r, 200));
    expect(await stagingTables()).toBe(0);
  });

  it("without profiles from the executor, a connection block says so", async () => {
    await expect(runSqlBlock(request(spec("x5", "pg"), "SELECT 1"), { databases })).rejects.toThrow(/block x5 .*connection "pg" cannot be used: this executor was given no connection profiles/);
  });
});
