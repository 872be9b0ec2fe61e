import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import type { Table } from "apache-arrow";
import { readParquetFile } from "../../lib/arrow/parquet-arrow";
import { LocalArrowWorkspace } from "../../lib/io/cloud/local-arrow";
import type { ObjectStoreConnector } from "../../lib/io/cloud/object-connector";
import { taxiDataDir } from "../taxi-data";
import { differingRows, logicalSchemaOf, nullCounts, schemaOf } from "./table-compare";

const data = taxiDataDir();
export const TAXI_PARQUET = join(data, "green_tripdata_2024-01.parquet");
export const TAXI_CSV_GZ = join(data, "green_tripdata_2020-10.csv.gz");
export const TAXI_ZONES = join(data, "taxi_zone_lookup.csv");

/** What the shared bucket-connector suite needs from one service. */
export interface ObjectConnectorHarness {
  /** `gs` or `s3`. */
  scheme: "gs" | "s3";
  /** An existing, empty bucket. */
  bucket: string;
  /** The connector under test, with the profile name "test". */
  connector: () => ObjectStoreConnector;
  /** The connector's description prefix in messages, e.g. `gcs "test"`. */
  description: string;
}

/**
 * One round-trip suite for every bucket connector: the real NYC taxi files go up, come back
 * byte for byte, become Arrow, are written as hive-partitioned Parquet datasets and read back with zero
 * changed values; bad input fails with errors naming the connector and the object.
 */
export function describeObjectConnector(harness: ObjectConnectorHarness): void {
  const { scheme, bucket, description } = harness;
  const uri = (path: string) => `${scheme}://${bucket}/${path}`;
  let workspace: LocalArrowWorkspace;
  let scratch: string;
  let local2024: Table;

  beforeAll(async () => {
    workspace = new LocalArrowWorkspace();
    scratch = await mkdtemp(join(tmpdir(), `sluice-${scheme}-suite-`));
    local2024 = await readParquetFile(TAXI_PARQUET);
  });

  afterAll(async () => {
    await workspace?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const sha256 = async (path: string) => createHash("sha256").update(await readFile(path)).digest("hex");

  test("uploads and downloads objects byte for byte, streamed, with progress", async () => {
    const c = harness.connector();
    const progress: number[] = [];
    await c.uploadFile(TAXI_PARQUET, uri("raw/green_tripdata_2024-01.parquet"), { onProgress: (p) => progress.push(p.bytes ?? 0) });
    await c.uploadFile(TAXI_CSV_GZ, uri("raw/green_tripdata_2020-10.csv.gz"));
    expect(progress.at(-1)).toBe(1_362_284);
    const copy = join(scratch, "copy.parquet");
    expect(await c.downloadFile(uri("raw/green_tripdata_2024-01.parquet"), copy)).toEqual({ bytes: 1_362_284 });
    expect(await sha256(copy)).toBe(await sha256(TAXI_PARQUET));
    const csvCopy = join(scratch, "copy.csv.gz");
    await c.downloadFile(uri("raw/green_tripdata_2020-10.csv.gz"), csvCopy);
    expect(await sha256(csvCopy)).toBe(await sha256(TAXI_CSV_GZ));
    // A stream of unknown length (resumable upload on GCS, multipart on S3).
    await c.upload(Readable.from([Buffer.alloc(9 * 1024 * 1024, 1), Buffer.alloc(1024, 2)]), uri("raw/blob.bin"));
    const blob = join(scratch, "blob.bin");
    expect(await c.downloadFile(uri("raw/blob.bin"), blob)).toEqual({ bytes: 9 * 1024 * 1024 + 1024 });
  });

  test("lists with prefix and delimiter", async () => {
    const c = harness.connector();
    for (let i = 0; i < 5; i++) await c.upload(Readable.from([Buffer.from(`x${i}`)]), uri(`listing/d${i % 2}/o${i}.txt`), { size: 2 });
    const flat = await c.list(uri("listing/"));
    expect(flat.objects.map((o) => o.key)).toEqual(["listing/d0/o0.txt", "listing/d0/o2.txt", "listing/d0/o4.txt", "listing/d1/o1.txt", "listing/d1/o3.txt"]);
    expect(flat.objects[0].size).toBe(2);
    const tree = await c.list(uri("listing/"), { delimiter: "/" });
    expect(tree.prefixes).toEqual(["listing/d0/", "listing/d1/"]);
    expect(tree.objects).toEqual([]);
  });

  test("reads the 2024-01 Parquet object into Arrow with the file's types and values", async () => {
    const remote = await harness.connector().read(uri("raw/green_tripdata_2024-01.parquet"));
    expect(remote.numRows).toBe(56_551);
    expect(schemaOf(remote)).toEqual(schemaOf(local2024));
    expect(nullCounts(remote)).toEqual(nullCounts(local2024));
    expect(await differingRows(local2024, remote)).toMatchObject({ missing: 0, extra: 0 });
  });

  test("writes the 2024-01 table as a hive-partitioned dataset and reads it back unchanged", async () => {
    const c = harness.connector();
    const result = await c.write(local2024, uri("lake/green_2024_01"), { partitionBy: ["VendorID", "payment_type"] });
    expect(result).toEqual({ rows: 56_551, location: uri("lake/green_2024_01/") });
    const keys = (await c.list(uri("lake/green_2024_01/"))).objects.map((o) => o.key);
    expect(keys.some((k) => /^lake\/green_2024_01\/VendorID=2\/payment_type=1\/part-.+\.parquet$/.test(k))).toBe(true);
    expect(keys.some((k) => k.includes("payment_type=__HIVE_DEFAULT_PARTITION__/"))).toBe(true);
    const back = await c.read(uri("lake/green_2024_01/"));
    expect(back.numRows).toBe(56_551);
    // pyarrow wrote large_string; DuckDB has one VARCHAR, so that column comes back as Utf8 with the same values.
    expect(schemaOf(local2024).store_and_fwd_flag).toBe("LargeUtf8");
    expect(logicalSchemaOf(back)).toEqual(logicalSchemaOf(local2024));
    expect(nullCounts(back)).toEqual(nullCounts(local2024));
    expect(await differingRows(local2024, back)).toMatchObject({ missing: 0, extra: 0 });
    const range = (t: Table) => {
      let min = Infinity;
      let max = -Infinity;
      for (const v of t.getChild("lpep_pickup_datetime") ?? []) {
        const n = Number(v);
        if (n < min) min = n;
        if (n > max) max = n;
      }
      return [new Date(min).toISOString(), new Date(max).toISOString()];
    };
    expect(range(back)).toEqual(["2023-12-31T14:38:47.000Z", "2024-01-31T23:57:29.000Z"]);
  });

  test("reads the green 2020-10 CSV.gz object, writes it as a dataset and reads it back unchanged", async () => {
    const c = harness.connector();
    const local = await workspace.readCsv(TAXI_CSV_GZ);
    const remote = await c.read(uri("raw/green_tripdata_2020-10.csv.gz"));
    expect(remote.numRows).toBe(95_120);
    expect(schemaOf(remote)).toEqual(schemaOf(local));
    expect(remote.getChild("ehail_fee")?.nullCount).toBe(95_120);
    expect(remote.getChild("VendorID")?.nullCount).toBe(42_510);
    expect(await differingRows(local, remote)).toMatchObject({ missing: 0, extra: 0 });
    await c.write(remote, uri("lake/green_2020_10/"), { partitionBy: ["VendorID"] });
    const back = await c.read(uri("lake/green_2020_10/"));
    expect(schemaOf(back)).toEqual(schemaOf(local));
    expect(nullCounts(back)).toEqual(nullCounts(local));
    expect(await differingRows(local, back)).toMatchObject({ missing: 0, extra: 0, actualRows: 95_120 });
  });

  test('keeps the zone lookup\'s "NA" and "N/A" as strings', async () => {
    const c = harness.connector();
    await c.uploadFile(TAXI_ZONES, uri("raw/taxi_zone_lookup.csv"));
    const zones = await c.read(uri("raw/taxi_zone_lookup.csv"));
    expect(zones.numRows).toBe(265);
    expect(nullCounts(zones)).toEqual({ LocationID: 0, Borough: 0, Zone: 0, service_zone: 0 });
    expect(zones.get(264)?.toJSON()).toMatchObject({ LocationID: 265n, Zone: "NA", service_zone: "N/A" });
    expect(zones.get(263)?.toJSON()).toMatchObject({ LocationID: 264n, Zone: "NV", service_zone: "N/A" });
    await c.write(zones, uri("lake/zones/"));
    const back = await c.read(uri("lake/zones/"));
    expect(await differingRows(zones, back)).toMatchObject({ missing: 0, extra: 0 });
  });

  test("write modes: replace removes the old files, append adds, fail refuses", async () => {
    const c = harness.connector();
    const zones = await c.read(uri("raw/taxi_zone_lookup.csv"));
    const keys = async () => (await c.list(uri("modes/"))).objects.map((o) => o.key);
    await c.write(zones, uri("modes/"), { partitionBy: ["Borough"] });
    const first = await keys();
    await c.write(zones, uri("modes/"), { partitionBy: ["Borough"], mode: "replace" });
    const second = await keys();
    expect(second).toHaveLength(first.length);
    expect(second.some((k) => first.includes(k))).toBe(false);
    await c.write(zones, uri("modes/"), { partitionBy: ["Borough"], mode: "append" });
    expect((await c.read(uri("modes/"))).numRows).toBe(530);
    await expect(c.write(zones, uri("modes/"), { mode: "fail" })).rejects.toThrow(`${description}: ${uri("modes/")} already exists (${first.length * 2} object(s))`);
  });

  test("bad input: a missing bucket, a missing object, a bad URI, an unknown format", async () => {
    const c = harness.connector();
    const other = scheme === "gs" ? "s3" : "gs";
    await expect(c.read(`${scheme}://no-such-bucket/lake/`)).rejects.toThrow(`${description}: bucket "no-such-bucket" does not exist (for ${scheme}://no-such-bucket/lake/)`);
    await expect(c.write(local2024, `${scheme}://no-such-bucket/out/`)).rejects.toMatchObject({ code: "bucket_not_found", kind: "user" });
    await expect(c.read(uri("raw/missing.parquet"))).rejects.toThrow(`${description}: cannot download ${uri("raw/missing.parquet")}: not found`);
    await expect(c.downloadFile(uri("nope.csv"), join(scratch, "nope.csv"))).rejects.toMatchObject({ code: "object_not_found", kind: "user" });
    await expect(c.read(`${other}://${bucket}/x.parquet`)).rejects.toThrow(`${description}: "${other}://${bucket}/x.parquet" is not a ${scheme}://bucket/key URI`);
    await expect(c.read(uri("raw/blob.bin"))).rejects.toThrow(/cannot tell the format/);
    await expect(c.read(uri("empty-prefix/"))).rejects.toThrow(`${description}: no Parquet objects under ${uri("empty-prefix/")}`);
  });
}
