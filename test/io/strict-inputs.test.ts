/**
 * Strict inputs through the connectors a block calls: damaged copies of the real NYC taxi files (see
 * strict-inputs-fixtures.ts) must fail `ctx.io.files.read`, `files.stream` and `http.read` (against a local
 * HTTP server) with the file and line named, and the tolerant modes must load the rest and say how many rows
 * they dropped or padded. The SQL side (read_csv / read_parquet in a SQL block) is in strict-inputs-sql.test.ts.
 */
import fs from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import type { Table } from "apache-arrow";
import { GREEN_CSV_COLUMNS } from "../../lib/io/connector-contract";
import { FilesConnector, type FileTarget } from "../../lib/io/files";
import { HttpConnector, type HttpReadTarget } from "../../lib/io/http";
import { LocalArrowWorkspace } from "../../lib/io/cloud/local-arrow";
import { GREEN_GZ, writeBadCopies, type BadCopies } from "./strict-inputs-fixtures";

jest.setTimeout(300_000);

let dir: string;
let bad: BadCopies;
let server: Server;
let base: string;
let files: FilesConnector;
const http = new HttpConnector({ retries: 0 }, "test");

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-strict-inputs-"));
  bad = await writeBadCopies(dir);
  files = new FilesConnector({ root: dir, name: "local" });
  server = createServer((req, res) => {
    const file = path.join(dir, path.basename(req.url ?? ""));
    if (!fs.existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    const body = fs.readFileSync(file);
    res.writeHead(200, { "content-length": String(body.length) }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Reads a target through files.read, collecting warnings. */
async function readFile(target: FileTarget): Promise<{ table: Table; warnings: string[] }> {
  const warnings: string[] = [];
  const table = await files.read(target, { onWarning: (m) => warnings.push(m) });
  return { table, warnings };
}

async function streamAll(target: FileTarget): Promise<number> {
  let rows = 0;
  for await (const batch of files.stream(target, { onWarning: () => undefined })) rows += batch.numRows;
  return rows;
}

async function readHttp(target: Omit<HttpReadTarget, "url"> & { file: string }): Promise<{ table: Table; warnings: string[] }> {
  const warnings: string[] = [];
  const { file, ...rest } = target;
  const table = await http.read({ url: `${base}/${file}`, ...rest }, { onWarning: (m) => warnings.push(m) });
  return { table, warnings };
}

describe("the fixtures are the damage they claim", () => {
  it("the line-boundary cut decompresses to whole lines but has no gzip trailer", () => {
    const bytes = fs.readFileSync(path.join(dir, "green-cut-line.csv.gz"));
    expect(() => zlib.gunzipSync(bytes)).toThrow(/unexpected end of file/);
    const prefix = zlib.gunzipSync(bytes, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString("utf8");
    expect(prefix.endsWith("\n")).toBe(true);
    expect(prefix.split("\n").length - 1).toBe(bad.cutLines);
    expect(bad.cutLines).toBeGreaterThan(1000);
    expect(bad.cutLines).toBeLessThan(bad.rows);
  });
});

describe("strict by default: files.read, files.stream and http.read fail naming the file and line", () => {
  it("a .csv.gz cut on a line boundary (no trailer) fails instead of loading half the rows", async () => {
    await expect(files.read("green-cut-line.csv.gz")).rejects.toThrow(/^green-cut-line\.csv\.gz: the \.gz file is truncated or damaged \(unexpected end of file\)/);
    await expect(streamAll({ path: "green-cut-line.csv.gz" })).rejects.toThrow(/green-cut-line\.csv\.gz: the \.gz file is truncated or damaged/);
    await expect(readHttp({ file: "green-cut-line.csv.gz" })).rejects.toThrow(`GET ${base}/green-cut-line.csv.gz: the .gz file is truncated or damaged`);
    // Declared column types take another DuckDB path; the check comes first either way.
    await expect(files.read({ path: "green-cut-line.csv.gz", columns: GREEN_CSV_COLUMNS })).rejects.toThrow(/the \.gz file is truncated or damaged/);
  });

  it("a .csv.gz cut mid-line fails as a damaged file, not as a short row", async () => {
    await expect(files.read("green-cut-mid.csv.gz")).rejects.toThrow(/^green-cut-mid\.csv\.gz: the \.gz file is truncated or damaged/);
    await expect(streamAll({ path: "green-cut-mid.csv.gz" })).rejects.toThrow(/green-cut-mid\.csv\.gz: the \.gz file is truncated or damaged/);
    await expect(readHttp({ file: "green-cut-mid.csv.gz" })).rejects.toThrow(`GET ${base}/green-cut-mid.csv.gz: the .gz file is truncated or damaged`);
  });

  it("a ragged row fails with the line and the expected and found column counts", async () => {
    const message = new RegExp(`green-ragged\\.csv: CSV line ${bad.shortLine}: expected 20 columns, found 17; 2 rows in the file have the wrong number of columns`);
    await expect(files.read("green-ragged.csv")).rejects.toThrow(message);
    await expect(files.read({ path: "green-ragged.csv", columns: GREEN_CSV_COLUMNS })).rejects.toThrow(message);
    await expect(streamAll({ path: "green-ragged.csv" })).rejects.toThrow(message);
    await expect(readHttp({ file: "green-ragged.csv" })).rejects.toThrow(`GET ${base}/green-ragged.csv: CSV line ${bad.shortLine}: expected 20 columns, found 17`);
  });

  it("a value that does not parse as its column's type fails with line, column and value", async () => {
    const detected = new RegExp(`^green-typed\\.csv: CSV line ${bad.typedLine}: column "PULocationID": cannot convert "abc" to (BIGINT|INTEGER)`);
    await expect(files.read("green-typed.csv")).rejects.toThrow(detected);
    await expect(streamAll({ path: "green-typed.csv" })).rejects.toThrow(detected);
    await expect(files.read({ path: "green-typed.csv", columns: GREEN_CSV_COLUMNS })).rejects.toThrow(
      new RegExp(`^green-typed\\.csv: CSV line ${bad.typedLine}: column "PULocationID": cannot convert "abc" to INTEGER`),
    );
    await expect(readHttp({ file: "green-typed.csv" })).rejects.toThrow(new RegExp(`CSV line ${bad.typedLine}: column "PULocationID": cannot convert "abc"`));
  });

  it("a Parquet file cut short fails naming the file", async () => {
    await expect(files.read("green-cut.parquet")).rejects.toThrow(/^green-cut\.parquet: not a complete Parquet file \(no PAR1 footer at the end; \d+ bytes\): it is truncated or damaged/);
    await expect(streamAll({ path: "green-cut.parquet" })).rejects.toThrow(/green-cut\.parquet: not a complete Parquet file/);
    await expect(readHttp({ file: "green-cut.parquet" })).rejects.toThrow(`GET ${base}/green-cut.parquet: not a complete Parquet file`);
  });

  it("the intact real file still loads whole, with no warning, through every reader", async () => {
    fs.copyFileSync(GREEN_GZ, path.join(dir, "green.csv.gz"));
    const plain = await readFile({ path: "green.csv.gz" });
    expect(plain.table.numRows).toBe(bad.rows);
    expect(plain.table.numCols).toBe(20);
    expect(plain.warnings).toEqual([]);
    expect((await readFile({ path: "green.csv.gz", columns: GREEN_CSV_COLUMNS })).table.numRows).toBe(bad.rows);
    expect(await streamAll({ path: "green.csv.gz" })).toBe(bad.rows);
    const overHttp = await readHttp({ file: "green.csv.gz" });
    expect(overHttp.table.numRows).toBe(bad.rows);
    expect(overHttp.warnings).toEqual([]);
  });
});

describe("on_bad_rows opts one read in to tolerance and reports what it rejected", () => {
  it("skip drops the ragged rows and warns with the count and the first examples with their lines", async () => {
    const { table, warnings } = await readFile({ path: "green-ragged.csv", on_bad_rows: "skip" });
    expect(table.numRows).toBe(bad.rows - 2);
    expect(table.numCols).toBe(20);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(new RegExp(`^green-ragged\\.csv: 2 bad rows skipped \\(on_bad_rows: "skip"\\), e\\.g\\. line ${bad.shortLine}: .*; line ${bad.longLine}: `));

    const overHttp = await readHttp({ file: "green-ragged.csv", on_bad_rows: "skip" });
    expect(overHttp.table.numRows).toBe(bad.rows - 2);
    expect(overHttp.warnings[0]).toMatch(/2 bad rows skipped/);
  });

  it("skip also drops a value that does not parse, and says which line", async () => {
    const { table, warnings } = await readFile({ path: "green-typed.csv", columns: GREEN_CSV_COLUMNS, on_bad_rows: "skip" });
    expect(table.numRows).toBe(bad.rows - 1);
    expect(warnings).toEqual([expect.stringMatching(new RegExp(`^green-typed\\.csv: 1 bad row skipped .*line ${bad.typedLine}: .*abc`))]);
  });

  it("null_pad fills a short row's missing fields with NULL and warns", async () => {
    const { table, warnings } = await readFile({ path: "green-short.csv", columns: GREEN_CSV_COLUMNS, on_bad_rows: "null_pad" });
    expect(table.numRows).toBe(bad.rows);
    const padded = table.get(bad.shortLine - 2);
    expect(padded?.toJSON().congestion_surcharge).toBeNull();
    expect(padded?.toJSON().payment_type).toBeNull();
    expect(padded?.toJSON().VendorID).not.toBeNull();
    expect(warnings).toEqual([expect.stringMatching(new RegExp(`^green-short\\.csv: 1 bad row padded with NULLs \\(on_bad_rows: "null_pad"\\), e\\.g\\. line ${bad.shortLine}: expected 20 columns, found 17`))]);
  });

  it("null_pad still fails on a row with too many fields (nothing to pad)", async () => {
    await expect(files.read({ path: "green-ragged.csv", on_bad_rows: "null_pad" })).rejects.toThrow(
      new RegExp(`green-ragged\\.csv: CSV line ${bad.longLine}: expected 20 columns, found 21.*on_bad_rows: "skip"`),
    );
  });

  it("no tolerance mode excuses a truncated gzip", async () => {
    await expect(files.read({ path: "green-cut-line.csv.gz", on_bad_rows: "skip" })).rejects.toThrow(/the \.gz file is truncated or damaged/);
  });

  it("a file with a header and no rows loads empty, with a warning", async () => {
    const { table, warnings } = await readFile({ path: "green-header-only.csv" });
    expect(table.numRows).toBe(0);
    expect(warnings).toEqual(["green-header-only.csv: the file has a header (20 columns) but no rows: the result is empty"]);
  });
});

describe("the bucket connectors' reader (LocalArrowWorkspace, what gcs/s3 read objects with)", () => {
  const workspace = new LocalArrowWorkspace();
  afterAll(() => workspace.close());

  it("fails on the same damage, naming the object", async () => {
    await expect(workspace.readCsv(path.join(dir, "green-cut-line.csv.gz"), {}, "gs://b/green.csv.gz")).rejects.toThrow(/^gs:\/\/b\/green\.csv\.gz: the \.gz file is truncated or damaged/);
    await expect(workspace.readCsv(path.join(dir, "green-ragged.csv"), {}, "gs://b/r.csv")).rejects.toThrow(`gs://b/r.csv: CSV line ${bad.shortLine}: expected 20 columns, found 17`);
    await expect(workspace.readParquet(path.join(dir, "green-cut.parquet"), "gs://b/p.parquet")).rejects.toThrow(/^gs:\/\/b\/p\.parquet: not a complete Parquet file/);
  });

  it("skips with a count when asked", async () => {
    const warnings: string[] = [];
    const table = await workspace.readCsv(path.join(dir, "green-ragged.csv"), { on_bad_rows: "skip", onWarning: (m) => warnings.push(m) }, "gs://b/r.csv");
    expect(table.numRows).toBe(bad.rows - 2);
    expect(warnings[0]).toMatch(/^gs:\/\/b\/r\.csv: 2 bad rows skipped/);
  });

  it("still reads the intact real file", async () => {
    const warnings: string[] = [];
    const table = await workspace.readCsv(GREEN_GZ, { onWarning: (m) => warnings.push(m) }, "gs://b/green.csv.gz");
    expect(table.numRows).toBe(bad.rows);
    expect(warnings).toEqual([]);
  });
});
