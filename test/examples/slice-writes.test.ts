/**
 * The connector options the examples replace one run's slice with: a files dataset whose `replace` swaps
 * only the partitions written (`partitionOverwrite: "partitions"`), a single file renamed over its old
 * version, and a Postgres `replace` limited to the rows of `replaceWhere` — on real taxi rows (20 columns),
 * real files and the real Postgres.
 */
import { createHash, randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { Table, Utf8, vectorFromArray, type Vector } from "apache-arrow";
import { FilesConnector } from "../../lib/io/files";
import { PostgresConnector } from "../../lib/io/postgres";
import { taxiDataDir } from "../taxi-data";

jest.setTimeout(120_000);

const PG_URL = "postgres://postgres@127.0.0.1:5432/test";

const hashOf = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");

/** Every file under `dir` with its hash, relative paths as keys. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const full = path.join(entry.parentPath, entry.name);
      out[path.relative(dir, full)] = hashOf(full);
    }
  }
  return out;
}

/** The trips picked up on `days` (UTC calendar days of the naive pickup time), with a `pickup_day` column. */
function tableFromDays(trips: Table, days: string[]): Table {
  const pickups = trips.getChild("lpep_pickup_datetime");
  const keep: number[] = [];
  const dayOf: string[] = [];
  for (let i = 0; i < trips.numRows; i++) {
    const value: unknown = pickups?.get(i);
    if (value === null || value === undefined) continue;
    const day = new Date(Number(value)).toISOString().slice(0, 10);
    if (days.includes(day)) {
      keep.push(i);
      dayOf.push(day);
    }
  }
  const columns: Record<string, Vector> = {};
  for (const field of trips.schema.fields) {
    const source = trips.getChild(field.name);
    columns[field.name] = vectorFromArray(keep.map((i) => source?.get(i) ?? null), field.type);
  }
  columns.pickup_day = vectorFromArray(dayOf, new Utf8());
  return new Table(columns);
}

describe("slice writes", () => {
  let dir: string;
  let files: FilesConnector;
  /** Green taxi trips of the first days of October 2020, with the pickup day as a column. */
  let trips: Table;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-slice-writes-"));
    files = new FilesConnector({ root: dir });
    const csv = path.join(taxiDataDir(), "green_tripdata_2020-10.csv.gz");
    trips = await files.read({ path: csv, timestampFormat: "%Y-%m-%d %H:%M:%S" });
    expect(trips.schema.fields.length).toBe(20);
  });

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("replaces only the partitions the data has rows for; the others stay byte-identical", async () => {
    const firstThree = tableFromDays(trips, ["2020-10-01", "2020-10-02", "2020-10-03"]);
    await files.write(firstThree, "lake", { mode: "replace", partitionBy: ["pickup_day"], partitionOverwrite: "partitions" });
    const before = snapshot(path.join(dir, "lake"));
    expect(Object.keys(before).sort()).toEqual(["pickup_day=2020-10-01/data_0.parquet", "pickup_day=2020-10-02/data_0.parquet", "pickup_day=2020-10-03/data_0.parquet"]);

    // The day 2 re-run brings fewer rows: only its partition changes.
    const day2 = tableFromDays(trips, ["2020-10-02"]).slice(0, 10);
    const result = await files.write(day2, "lake", { mode: "replace", partitionBy: ["pickup_day"], partitionOverwrite: "partitions" });
    expect(result.rows).toBe(10);
    const after = snapshot(path.join(dir, "lake"));
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    expect(after["pickup_day=2020-10-01/data_0.parquet"]).toBe(before["pickup_day=2020-10-01/data_0.parquet"]);
    expect(after["pickup_day=2020-10-03/data_0.parquet"]).toBe(before["pickup_day=2020-10-03/data_0.parquet"]);
    expect(after["pickup_day=2020-10-02/data_0.parquet"]).not.toBe(before["pickup_day=2020-10-02/data_0.parquet"]);
    const lake = await files.read("lake");
    expect(lake.numRows).toBe(firstThree.numRows - tableFromDays(trips, ["2020-10-02"]).numRows + 10);
    // No temp or old files are left beside the lake.
    expect(fs.readdirSync(dir).filter((name) => name.startsWith("."))).toEqual([]);
  });

  it("refuses partitionOverwrite without partitionBy or with another mode", async () => {
    await expect(files.write(trips.slice(0, 5), "other", { mode: "append", partitionBy: ["VendorID"], partitionOverwrite: "partitions" })).rejects.toMatchObject({ code: "invalid_option" });
    await expect(files.write(trips.slice(0, 5), "other.parquet", { partitionOverwrite: "partitions" })).rejects.toMatchObject({ code: "invalid_option" });
  });

  it("replaces a single file by renaming over it, so concurrent writers of one file all succeed", async () => {
    const target = "by_date/date=2020-10-01/part.parquet";
    const writes = Array.from({ length: 6 }, (_, i) => files.write(trips.slice(0, 100 + i), target, { mode: "replace" }));
    const results = await Promise.all(writes);
    expect(results.map((r) => r.rows)).toEqual([100, 101, 102, 103, 104, 105]);
    const read = await files.read(target);
    expect(read.numRows).toBeGreaterThanOrEqual(100);
    expect(fs.readdirSync(path.dirname(path.join(dir, target)))).toEqual(["part.parquet"]);
  });
});

describe("postgres replaceWhere", () => {
  const schema = `slice_${randomUUID().slice(0, 8)}`;
  const connector = new PostgresConnector({ url: PG_URL });
  const admin = new pg.Client({ connectionString: PG_URL });
  let trips: Table;

  beforeAll(async () => {
    await admin.connect();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-slice-pg-"));
    try {
      const all = await new FilesConnector({ root: dir }).read({ path: path.join(taxiDataDir(), "green_tripdata_2020-10.csv.gz"), timestampFormat: "%Y-%m-%d %H:%M:%S" });
        trips = tableFromDays(all, ["2020-10-01", "2020-10-02", "2020-10-03"]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  afterAll(async () => {
    await connector.close();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  const perDay = async () =>
    Object.fromEntries(
      (await admin.query<{ day: string; n: string; total: string }>(`SELECT pickup_day AS day, count(*) AS n, round(sum(total_amount)::numeric, 2)::text AS total FROM "${schema}".trips GROUP BY 1 ORDER BY 1`)).rows.map((r) => [r.day, `${r.n}:${r.total}`]),
    );
  const day = (d: string) => ({ sql: "pickup_day = $1", params: [d] });

  it("concurrent first writes of different days create the table once and each land their own rows", async () => {
    const days = ["2020-10-01", "2020-10-02", "2020-10-03"];
    const results = await Promise.all(days.map((d) => connector.write(tableFromDays(trips, [d]), { schema, table: "trips" }, { replaceWhere: day(d) })));
    expect(results.map((r) => r.rows)).toEqual(days.map((d) => tableFromDays(trips, [d]).numRows));
    const counts = await perDay();
    expect(Object.keys(counts)).toEqual(days);
    const total = (await admin.query(`SELECT count(*) AS n FROM "${schema}".trips`)).rows[0] as { n: string };
    expect(Number(total.n)).toBe(trips.numRows);
    expect(trips.schema.fields.length).toBe(21);
  });

  it("a re-run of one day replaces that day only", async () => {
    const before = await perDay();
    await connector.write(tableFromDays(trips, ["2020-10-02"]).slice(0, 7), { schema, table: "trips" }, { replaceWhere: day("2020-10-02") });
    const after = await perDay();
    expect(after["2020-10-01"]).toBe(before["2020-10-01"]);
    expect(after["2020-10-03"]).toBe(before["2020-10-03"]);
    expect(after["2020-10-02"]).toMatch(/^7:/);
  });

  it("refuses rows outside the slice and leaves the table as it was", async () => {
    const before = await perDay();
    await expect(
      connector.write(tableFromDays(trips, ["2020-10-01", "2020-10-03"]), { schema, table: "trips" }, { replaceWhere: day("2020-10-01") }),
    ).rejects.toMatchObject({ code: "outside_slice", message: expect.stringMatching(/rows do not match replaceWhere \(pickup_day = \$1\)/) });
    expect(await perDay()).toEqual(before);
    await expect(connector.write(trips, { schema, table: "trips" }, { mode: "append", replaceWhere: day("2020-10-01") })).rejects.toMatchObject({ code: "invalid_option" });
  });
});
