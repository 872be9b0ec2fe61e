import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import {
  Float64,
  Int64,
  Table,
  TimestampMicrosecond,
  Utf8,
  makeData,
  makeVector,
  tableToIPC,
  vectorFromArray,
} from "apache-arrow";
import { summarizeDuckDBTable } from "../blocks/sql-summary";
import { UnexpectedError, UserError } from "../core/errors";
import { rowsToJson } from "../arrow/arrow-json";
import { epochToWallClock } from "../arrow/json-value";
import { OutputStore } from "./output-store";
import type { OutputSummary } from "../core/output-types";

/** `n` rows in batches of `batch`: id, name (every 7th null), ts, amount. */
function sample(n: number, batch = n): Table {
  const ids = Array.from({ length: n }, (_, i) => BigInt(i));
  const whole = new Table({
    id: vectorFromArray(ids, new Int64()),
    name: vectorFromArray(ids.map((id) => (id % 7n === 0n ? null : `name_${id}`)), new Utf8()),
    ts: makeVector(makeData({ type: new TimestampMicrosecond(), length: n, data: new BigInt64Array(ids.map((id) => 1_700_000_000_000_000n + id * 1000n)) })),
    amount: vectorFromArray(ids.map((id) => Number(id) / 4), new Float64()),
  });
  const parts: Table[] = [];
  for (let start = 0; start < n; start += batch) parts.push(whole.slice(start, Math.min(n, start + batch)));
  return parts.length > 1 ? parts[0].concat(...parts.slice(1)) : whole;
}

function expectedRow(i: number) {
  return {
    id: i,
    name: i % 7 === 0 ? null : `name_${i}`,
    ts: epochToWallClock(BigInt(1_700_000_000_000 + i), 1),
    amount: i / 4,
  };
}

describe("OutputStore", () => {
  let dataDir: string;
  let store: OutputStore;
  const others: OutputStore[] = [];

  beforeEach(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), "sluice-outputs-"));
    store = new OutputStore(dataDir);
  });

  afterEach(async () => {
    await store.close();
    for (const other of others.splice(0)) await other.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  function another(options: ConstructorParameters<typeof OutputStore>[1] = {}): OutputStore {
    const other = new OutputStore(dataDir, options);
    others.push(other);
    return other;
  }

  it("persists Arrow stream bytes as given, with a summary sidecar, and pages through them", async () => {
    const bytes = tableToIPC(sample(50, 20), "stream");
    const record = await store.writeArrow("run1", "load", bytes);
    const file = path.join(dataDir, "outputs", "run1", "load.arrow");
    expect(record.ref).toEqual({ runId: "run1", block: "load", format: "arrow", path: file });
    expect(new Uint8Array(readFileSync(file))).toEqual(bytes);
    expect(record.summary).toMatchObject({ rows: 50, bytes: bytes.byteLength });
    expect(record.summary.columns.map((c) => [c.name, c.type, c.nulls, c.min, c.max, c.distinct])).toEqual([
      ["id", "Int64", 0, 0, 49, 50],
      ["name", "Utf8", 8, "name_1", "name_9", 42],
      ["ts", "Timestamp<MICROSECOND>", 0, "2023-11-14T22:13:20.000Z", "2023-11-14T22:13:20.049Z", 50],
      ["amount", "Float64", 0, 0, 12.25, 50],
    ]);
    expect(JSON.parse(readFileSync(path.join(dataDir, "outputs", "run1", "load.summary.json"), "utf8"))).toMatchObject({ format: "arrow", summary: record.summary });
    expect(await store.read("run1", "load")).toEqual(record);

    const page = await store.readPage(record.ref, 18, 4);
    expect(page).toEqual({
      columns: [
        { name: "id", type: "Int64" },
        { name: "name", type: "Utf8" },
        { name: "ts", type: "Timestamp<MICROSECOND>" },
        { name: "amount", type: "Float64" },
      ],
      totalRows: 50,
      offset: 18,
      rows: [18, 19, 20, 21].map(expectedRow),
    });
    // A cold store (another process) reads the file back the same way.
    expect(await another().readPage(record.ref, 18, 4)).toEqual(page);
  });

  it.each(["stream", "file"] as const)("reads only the needed batches of big %s-format files", async (format) => {
    const table = sample(10_000, 1000);
    await store.writeArrow("run1", "big", tableToIPC(table, format));
    const cold = another({ wholeFileBytes: 0, cacheOnWrite: false });
    const ref = (await cold.read("run1", "big"))!.ref;
    const page = await cold.readPage(ref, 2500, 1500);
    expect(page.totalRows).toBe(10_000);
    expect(page.rows).toHaveLength(1500);
    expect(page.rows[0]).toEqual(expectedRow(2500));
    expect(page.rows[1499]).toEqual(expectedRow(3999));
    expect((await cold.readPage(ref, 9998, 10)).rows).toEqual([expectedRow(9998), expectedRow(9999)]);
    const past = await cold.readPage(ref, 20_000, 10);
    expect(past).toMatchObject({ totalRows: 10_000, offset: 20_000, rows: [] });
    expect(past.columns.map((c) => c.name)).toEqual(["id", "name", "ts", "amount"]);
    const whole = await cold.readArrowTable(ref);
    expect(whole.numRows).toBe(10_000);
    expect(rowsToJson(whole, 5000, 2)).toEqual([expectedRow(5000), expectedRow(5001)]);
  });

  it("notices an output rewritten by another store", async () => {
    const first = await store.writeArrow("run1", "b", tableToIPC(sample(10), "stream"));
    expect((await store.readPage(first.ref, 0, 100)).totalRows).toBe(10);
    const writer = another();
    await writer.writeArrow("run1", "b", tableToIPC(sample(30), "stream"));
    const page = await store.readPage(first.ref, 25, 100);
    expect(page.totalRows).toBe(30);
    expect(page.rows).toEqual([25, 26, 27, 28, 29].map(expectedRow));
    expect((await store.readArrowTable(first.ref)).numRows).toBe(30);
  });

  it("locates files from the ref's run and block, never from its path", async () => {
    const record = await store.writeArrow("run1", "load", tableToIPC(sample(3), "stream"));
    const page = await store.readPage({ ...record.ref, path: "/etc/passwd" }, 0, 10);
    expect(page.rows).toHaveLength(3);
    await expect(store.readPage({ ...record.ref, runId: "../../etc" }, 0, 10)).rejects.toBeInstanceOf(UserError);
    await expect(store.writeArrow("run1", "a/b", tableToIPC(sample(1), "stream"))).rejects.toMatchObject({ code: "invalid_name" });
    expect(() => store.tempParquetPath("..", "x")).toThrow(UserError);
  });

  it("reports missing outputs and rejects bytes that are not Arrow", async () => {
    expect(await store.read("run1", "nothing")).toBeNull();
    await expect(store.readPage({ runId: "run1", block: "nothing", format: "arrow", path: "" }, 0, 10)).rejects.toMatchObject({ code: "output_not_found" });
    await expect(store.readPage({ runId: "run1", block: "nothing", format: "parquet", path: "" }, 0, 10)).rejects.toMatchObject({ code: "output_not_found" });
    await expect(store.writeArrow("run1", "bad", new Uint8Array([1, 2, 3, 4]))).rejects.toBeInstanceOf(UnexpectedError);
    expect(existsSync(path.join(dataDir, "outputs", "run1", "bad.arrow"))).toBe(false);
  });

  describe("Parquet outputs", () => {
    let duckdb: DuckDBInstance;
    beforeAll(async () => {
      duckdb = await DuckDBInstance.create(":memory:");
    });
    afterAll(() => duckdb.closeSync());

    /**
     * Writes `query`'s result to `file` the way the runtime persists a SQL block: a DuckDB table copied to
     * Parquet (small row groups, so pages cross them), summarised by the runtime's own summarizer.
     */
    async function writeSqlOutput(query: string, file: string): Promise<Omit<OutputSummary, "bytes">> {
      const connection = await duckdb.connect();
      try {
        await connection.run(`CREATE OR REPLACE TABLE block_output AS ${query}`);
        await connection.run(`COPY block_output TO '${file.replace(/'/g, "''")}' (FORMAT parquet, ROW_GROUP_SIZE 1000)`);
        return await summarizeDuckDBTable(connection, "block_output");
      } finally {
        connection.closeSync();
      }
    }

    const QUERY = `SELECT i::BIGINT AS id,
        CASE WHEN i % 7 = 0 THEN NULL ELSE 'name_' || i END AS name,
        make_timestamp(1700000000000000 + i * 1000) AS ts,
        i / 4 AS amount,
        DATE '2024-01-01' + (i % 3)::INTEGER AS day,
        (i / 100)::DECIMAL(10, 2) AS price,
        [i, i + 1] AS pair,
        {'k': i} AS obj
      FROM range(50) t(i)`;

    it("commits by rename with the runtime's summary, and pages like an Arrow output", async () => {
      const temp = store.tempParquetPath("run2", "sql_block");
      expect(path.dirname(temp)).toBe(path.join(dataDir, "outputs", "run2"));
      const summary = await writeSqlOutput(QUERY, temp);
      expect(summary.rows).toBe(50);
      const size = statSync(temp).size;
      const record = await store.commitParquet("run2", "sql_block", temp, summary);
      expect(existsSync(temp)).toBe(false);
      expect(record).toEqual({
        ref: { runId: "run2", block: "sql_block", format: "parquet", path: path.join(dataDir, "outputs", "run2", "sql_block.parquet") },
        summary: { ...summary, bytes: size },
      });
      expect(await store.read("run2", "sql_block")).toEqual(record);

      const page = await store.readPage(record.ref, 20, 3);
      expect(page.totalRows).toBe(50);
      expect(page.columns.map((c) => c.type)).toEqual(summary.columns.map((c) => c.type));
      expect(page.rows).toEqual(
        [20, 21, 22].map((i) => ({
          ...expectedRow(i),
          day: `2024-01-0${1 + (i % 3)}`,
          price: `0.${String(i).padStart(2, "0")}`,
          pair: [i, i + 1],
          obj: { k: i },
        })),
      );

      // The same data as an Arrow output gives the same page and the same summary for the shared columns.
      const arrow = await store.writeArrow("run2", "ts_block", tableToIPC(sample(50, 20), "stream"));
      const arrowPage = await store.readPage(arrow.ref, 20, 3);
      expect(page.rows.map(({ id, name, ts, amount }) => ({ id, name, ts, amount }))).toEqual(arrowPage.rows);
      expect(summary.columns.slice(0, 4)).toEqual(arrow.summary.columns);
    });

    it("pages the last rows of a Parquet output of many row groups", async () => {
      const temp = store.tempParquetPath("run3", "big");
      const summary = await writeSqlOutput("SELECT i AS id, i % 10 AS small, i % 50000 AS medium, NULL::INTEGER AS empty FROM range(300000) t(i)", temp);
      expect(summary.rows).toBe(300_000);
      await store.commitParquet("run3", "big", temp, summary);
      const record = await store.read("run3", "big");
      expect((await store.readPage(record!.ref, 299_999, 5)).rows).toEqual([{ id: 299_999, small: 9, medium: 49_999, empty: null }]);
    });

    it("refuses temp files outside the run folder and replaces an output of the other format", async () => {
      const elsewhere = path.join(dataDir, "elsewhere.parquet");
      await writeSqlOutput("SELECT 1 AS x", elsewhere);
      await expect(store.commitParquet("run4", "b", elsewhere, { rows: 1, columns: [] })).rejects.toMatchObject({ code: "invalid_temp_path" });

      const temp = store.tempParquetPath("run4", "b");
      await store.commitParquet("run4", "b", temp, await writeSqlOutput("SELECT 1 AS x", temp));
      await store.writeArrow("run4", "b", tableToIPC(sample(2), "stream"));
      expect(readdirSync(path.join(dataDir, "outputs", "run4")).sort()).toEqual(["b.arrow", "b.summary.json"]);
      expect((await store.read("run4", "b"))?.ref.format).toBe("arrow");
    });
  });

  it("lists and deletes runs", async () => {
    expect(await store.listRunIds()).toEqual([]);
    await store.writeArrow("run_b", "x", tableToIPC(sample(2), "stream"));
    const record = await store.writeArrow("run_a", "x", tableToIPC(sample(2), "stream"));
    expect(await store.listRunIds()).toEqual(["run_a", "run_b"]);
    await store.deleteRun("run_a");
    expect(await store.listRunIds()).toEqual(["run_b"]);
    expect(await store.read("run_a", "x")).toBeNull();
    await expect(store.readPage(record.ref, 0, 1)).rejects.toMatchObject({ code: "output_not_found" });
    await store.deleteRun("never_existed");
  });
});
