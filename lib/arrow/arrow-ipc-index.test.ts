import { open } from "node:fs/promises";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Dictionary, Int32, Table, Utf8, tableToIPC, vectorFromArray } from "apache-arrow";
import { indexArrowIpc, readIndexedBatch } from "./arrow-ipc-index";
import { rowsToJson } from "./arrow-json";

/** Three batches, each with its own dictionary: stream writers emit a replacement dictionary per batch. */
function batchedTable(): Table {
  const part = (from: number) =>
    new Table({
      n: vectorFromArray(Array.from({ length: 4 }, (_, i) => from + i), new Int32()),
      tag: vectorFromArray(from === 8 ? ["x", "y", "x", null] : ["p", "q", "r", null], new Dictionary(new Utf8(), new Int32())),
    });
  return part(0).concat(part(4), part(8));
}

describe("arrow-ipc-index", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "sluice-ipc-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(["stream", "file"] as const)("indexes %s-format bytes and reads single batches back", async (format) => {
    const table = new Table({
      n: vectorFromArray([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], new Int32()),
    });
    const batched = table.slice(0, 4).concat(table.slice(4, 9), table.slice(9));
    const bytes = tableToIPC(batched, format);
    const index = indexArrowIpc(bytes);
    expect(index?.format).toBe(format);
    expect(index?.batches.map((b) => b.rows)).toEqual([4, 5, 3]);
    const file = path.join(dir, `t.${format}.arrow`);
    writeFileSync(file, bytes);
    const handle = await open(file, "r");
    try {
      const middle = await readIndexedBatch(handle, index!, 1);
      expect(rowsToJson(middle, 0, 10).map((r) => r.n)).toEqual([4, 5, 6, 7, 8]);
      const last = await readIndexedBatch(handle, index!, 2);
      expect(rowsToJson(last, 0, 10).map((r) => r.n)).toEqual([9, 10, 11]);
      await expect(readIndexedBatch(handle, index!, 3)).rejects.toThrow(RangeError);
    } finally {
      await handle.close();
    }
  });

  it("reads each stream batch with the dictionary in effect for it (replacement dictionaries)", async () => {
    const bytes = tableToIPC(batchedTable(), "stream");
    const index = indexArrowIpc(bytes);
    expect(index?.batches).toHaveLength(3);
    expect(index?.batches.map((b) => b.dictionaries.length)).toEqual([1, 1, 1]);
    expect(index?.batches[2].dictionaries[0]).not.toEqual(index?.batches[0].dictionaries[0]);
    const file = path.join(dir, "dict.arrow");
    writeFileSync(file, bytes);
    const handle = await open(file, "r");
    try {
      const last = await readIndexedBatch(handle, index!, 2);
      expect(rowsToJson(last, 0, 10)).toEqual([
        { n: 8, tag: "x" },
        { n: 9, tag: "y" },
        { n: 10, tag: "x" },
        { n: 11, tag: null },
      ]);
    } finally {
      await handle.close();
    }
  });

  it("reads file-format batches with dictionaries through the footer", async () => {
    const whole = new Table({
      n: vectorFromArray([0, 1, 2, 3, 4, 5], new Int32()),
      tag: vectorFromArray(["a", null, "b", "a", "c", null], new Dictionary(new Utf8(), new Int32())),
    });
    const bytes = tableToIPC(whole.slice(0, 2).concat(whole.slice(2, 4), whole.slice(4)), "file");
    const index = indexArrowIpc(bytes);
    expect(index).toMatchObject({ format: "file", schema: null });
    const file = path.join(dir, "dict-file.arrow");
    writeFileSync(file, bytes);
    const handle = await open(file, "r");
    try {
      expect(rowsToJson(await readIndexedBatch(handle, index!, 2), 0, 10)).toEqual([
        { n: 4, tag: "c" },
        { n: 5, tag: null },
      ]);
      expect(rowsToJson(await readIndexedBatch(handle, index!, 0), 0, 10)).toEqual([
        { n: 0, tag: "a" },
        { n: 1, tag: null },
      ]);
    } finally {
      await handle.close();
    }
  });

  it("returns null for bytes it does not understand", () => {
    expect(indexArrowIpc(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]))).toBeNull();
    expect(indexArrowIpc(new Uint8Array())).toBeNull();
  });
});
