import { S3Connector } from "../../lib/io/cloud/s3";
import { S3RVER_CREDENTIALS, startS3Server, type S3Server } from "../servers/s3-server";
import { describeObjectConnector, TAXI_PARQUET } from "./object-connector-suite";

// Real files through real clients and local servers: seconds each, minutes on a loaded CI machine.
jest.setTimeout(240_000);

let server: S3Server;
let s3: S3Connector;

beforeAll(async () => {
  server = await startS3Server(["lake"]);
  s3 = new S3Connector({ name: "test", endpoint: server.url, forcePathStyle: true, region: "us-east-1", ...S3RVER_CREDENTIALS });
});

afterAll(async () => {
  await s3?.close();
  await server?.close();
});

describe("S3 connector against s3rver", () => {
  describeObjectConnector({ scheme: "s3", bucket: "lake", description: 's3 "test"', connector: () => s3 });

  test("an unknown access key is refused with an error naming the connector and the object", async () => {
    const unknown = new S3Connector({ name: "unknown", endpoint: server.url, forcePathStyle: true, accessKeyId: "NOBODY", secretAccessKey: "x" });
    // The SDK also console.warns about the refused streaming upload; the assertion below is what matters.
    const warn = jest.spyOn(console, "warn").mockImplementation(() => undefined);
    try {
      await expect(unknown.uploadFile(TAXI_PARQUET, "s3://lake/denied.parquet")).rejects.toMatchObject({
        code: "access_denied",
        kind: "user",
        message: expect.stringContaining('s3 "unknown": cannot upload to s3://lake/denied.parquet: access denied'),
      });
      await expect(unknown.read("s3://lake/raw/green_tripdata_2024-01.parquet")).rejects.toThrow(
        's3 "unknown": cannot download s3://lake/raw/green_tripdata_2024-01.parquet: access denied',
      );
      await expect(unknown.read("s3://lake/lake/zones/")).rejects.toThrow(/s3 "unknown": cannot reach the bucket of s3:\/\/lake\/lake\/zones\/: access denied/);
    } finally {
      warn.mockRestore();
      await unknown.close();
    }
  });

  test("s3rver does not verify SigV4 signatures, so a wrong secret for a known key is NOT caught here (documented)", async () => {
    // If this starts failing, s3rver learned to check signatures: turn it into an access_denied assertion.
    const wrongSecret = new S3Connector({ name: "wrong", endpoint: server.url, forcePathStyle: true, accessKeyId: "S3RVER", secretAccessKey: "not-the-secret" });
    try {
      await expect(wrongSecret.list("s3://lake/raw/")).resolves.toMatchObject({ prefixes: [] });
    } finally {
      await wrongSecret.close();
    }
  });
});
