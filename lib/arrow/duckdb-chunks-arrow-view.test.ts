import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { Bool, Table, TimestampMicrosecond, Utf8, tableFromArrays, tableToIPC, vectorFromArray } from "apache-arrow";
import { firstDifference } from "./compare-tables";
import { arrowToDuckDB, registerArrowView } from "./arrow-to-duckdb";
import { duckdbChunksToArrow } from "./duckdb-chunks";

let instance: DuckDBInstance;
let admin: DuckDBConnection;
let other: DuckDBConnection;

beforeAll(async () => {
  instance = await DuckDBInstance.create(":memory:");
  admin = await instance.connect();
  other = await instance.connect();
});

afterAll(() => {
  other.closeSync();
  admin.closeSync();
  instance.closeSync();
});

/** 10,000 rows over several batches: ints, floats, short/long/null strings, timestamps, booleans. */
function sample(): Table {
  const n = 10_000;
  const base = tableFromArrays({ i: Int32Array.from({ length: n }, (_, i) => i), f: Float64Array.from({ length: n }, (_, i) => i / 4) });
  const full = new Table({
    i: base.getChild("i")!,
    f: base.getChild("f")!,
    s: vectorFromArray(Array.from({ length: n }, (_, i) => (i % 5 === 0 ? null : i % 5 === 1 ? "NA" : `a string longer than twelve bytes ${i}`)), new Utf8()),
    t: vectorFromArray(Array.from({ length: n }, (_, i) => (i % 7 === 0 ? null : 1_601_510_400_000 + i * 1000)), new TimestampMicrosecond()),
    b: vectorFromArray(Array.from({ length: n }, (_, i) => (i % 3 === 0 ? null : i % 2 === 0)), new Bool()),
  });
  // Several batches, one of them a slice starting mid-byte of the null bitmaps.
  const batches = [full.slice(0, 3), full.slice(3, 4099), full.slice(4099, n)].flatMap((t) => t.batches);
  return new Table(batches);
}

async function rows(connection: DuckDBConnection, sql: string): Promise<unknown[][]> {
  return (await connection.runAndReadAll(sql)).getRows();
}

describe("registerArrowView (Arrow buffers as a DuckDB view)", () => {
  it("reads the same values as a loaded table, for every column and for a projection of them", async () => {
    const table = sample();
    await arrowToDuckDB(admin, "loaded", table, { replace: true });
    const view = await registerArrowView(admin, "viewed", tableToIPC(table, "stream"), { replace: true });
    try {
      expect(view.rows).toBe(10_000);
      const [all, loaded] = [await duckdbChunksToArrow(admin, "SELECT * FROM viewed"), await duckdbChunksToArrow(admin, "SELECT * FROM loaded")];
      expect(firstDifference(loaded!, all!)).toBeNull();
      expect(all!.getChild("s")!.get(1)).toBe("NA");
      // Projection pushdown: columns out of order, a subset, an aggregate, count(*) without columns.
      const projected = await duckdbChunksToArrow(admin, "SELECT b, s FROM viewed");
      const loadedProjection = await duckdbChunksToArrow(admin, "SELECT b, s FROM loaded");
      expect(firstDifference(loadedProjection!, projected!)).toBeNull();
      expect(await rows(admin, "SELECT count(*), count(s), sum(i), max(t) FROM viewed")).toEqual(await rows(admin, "SELECT count(*), count(s), sum(i), max(t) FROM loaded"));
      expect(await rows(admin, "SELECT count(*) FROM viewed")).toEqual([[10_000n]]);
    } finally {
      await admin.run("DROP VIEW IF EXISTS viewed");
      view.release();
    }
  });

  it("serves every query afresh, from other connections too, and concurrent scans do not share a cursor", async () => {
    const view = await registerArrowView(admin, "shared_view", sample(), { replace: true });
    try {
      const sum = "SELECT sum(i)::BIGINT AS s FROM shared_view";
      const results = await Promise.all([rows(admin, sum), rows(other, sum), rows(other, "SELECT sum(a.i)::BIGINT FROM shared_view a JOIN shared_view b ON a.i = b.i")]);
      for (const result of results) expect(result).toEqual([[49_995_000n]]);
      expect(await rows(admin, sum)).toEqual([[49_995_000n]]);
    } finally {
      await admin.run("DROP VIEW IF EXISTS shared_view");
      view.release();
    }
  });

  it("fails clearly when queried after release", async () => {
    const view = await registerArrowView(admin, "released_view", sample(), { replace: true });
    view.release();
    await expect(admin.run("SELECT * FROM released_view")).rejects.toThrow(/no Arrow table is being loaded under id/);
    await admin.run("DROP VIEW released_view");
  });
});
