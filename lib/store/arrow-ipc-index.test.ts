import { open } from "node:fs/promises";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Dictionary, Int32, Table, Utf8, tableToIPC, vectorFromArray } from "apache-arrow";
import { indexArrowIpc, readIndexedBatches } from "./arrow-ipc-index";
import { rowsToJson } from "./arrow-json";

function batchedTable(): Table {
  const part = (from: number) =>
    new Table({
      n: vectorFromArray(Array.from({ length: 4 }, (_, i) => from + i), new Int32()),
      tag: vectorFromArray(["x", "y", "x", null], new Dictionary(new Utf8(), new Int32())),
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
    expect(index?.batches.map((b) => b.rows)).toEqual([4, 5, 3]);
    expect(index?.prelude).toHaveLength(1);
    const file = path.join(dir, `t.${format}.arrow`);
    writeFileSync(file, bytes);
    const handle = await open(file, "r");
    try {
      const middle = await readIndexedBatches(handle, index!, 1, 1);
      expect(rowsToJson(middle, 0, 10).map((r) => r.n)).toEqual([4, 5, 6, 7, 8]);
      const lastTwo = await readIndexedBatches(handle, index!, 1, 2);
      expect(lastTwo.numRows).toBe(8);
    } finally {
      await handle.close();
    }
  });

  it("keeps dictionaries in the prelude", async () => {
    const bytes = tableToIPC(batchedTable(), "stream");
    const index = indexArrowIpc(bytes);
    expect(index?.batches).toHaveLength(3);
    const file = path.join(dir, "dict.arrow");
    writeFileSync(file, bytes);
    const handle = await open(file, "r");
    try {
      const last = await readIndexedBatches(handle, index!, 2, 2);
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

  it("returns null for bytes it does not understand", () => {
    expect(indexArrowIpc(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]))).toBeNull();
    expect(indexArrowIpc(new Uint8Array())).toBeNull();
  });
});
