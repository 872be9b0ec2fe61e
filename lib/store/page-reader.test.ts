import fs from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  Binary,
  Bool,
  DateDay,
  Dictionary,
  Field,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  List,
  Null,
  Table,
  TimestampMicrosecond,
  Uint8,
  Utf8,
  makeData,
  makeVector,
  tableFromIPC,
  tableToIPC,
  vectorFromArray,
} from "apache-arrow";
import { indexArrowIpc } from "../arrow/arrow-ipc-index";
import { rowsToJson } from "../arrow/arrow-json";
import { readBatchRows } from "./page-reader";

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-page-reader-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** 1,000 rows of every flat type, with nulls in odd places (so that slices start mid-byte of a bitmap). */
function flatTable(rows: number): Table {
  const maybe = <T,>(i: number, value: T): T | null => (i % 7 === 3 || i % 13 === 0 ? null : value);
  return new Table({
    i32: vectorFromArray(Array.from({ length: rows }, (_, i) => maybe(i, i - 500)), new Int32()),
    i16: vectorFromArray(Array.from({ length: rows }, (_, i) => i % 300), new Int16()),
    u8: vectorFromArray(Array.from({ length: rows }, (_, i) => maybe(i, i % 256)), new Uint8()),
    i64: vectorFromArray(Array.from({ length: rows }, (_, i) => maybe(i, BigInt(i) * 10_000_000_000n)), new Int64()),
    f32: vectorFromArray(Array.from({ length: rows }, (_, i) => i / 4), new Float32()),
    f64: vectorFromArray(Array.from({ length: rows }, (_, i) => maybe(i, i * 1.5)), new Float64()),
    b: vectorFromArray(Array.from({ length: rows }, (_, i) => maybe(i, i % 3 === 0)), new Bool()),
    s: vectorFromArray(Array.from({ length: rows }, (_, i) => maybe(i, "é".repeat(i % 5) + `row ${i}`)), new Utf8()),
    bin: vectorFromArray(Array.from({ length: rows }, (_, i) => new Uint8Array([i % 256, 7])), new Binary()),
    d: vectorFromArray(Array.from({ length: rows }, (_, i) => maybe(i, new Date(Date.UTC(2024, 0, 1 + i)))), new DateDay()),
    ts: makeVector(makeData({ type: new TimestampMicrosecond(), length: rows, data: BigInt64Array.from({ length: rows }, (_, i) => 1_700_000_000_000_000n + BigInt(i)) })),
    z: makeVector(makeData({ type: new Null(), length: rows })),
  });
}

async function withFile<T>(name: string, bytes: Uint8Array, work: (file: FileHandle) => Promise<T>): Promise<T> {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  const handle = await open(file, "r");
  try {
    return await work(handle);
  } finally {
    await handle.close();
  }
}

describe("readBatchRows", () => {
  for (const format of ["stream", "file"] as const) {
    it(`reads row ranges of a one-batch ${format} exactly as the whole table shows them`, async () => {
      const table = flatTable(1000);
      const bytes = tableToIPC(table, format);
      const index = indexArrowIpc(bytes);
      if (!index) throw new Error("not indexed");
      const whole = tableFromIPC(bytes);
      await withFile(`flat.${format}`, bytes, async (file) => {
        for (const [from, count] of [
          [0, 100],
          [3, 17],
          [13, 1],
          [500, 100],
          [999, 10],
          [993, 100],
          [1000, 5],
        ]) {
          const rows = await readBatchRows(file, index, 0, from, count);
          expect(rows).not.toBeNull();
          expect(rows?.numRows).toBe(Math.max(0, Math.min(count, 1000 - from)));
          expect(rowsToJson(rows as Table, 0, count)).toEqual(rowsToJson(whole, from, count));
        }
      });
    });
  }

  it("reads within any batch of a multi-batch stream", async () => {
    const part = (from: number) => flatTable(300).slice(from, from + 300);
    const table = tableFromIPC(tableToIPC(part(0).concat(part(0), part(0)), "stream"));
    const bytes = tableToIPC(table, "stream");
    const index = indexArrowIpc(bytes);
    if (!index) throw new Error("not indexed");
    expect(index.batches.length).toBe(3);
    await withFile("multi.arrow", bytes, async (file) => {
      const rows = await readBatchRows(file, index, 2, 45, 20);
      expect(rowsToJson(rows as Table, 0, 20)).toEqual(rowsToJson(table, 600 + 45, 20));
    });
  });

  it("reads only the bytes of the rows asked for", async () => {
    const bytes = tableToIPC(flatTable(30_000), "stream");
    const index = indexArrowIpc(bytes);
    if (!index) throw new Error("not indexed");
    await withFile("big.arrow", bytes, async (file) => {
      let read = 0;
      const counting = new Proxy(file, {
        get(target, property) {
          if (property !== "read") return Reflect.get(target, property);
          return async (buffer: Uint8Array, offset: number, length: number, position: number) => {
            read += length;
            return target.read(buffer, offset, length, position);
          };
        },
      });
      await readBatchRows(counting, index, 0, 15_003, 100);
      expect(bytes.length).toBeGreaterThan(1_000_000);
      expect(read).toBeLessThan(20_000);
    });
  });

  it("returns null for columns it does not slice (nested, dictionary-encoded)", async () => {
    const nested = new Table({ l: vectorFromArray([[1], [2, 3]], new List(new Field("item", new Int32(), true))) });
    const dictionary = new Table({ d: vectorFromArray(["a", "b", "a"], new Dictionary(new Utf8(), new Int32())) });
    for (const [name, table] of [
      ["nested", nested],
      ["dictionary", dictionary],
    ] as const) {
      const bytes = tableToIPC(table, "stream");
      const index = indexArrowIpc(bytes);
      if (!index) throw new Error("not indexed");
      await withFile(`${name}.arrow`, bytes, async (file) => expect(await readBatchRows(file, index, 0, 0, 1)).toBeNull());
    }
  });
});
