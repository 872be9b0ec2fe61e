import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tableFromArrays } from "apache-arrow";
import { createBlockIo, type BlockIo } from "../../lib/io/block-io";
import { parseServiceAccount } from "../../lib/io/cloud-io";
import { parseProfiles } from "../../lib/io/profiles";
import { clearSecrets, redact } from "../../lib/io/redact";
import { startBigQueryServer, type BigQueryServer } from "../servers/bigquery-server";
import { startGcsServer, type GcsServer } from "../servers/gcs-server";
import { S3RVER_CREDENTIALS, startS3Server, type S3Server } from "../servers/s3-server";
import { REPO_ROOT } from "../taxi-data";
import { nativeBigQueryDeps } from "./native-modules";

jest.setTimeout(120_000);

let gcsServer: GcsServer;
let bqServer: BigQueryServer;
let s3Server: S3Server;
let dir: string;
let io: BlockIo;

/** sluice.yaml as a user writes it: endpoints and keys are profile settings, secrets come from the environment. */
function sluiceYaml(): string {
  return [
    "connections:",
    "  lake:",
    "    kind: gcs",
    "    bucket: lake",
    "    project_id: local-project",
    `    api_endpoint: ${gcsServer.url}`,
    "  raw:",
    "    kind: s3",
    "    bucket: raw",
    `    endpoint: ${s3Server.url}`,
    "    access_key_id: \"{{ env_var('S3_KEY') }}\"",
    "    secret_access_key: \"{{ env_var('S3_SECRET') }}\"",
    "  warehouse:",
    "    kind: bigquery",
    "    project_id: local-project",
    "    dataset: zoomcamp",
    "    location: US",
    `    api_endpoint: ${bqServer.url}`,
  ].join("\n");
}

beforeAll(async () => {
  gcsServer = await startGcsServer();
  gcsServer.createBucket("lake");
  bqServer = await startBigQueryServer({ readGcsObject: gcsServer.readObject, listGcsObjects: gcsServer.listObjects });
  s3Server = await startS3Server(["raw"]);
  dir = await mkdtemp(join(tmpdir(), "sluice-block-io-cloud-"));
  const profiles = parseProfiles(sluiceYaml(), "sluice.yaml", { S3_KEY: S3RVER_CREDENTIALS.accessKeyId, S3_SECRET: "S3RVER-secret-value" });
  io = createBlockIo(profiles, { dataDir: join(dir, ".sluice"), projectDir: dir, bigQueryDeps: nativeBigQueryDeps() });
});

afterAll(async () => {
  await io?.close();
  clearSecrets();
  await Promise.all([gcsServer?.close(), bqServer?.close(), s3Server?.close()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

const trips = tableFromArrays({
  vendor: Int32Array.from([1, 2, 2, 1]),
  day: ["2020-10-01", "2020-10-01", "2020-10-02", "2020-10-02"],
  fare: Float64Array.from([7.5, 12.25, 3, 40]),
});

describe("ctx.io.gcs / s3 / bigquery built from sluice.yaml profiles", () => {
  test("gcs: a hive-partitioned dataset under a bare key of the profile's bucket, listed and read back", async () => {
    const gcs = io.gcs("lake");
    expect(gcs.uri("trips/")).toBe("gs://lake/trips/");
    const written = await gcs.write(trips, "trips/", { partitionBy: ["day"] });
    expect(written).toEqual({ rows: 4, location: "gs://lake/trips/" });
    const listing = await gcs.list("trips/");
    expect(listing.objects.map((o) => o.key).sort()).toEqual([expect.stringMatching(/^trips\/day=2020-10-01\/part-.*\.parquet$/), expect.stringMatching(/^trips\/day=2020-10-02\/part-.*\.parquet$/)]);
    expect(listing.objects[0].uri).toBe(`gs://lake/${listing.objects[0].key}`);
    const back = await io.gcs().read("gs://lake/trips/");
    expect(back.numRows).toBe(4);
    let sum = 0;
    for (const fare of back.getChild("fare") ?? []) sum += Number(fare);
    expect(sum).toBe(62.75);
  });

  test("s3: write and read with the keys from the environment; the secret never shows in messages", async () => {
    const s3 = io.s3();
    await s3.write(trips, "s3://raw/trips/", { mode: "replace" });
    expect((await s3.read({ uri: "trips/", format: "dataset" })).numRows).toBe(4);
    await expect(s3.write(trips, "trips/", { mode: "fail" })).rejects.toThrow(/s3 "raw": s3:\/\/raw\/trips\/ already exists .* "fail"/);
    expect(redact("secret S3RVER-secret-value leaked")).toBe("secret *** leaked");
  });

  test("bigquery: loads the GCS dataset into the profile's dataset (created when missing); truncate replaces", async () => {
    const bq = io.bigquery("warehouse");
    const first = await bq.loadFromGcs("gs://lake/trips/", "trips", { mode: "replace" });
    expect(first).toMatchObject({ rows: 4, table: "zoomcamp.trips" });
    await bq.loadFromGcs("gs://lake/trips/", "trips", { mode: "replace" });
    const counted = await bq.read("SELECT count(*) AS n, sum(fare) AS fares FROM trips");
    expect(Number(counted.getChild("n")?.get(0))).toBe(4);
    expect(counted.getChild("fares")?.get(0)).toBe(62.75);
    const appended = await bq.write(trips, "zoomcamp.trips", { mode: "append" });
    expect(appended.rows).toBe(4);
    expect(Number((await bq.read({ query: "SELECT count(*) AS n FROM trips" })).getChild("n")?.get(0))).toBe(8);
  });

  test("unknown and wrongly-kinded connections fail at once, naming sluice.yaml", () => {
    expect(() => io.gcs("nope")).toThrow(/sluice\.yaml: no connection "nope"/);
    expect(() => io.bigquery("lake")).toThrow(/connection "lake" is gcs, not bigquery/);
  });

  test("a bare key without a bucket in the profile is refused with what to write instead", async () => {
    const bare = createBlockIo(parseProfiles("connections:\n  g: { kind: gcs, api_endpoint: http://127.0.0.1:9 }\n", "sluice.yaml", {}), { dataDir: join(dir, ".sluice") });
    try {
      await expect(bare.gcs().read("trips/")).rejects.toThrow(/gcs "g": "trips\/" has no gs:\/\/ bucket .* add bucket: to the connection/);
    } finally {
      await bare.close();
    }
  });

  test("credentials_json: a service-account key is parsed and its private key redacted; anything else is refused without quoting it", () => {
    const broken = "{ not json Sup3rSecret-key";
    const error = (() => {
      try {
        parseServiceAccount(broken, 'connection "lake"');
      } catch (e) {
        return e as Error;
      }
      return null;
    })();
    expect(error?.message).toBe(`connection "lake": credentials_json is not valid JSON (a service-account key file's contents)`);
    expect(() => parseServiceAccount('{"type":"authorized_user"}', 'connection "lake"')).toThrow(/has no client_email and private_key/);
    const key = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n";
    expect(parseServiceAccount(JSON.stringify({ client_email: "etl@p.iam.gserviceaccount.com", private_key: key }), "x")).toEqual({ client_email: "etl@p.iam.gserviceaccount.com", private_key: key });
    expect(redact(`signing with ${key}`)).toBe("signing with ***");
  });

  test("building ctx.io loads no cloud SDK; the first call to a facade does", () => {
    // A fresh Node process (jest's module registry would hide what Node itself loaded).
    const script = `
      const { createBlockIo } = require(${JSON.stringify(join(REPO_ROOT, "lib/io/block-io.ts"))});
      const loaded = () => Object.keys(require.cache).filter((p) => /@google-cloud|@aws-sdk/.test(p)).length;
      const io = createBlockIo({ file: null, connections: { lake: { kind: "gcs", bucket: "b", api_endpoint: "http://127.0.0.1:9" } } }, { dataDir: "/tmp/x" });
      io.gcs(); io.s3();
      const before = loaded();
      io.gcs().list("x/").catch(() => undefined).finally(() => { console.log(JSON.stringify({ before, after: loaded() })); process.exit(0); });
    `;
    const result = spawnSync(process.execPath, ["-r", "tsx/cjs", "-e", script], { cwd: REPO_ROOT, encoding: "utf8", timeout: 60_000 });
    expect(result.stderr).toBe("");
    const counts = JSON.parse(result.stdout.trim()) as { before: number; after: number };
    expect(counts.before).toBe(0);
    expect(counts.after).toBeGreaterThan(0);
  });
});
