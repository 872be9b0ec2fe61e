import { randomUUID } from "node:crypto";
import pg from "pg";
import { Bool, DateDay, Float32, Int16, Int64, Int8, Table, TimestampMicrosecond, Uint32, Utf8, tableFromArrays, vectorFromArray } from "apache-arrow";
import { firstDifference } from "./compare-tables";
import { encodeBatch, planPgColumn } from "./pg-binary-encode";
import { PostgresConnector } from "../io/postgres";

const URL = "postgres://postgres@127.0.0.1:5432/test";

/**
 * 40,000 rows (three encoder chunks of 16,384) of every type with a column loop, nulls at rows that are
 * not byte-aligned, extreme values (int64 limits, timestamps before 1970 and before 2000, NaN, -0).
 */
function sample(n = 40_000): Table {
  const nullEvery = (k: number, value: (i: number) => unknown) => Array.from({ length: n }, (_, i) => (i % k === 3 ? null : value(i)));
  const base = tableFromArrays({ i32: Int32Array.from({ length: n }, (_, i) => (i % 2 === 0 ? -1 : 1) * i * 53_687), f64: Float64Array.from({ length: n }, (_, i) => (i % 1000 === 7 ? NaN : i % 1000 === 8 ? -0 : i / 3 - 5000)) });
  return new Table({
    i32: base.getChild("i32")!,
    f64: base.getChild("f64")!,
    i8: vectorFromArray(nullEvery(5, (i) => (i % 256) - 128), new Int8()),
    i16: vectorFromArray(nullEvery(6, (i) => (i * 7) % 65536 - 32768), new Int16()),
    i64: vectorFromArray(nullEvery(7, (i) => (i === 0 ? -(2n ** 63n) : i === 1 ? 2n ** 63n - 1n : BigInt(i) * -123_456_789_013n)), new Int64()),
    u32: vectorFromArray(nullEvery(9, (i) => (i * 2_654_435_761) % 4_294_967_296), new Uint32()),
    f32: vectorFromArray(nullEvery(10, (i) => i / 8), new Float32()),
    flag: vectorFromArray(nullEvery(11, (i) => i % 3 === 0), new Bool()),
    day: vectorFromArray(nullEvery(12, (i) => Date.UTC(1969, 0, 1) + (i % 30_000) * 86_400_000), new DateDay()),
    ts: vectorFromArray(nullEvery(13, (i) => Date.UTC(1965, 0, 1) + i * 997_001), new TimestampMicrosecond()),
    text: vectorFromArray(nullEvery(14, (i) => (i % 4 === 0 ? "NA" : i % 4 === 1 ? "" : i % 4 === 2 ? `Zürich ${i}` : `a text longer than twenty-four bytes ${i}`)), new Utf8()),
    none: vectorFromArray(Array.from({ length: n }, () => null), new Utf8()),
  });
}

describe("binary COPY encoder (column by column)", () => {
  const schema = `sluice_enc_${randomUUID().slice(0, 8)}`;
  const connector = new PostgresConnector({ url: URL, schema });

  afterAll(async () => {
    await connector.close();
    const client = new pg.Client(URL);
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });

  it("sizes every chunk exactly and writes one tuple per row", () => {
    const table = sample();
    const plans = table.schema.fields.map((f) => planPgColumn(f));
    let tuples = 0;
    let badFieldCounts = 0;
    for (const buf of encodeBatch(table.batches[0], plans)) {
      // Walk the tuples: field count, then per field a length (-1 = null) and that many bytes; must end exactly.
      let pos = 0;
      while (pos < buf.length) {
        if (buf.readInt16BE(pos) !== plans.length) badFieldCounts++;
        pos += 2;
        for (let f = 0; f < plans.length; f++) {
          const length = buf.readInt32BE(pos);
          pos += 4 + Math.max(length, 0);
        }
        tuples++;
      }
      expect(pos).toBe(buf.length);
    }
    expect(tuples).toBe(table.numRows);
    expect(badFieldCounts).toBe(0);
  });

  it("round-trips every value through Postgres, across chunks, slices and nulls", async () => {
    const table = sample();
    // Batches that start mid-byte of the null bitmaps (slices share the parent's buffers).
    const sliced = new Table([table.slice(0, 5), table.slice(5, 16_390), table.slice(16_390)].flatMap((t) => t.batches));
    await connector.write(sliced, "every_type", { mode: "replace" });
    const back = await connector.read(`SELECT * FROM "${schema}".every_type`);
    expect(back.numRows).toBe(table.numRows);
    expect(firstDifference(table, back)).toBeNull();
    expect(back.getChild("i64")!.get(0)).toBe(-(2n ** 63n));
    expect(back.getChild("i64")!.get(1)).toBe(2n ** 63n - 1n);
    expect(Object.is(back.getChild("f64")!.get(8), -0)).toBe(true);
    expect(back.getChild("text")!.get(4)).toBe("NA");
    expect(back.getChild("none")!.nullCount).toBe(table.numRows);
  });

  it("writes an empty table as an empty Postgres table", async () => {
    const empty = sample().slice(0, 0);
    await connector.write(empty, "empty", { mode: "replace" });
    expect((await connector.read(`SELECT * FROM "${schema}".empty`)).numRows).toBe(0);
  });
});
