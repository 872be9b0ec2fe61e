/**
 * "Test connection" against real servers: the local S3 (s3rver) and GCS JSON API servers of test/servers, a
 * real HTTP server, real DuckDB files. Each answer is one line naming what was reached or why not.
 */
import fs from "node:fs";
import { createServer, type Server } from "node:http";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { testConnection } from "../../lib/io/connection-test";
import { GcsConnector } from "../../lib/io/cloud/gcs";
import { nativeBigQueryDeps } from "../io-cloud/native-modules";
import { startBigQueryServer, type BigQueryServer } from "../servers/bigquery-server";
import { startGcsServer, type GcsServer } from "../servers/gcs-server";
import { S3RVER_CREDENTIALS, startS3Server, type S3Server } from "../servers/s3-server";

jest.setTimeout(120_000);

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("testConnection against real servers", () => {
  let dir: string;
  let s3: S3Server;
  let gcs: GcsServer;
  let bq: BigQueryServer;
  let http: Server;
  let httpUrl: string;
  const options = () => ({ projectDir: dir, dataDir: path.join(dir, ".sluice"), timeoutMs: 5000 });

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-conn-test-"));
    [s3, gcs, bq] = await Promise.all([startS3Server(["lake"]), startGcsServer(), startBigQueryServer()]);
    const client = new GcsConnector({ projectId: "local-project", apiEndpoint: gcs.url });
    await client.storage.createBucket("raw");
    await client.close();
    http = createServer((request, response) => {
      response.statusCode = request.url === "/data/" ? 200 : 404;
      response.end();
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    httpUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await Promise.all([s3?.close(), gcs?.close(), bq?.close(), new Promise((resolve) => (http ? http.close(resolve) : resolve(undefined)))]);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("S3: lists the bucket at the endpoint; a missing bucket and a closed port are named", async () => {
    const profile = { kind: "s3" as const, endpoint: s3.url, bucket: "lake", access_key_id: S3RVER_CREDENTIALS.accessKeyId, secret_access_key: S3RVER_CREDENTIALS.secretAccessKey };
    expect(await testConnection("lake", profile, options())).toMatchObject({ ok: true, message: `s3 "lake": listed s3://lake at ${s3.url} (empty)` });
    const missing = await testConnection("lake", { ...profile, bucket: "nope" }, options());
    expect(missing.ok).toBe(false);
    expect(missing.message).toMatch(/^s3 "lake": .*(NoSuchBucket|does not exist)/);
    const port = await closedPort();
    expect(await testConnection("lake", { ...profile, endpoint: `http://127.0.0.1:${port}` }, options())).toMatchObject({ ok: false, message: `s3 "lake": connection refused at 127.0.0.1:${port}` });
  });

  it("GCS: lists the bucket at the api_endpoint; a missing bucket is a not-found", async () => {
    expect(await testConnection("raw", { kind: "gcs", api_endpoint: gcs.url, project_id: "local-project", bucket: "raw" }, options())).toMatchObject({
      ok: true,
      message: `gcs "raw": listed gs://raw at ${gcs.url} (empty)`,
    });
    const missing = await testConnection("raw", { kind: "gcs", api_endpoint: gcs.url, project_id: "local-project", bucket: "absent" }, options());
    expect(missing).toMatchObject({ ok: false, message: expect.stringMatching(/^gcs "raw": .*(not found|No such bucket|does not exist)/i) });
  });

  it("BigQuery: gets the dataset at the api_endpoint; a missing dataset is a not-found", async () => {
    const profile = { kind: "bigquery" as const, project_id: "local-project", api_endpoint: bq.url, dataset: "trips" };
    const withDeps = { ...options(), bigQueryDeps: nativeBigQueryDeps() };
    const missing = await testConnection("dw", profile, withDeps);
    expect(missing).toMatchObject({ ok: false, message: expect.stringMatching(/^bigquery "dw": .*Not found: Dataset local-project:trips/) });
    const [dataset] = await new (nativeBigQueryDeps().BigQuery)({ projectId: "local-project", apiEndpoint: bq.url, authClient: new (nativeBigQueryDeps().PassThroughClient)() }).createDataset("trips");
    expect(dataset.id).toBe("trips");
    expect(await testConnection("dw", profile, withDeps)).toMatchObject({ ok: true, message: 'bigquery "dw": found dataset local-project.trips' });
  });

  it("Postgres: a server that accepts and never answers is cut off at the time limit, named", async () => {
    const silent = createNetServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const result = await testConnection("slow", { kind: "postgres", host: "127.0.0.1", port, database: "test", user: "postgres" }, { ...options(), timeoutMs: 500 });
      expect(result).toMatchObject({ ok: false, message: `postgres "slow": no answer within 0.5 s from 127.0.0.1:${port}` });
    } finally {
      silent.close();
    }
  });

  it("HTTP: HEAD of base_url, the status in the answer", async () => {
    expect(await testConnection("web", { kind: "http", base_url: `${httpUrl}/data/` }, options())).toMatchObject({ ok: true, message: `http "web": ${httpUrl}/data/ answered HTTP 200` });
    expect(await testConnection("web", { kind: "http", base_url: `${httpUrl}/gone` }, options())).toMatchObject({ ok: false, message: `http "web": ${httpUrl}/gone answered HTTP 404 Not Found` });
  });

  it("DuckDB: opens an existing file read-only; a file not created yet is fine; files: the root must exist", async () => {
    const file = path.join(dir, "wh.duckdb");
    const instance = await DuckDBInstance.create(file);
    const connection = await instance.connect();
    await connection.run("CREATE TABLE trips AS SELECT 1 AS id");
    connection.closeSync();
    instance.closeSync();
    expect(await testConnection("wh", { kind: "duckdb", path: "wh.duckdb" }, options())).toMatchObject({ ok: true, message: `duckdb "wh": opened ${file} (1 table)` });
    expect(await testConnection("wh", { kind: "duckdb" }, options())).toMatchObject({ ok: true, message: `duckdb "wh": ${path.join(dir, ".sluice", "warehouse.duckdb")} does not exist yet: the first write creates it` });
    expect(await testConnection("lake", { kind: "files", root: "missing" }, options())).toMatchObject({ ok: false, message: 'files "lake": the folder missing does not exist' });
  });
});
