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
describeConnectorContract("files: parquet file", filesSubject(".parquet", false), { modes: ["replace", "fail"] });
describeConnectorContract("files: arrow file", filesSubject(".arrow", false), { modes: ["replace", "fail"] });
describeConnectorContract("files: hive-partitioned parquet lake", filesSubject("", true), {
  partitionBy: (dataset) => ({ green2020: ["VendorID"], green2024: ["payment_type"], zones: ["Borough"] })[dataset],
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

  it("refuses to append to a single file", async () => {
    const files = new FilesConnector({ root });
    const table = tableFromArrays({ n: new Int32Array([1]) });
    await files.write(table, "one.parquet");
    await expect(files.write(table, "one.parquet", { mode: "append" })).rejects.toThrow(/cannot append/);
  });
});
