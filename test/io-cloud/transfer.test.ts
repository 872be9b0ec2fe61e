import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { UserError } from "../../lib/core/errors";
import { GcsConnector } from "../../lib/io/cloud/gcs";
import { S3Connector } from "../../lib/io/cloud/s3";
import { transferS3ToGcs } from "../../lib/io/cloud/transfer";
import { startGcsServer, type GcsServer } from "../servers/gcs-server";
import { S3RVER_CREDENTIALS, startS3Server, type S3Server } from "../servers/s3-server";
import { TAXI_CSV_GZ, TAXI_PARQUET, TAXI_ZONES } from "./object-connector-suite";

// Real files through real clients and local servers: seconds each, minutes on a loaded CI machine.
jest.setTimeout(240_000);

let s3Server: S3Server;
let gcsServer: GcsServer;
let s3: S3Connector;
let gcs: GcsConnector;

const md5 = (bytes: Uint8Array) => createHash("md5").update(bytes).digest("hex");

beforeAll(async () => {
  s3Server = await startS3Server(["raw-trips"]);
  gcsServer = await startGcsServer();
  s3 = new S3Connector({ name: "source", endpoint: s3Server.url, forcePathStyle: true, ...S3RVER_CREDENTIALS });
  gcs = new GcsConnector({ name: "target", projectId: "local-project", apiEndpoint: gcsServer.url });
  await gcs.storage.createBucket("lake");
  await s3.uploadFile(TAXI_PARQUET, "s3://raw-trips/tlc/green/green_tripdata_2024-01.parquet");
  await s3.uploadFile(TAXI_CSV_GZ, "s3://raw-trips/tlc/green/green_tripdata_2020-10.csv.gz");
  await s3.uploadFile(TAXI_ZONES, "s3://raw-trips/tlc/misc/taxi_zone_lookup.csv");
  await s3.uploadFile(TAXI_ZONES, "s3://raw-trips/elsewhere/taxi_zone_lookup.csv");
});

afterAll(async () => {
  await s3?.close();
  await gcs?.close();
  await s3Server?.close();
  await gcsServer?.close();
});

describe("transfer S3 → GCS (the Storage Transfer Service's role)", () => {
  test("copies every object under the prefix, streamed, byte for byte, with progress", async () => {
    const progress: { bytes?: number; totalBytes?: number }[] = [];
    const result = await transferS3ToGcs(s3, "s3://raw-trips/tlc/", gcs, "gs://lake/from-s3/", { onProgress: (p) => progress.push(p) });
    expect(result.objects).toBe(3);
    expect(result.copied.map((c) => c.target)).toEqual([
      "gs://lake/from-s3/green/green_tripdata_2020-10.csv.gz",
      "gs://lake/from-s3/green/green_tripdata_2024-01.parquet",
      "gs://lake/from-s3/misc/taxi_zone_lookup.csv",
    ]);
    const total = 1_709_547 + 1_362_284 + 12_322;
    expect(result.bytes).toBe(total);
    expect(progress.at(-1)).toMatchObject({ bytes: total, totalBytes: total });
    const bytes = progress.map((p) => p.bytes ?? 0);
    expect(bytes).toEqual([...bytes].sort((a, b) => a - b));
    expect(md5(gcsServer.readObject("lake", "from-s3/green/green_tripdata_2024-01.parquet") ?? new Uint8Array())).toBe(md5(await readFile(TAXI_PARQUET)));
    expect(md5(gcsServer.readObject("lake", "from-s3/green/green_tripdata_2020-10.csv.gz") ?? new Uint8Array())).toBe(md5(await readFile(TAXI_CSV_GZ)));
    expect(gcsServer.listObjects("lake", "from-s3/")).toHaveLength(3);
  });

  test("filters keys, skips what already arrived (same size and MD5), copies a changed object again unless overwrite: false", async () => {
    const parquet = await transferS3ToGcs(s3, "s3://raw-trips/tlc/", gcs, "gs://lake/only-parquet", { include: (k) => k.endsWith(".parquet") });
    expect(parquet.copied.map((c) => c.target)).toEqual(["gs://lake/only-parquet/green/green_tripdata_2024-01.parquet"]);
    const again = await transferS3ToGcs(s3, "s3://raw-trips/tlc/", gcs, "gs://lake/from-s3/");
    expect(again).toMatchObject({ objects: 0, skipped: 3, unverified: 0 });
    // Same size, other bytes: only the MD5 tells them apart.
    const zones = await readFile(TAXI_ZONES);
    const changed = Buffer.from(zones);
    changed[changed.length - 2] = changed[changed.length - 2] === 0x41 ? 0x42 : 0x41;
    await gcs.storage.bucket("lake").file("from-s3/misc/taxi_zone_lookup.csv").save(changed);
    const kept = await transferS3ToGcs(s3, "s3://raw-trips/tlc/", gcs, "gs://lake/from-s3/", { overwrite: false });
    expect(kept).toMatchObject({ objects: 0, skipped: 2, kept: 1 });
    const fixed = await transferS3ToGcs(s3, "s3://raw-trips/tlc/", gcs, "gs://lake/from-s3/");
    expect(fixed).toMatchObject({ objects: 1, skipped: 2, kept: 0 });
    expect(md5(gcsServer.readObject("lake", "from-s3/misc/taxi_zone_lookup.csv") ?? new Uint8Array())).toBe(md5(zones));
  });

  test("bad input: an empty source prefix, a missing source bucket, a missing target bucket", async () => {
    await expect(transferS3ToGcs(s3, "s3://raw-trips/nothing-here/", gcs, "gs://lake/x/")).rejects.toThrow('transfer s3 "source" → gcs "target": nothing under s3://raw-trips/nothing-here/');
    await expect(transferS3ToGcs(s3, "s3://no-such-bucket/tlc/", gcs, "gs://lake/x/")).rejects.toThrow(/s3 "source": cannot list s3:\/\/no-such-bucket\/tlc\/: not found/);
    const error: unknown = await transferS3ToGcs(s3, "s3://raw-trips/tlc/misc/", gcs, "gs://no-such-bucket/x/").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    // Found before any object is read: the destination is listed first.
    expect(String(error)).toContain('gcs "target": cannot list gs://no-such-bucket/x/: not found');
  });
});
