import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tableFromArrays, type Schema } from "apache-arrow";
import { describeConnectorContract } from "./connector-contract";
import { duckdbTypeOf } from "./duckdb-session";
import { FilesConnector, type FileTarget } from "./files";

const columnsOf = (schema: Schema): Record<string, string> => Object.fromEntries(schema.fields.map((f) => [f.name, duckdbTypeOf(f)]));

function filesSubject(extension: string, typed: boolean) {
  return async () => {
    const root = await mkdtemp(join(tmpdir(), "sluice-files-test-"));
    const connector = new FilesConnector({ root, name: "test" });
    return {
      connector,
      target: (name: string, schema: Schema) => {
        const target: FileTarget = { path: `${name}${extension}`, ...(typed ? { columns: columnsOf(schema) } : {}) };
        return { write: target, read: target };
      },
      cleanup: () => rm(root, { recursive: true, force: true }),
    };
  };
}

describeConnectorContract("files: csv", filesSubject(".csv", true), { modes: ["replace", "fail"] });
describeConnectorContract("files: csv.gz", filesSubject(".csv.gz", true), { modes: ["replace", "fail"] });
describeConnectorContract("files: parquet file", filesSubject(".parquet", false), { modes: ["replace", "fail"], upstreamRefs: true });
describeConnectorContract("files: arrow file", filesSubject(".arrow", false), { modes: ["replace", "fail"], upstreamRefs: true });
describeConnectorContract("files: hive-partitioned parquet lake", filesSubject("", true), {
  partitionBy: (dataset) => ({ green2020: ["VendorID"], green2024: ["payment_type"], zones: ["Borough"] })[dataset],
  upstreamRefs: true,
});

describe("files connector", () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "sluice-files-unit-"));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it("writes hive-style partitions and leaves no temp files", async () => {
    const files = new FilesConnector({ root });
    const table = tableFromArrays({ borough: ["Queens", "Staten Island", "Queens"], n: new Int32Array([1, 2, 3]) });
    await files.write(table, "lake", { partitionBy: ["borough"] });
    expect((await readdir(join(root, "lake"))).sort()).toEqual(["borough=Queens", "borough=Staten%20Island"]);
    expect((await readdir(root)).filter((f) => f.startsWith("."))).toEqual([]);
  });

  it("names the file and line of a CSV row with the wrong column count", async () => {
    const lines = ["a,b", ...Array.from({ length: 3000 }, (_, i) => `${i},${i}`), "1,2,3", "4,5"];
    await writeFile(join(root, "bad.csv"), lines.join("\n"));
    const files = new FilesConnector({ root });
    await expect(files.read({ path: "bad.csv", columns: { a: "INTEGER", b: "INTEGER" } })).rejects.toThrow("bad.csv: CSV line 3002: expected 2 columns, found 3");
    await expect(files.read("bad.csv")).rejects.toThrow("bad.csv: CSV line 3002: expected 2 columns, found 3");
  });

  it("streams a large CSV as record batches while DuckDB parses it", async () => {
    const rows = 300_000;
    const lines = ["id,zone,fare", ...Array.from({ length: rows }, (_, i) => `${i},zone-${i % 263},${(i % 977) / 4}`)];
    await writeFile(join(root, "big.csv"), lines.join("\n"));
    const files = new FilesConnector({ root });
    const progress: number[] = [];
    const sizes: number[] = [];
    let idSum = 0;
    let fareSum = 0;
    let zones = 0;
    for await (const batch of files.stream({ path: "big.csv", columns: { id: "INTEGER", zone: "VARCHAR", fare: "DOUBLE" } }, { onProgress: (p) => progress.push(p.rows ?? 0) })) {
      sizes.push(batch.numRows);
      for (const id of batch.getChild("id") ?? []) idSum += Number(id);
      for (const fare of batch.getChild("fare") ?? []) fareSum += Number(fare);
      for (const zone of batch.getChild("zone") ?? []) if (zone === "zone-262") zones++;
    }
    // Batches of at most 131,072 rows (DuckDB's chunks gathered), not one table of 300,000.
    expect(sizes.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(131_072);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(rows);
    expect(idSum).toBe((rows * (rows - 1)) / 2);
    let expectedFare = 0;
    for (let i = 0; i < rows; i++) expectedFare += (i % 977) / 4;
    expect(fareSum).toBeCloseTo(expectedFare, 3);
    expect(zones).toBe(Math.floor((rows - 1 - 262) / 263) + 1);
    expect(progress[progress.length - 1]).toBe(rows);
  });

  it("stops a CSV stream the consumer leaves early, and reports a bad row with its line", async () => {
    await writeFile(join(root, "big.csv"), ["n", ...Array.from({ length: 300_000 }, (_, i) => String(i))].join("\n"));
    const files = new FilesConnector({ root });
    let seen = 0;
    for await (const batch of files.stream("big.csv")) {
      seen += batch.numRows;
      break;
    }
    expect(seen).toBeGreaterThan(0);
    expect(seen).toBeLessThan(300_000);
    const bad = ["a,b", ...Array.from({ length: 3000 }, (_, i) => `${i},${i}`), "1,2,3", "4,5"];
    await writeFile(join(root, "bad.csv"), bad.join("\n"));
    const drain = async () => {
      for await (const batch of files.stream({ path: "bad.csv", columns: { a: "INTEGER", b: "INTEGER" } })) expect(batch.numRows).toBeGreaterThanOrEqual(0);
    };
    await expect(drain()).rejects.toThrow("bad.csv: CSV line 3002: expected 2 columns, found 3");
    await expect(files.stream("missing.csv")[Symbol.asyncIterator]().next()).rejects.toThrow(/missing.csv does not exist/);
  });

  it("refuses to append to a single file", async () => {
    const files = new FilesConnector({ root });
    const table = tableFromArrays({ n: new Int32Array([1]) });
    await files.write(table, "one.parquet");
    await expect(files.write(table, "one.parquet", { mode: "append" })).rejects.toThrow(/cannot append/);
  });
});
