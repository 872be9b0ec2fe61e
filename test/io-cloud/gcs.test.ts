import { GcsConnector } from "../../lib/io/cloud/gcs";
import { startGcsServer, type GcsServer } from "../servers/gcs-server";
import { describeObjectConnector, TAXI_PARQUET } from "./object-connector-suite";

// Real files through real clients and local servers: seconds each, minutes on a loaded CI machine.
jest.setTimeout(240_000);

let server: GcsServer;
let gcs: GcsConnector;

beforeAll(async () => {
  server = await startGcsServer({ pageSize: 3 });
  gcs = new GcsConnector({ name: "test", projectId: "local-project", apiEndpoint: server.url });
  await gcs.storage.createBucket("lake");
});

afterAll(async () => {
  await gcs?.close();
  await server?.close();
});

describe("GCS connector against the local JSON API server", () => {
  describeObjectConnector({ scheme: "gs", bucket: "lake", description: 'gcs "test"', connector: () => gcs });

  test("the client took the documented routes: multipart and resumable uploads, alt=media downloads", () => {
    expect(server.requests.get("POST upload:multipart")).toBeGreaterThan(0);
    expect(server.requests.get("POST upload:resumable")).toBeGreaterThan(0);
    expect(server.requests.get("PUT upload:resumable")).toBeGreaterThan(0);
    expect(server.requests.get("GET media")).toBeGreaterThan(0);
    expect(server.readObject("lake", "raw/blob.bin")?.length).toBe(9 * 1024 * 1024 + 1024);
  });

  test("follows list pages and serves byte ranges", async () => {
    // Pages hold at most 3 entries here, so every listing above already followed nextPageToken.
    const [page, next] = await gcs.storage.bucket("lake").getFiles({ prefix: "listing/", autoPaginate: false });
    expect(page).toHaveLength(3);
    expect(next).toMatchObject({ pageToken: expect.any(String) });
    const [all] = await gcs.storage.bucket("lake").getFiles({ prefix: "listing/" });
    expect(all).toHaveLength(5);
    const [head] = await gcs.storage.bucket("lake").file("raw/green_tripdata_2024-01.parquet").download({ start: 0, end: 3 });
    expect(head.toString("latin1")).toBe("PAR1");
  });

  test("uploads are validated: the object JSON carries the crc32c and md5Hash the client checks", async () => {
    await gcs.uploadFile(TAXI_PARQUET, "gs://lake/check/file.parquet");
    const [metadata] = await gcs.storage.bucket("lake").file("check/file.parquet").getMetadata();
    expect(metadata.md5Hash).toBe("M/OvAJOkvqlVEvvQ338bhA==");
    expect(metadata.crc32c).toBe("DKB6OA==");
    expect(metadata.size).toBe("1362284");
  });
});
