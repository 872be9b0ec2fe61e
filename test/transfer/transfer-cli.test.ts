/**
 * The bucket transfer template through the real `sluice run`: 1,000 objects from the local S3 server to the
 * local GCS server by `ctx.io.transfer()`, byte for byte; a re-run copies nothing.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { GcsConnector } from "../../lib/io/cloud/gcs";
import { S3Connector } from "../../lib/io/cloud/s3";
import { REPO_ROOT } from "../taxi-data";
import { runSluice } from "../sluice-process";
import { writePipeline } from "../write-pipeline";
import { startGcsServer, type GcsServer } from "../servers/gcs-server";
import { S3RVER_CREDENTIALS, startS3Server, type S3Server } from "../servers/s3-server";

jest.setTimeout(300_000);

const COUNT = 1000;
const keyOf = (i: number) => `tlc/green/part-${String(i).padStart(4, "0")}.csv`;
const bodyOf = (i: number) => `id,value\n${i},${"x".repeat(i % 97)}\n`;
const md5 = (bytes: Uint8Array | string) => createHash("md5").update(bytes).digest("hex");

interface Summary {
  objects: number;
  bytes: number;
  skipped: number;
  kept: number;
}

describe("templates/transfer: S3 → GCS through sluice run", () => {
  let s3Server: S3Server;
  let gcsServer: GcsServer;
  let s3: S3Connector;
  let gcs: GcsConnector;
  let projectDir: string;

  beforeAll(async () => {
    s3Server = await startS3Server(["raw-trips"]);
    gcsServer = await startGcsServer();
    s3 = new S3Connector({ name: "raw", endpoint: s3Server.url, forcePathStyle: true, ...S3RVER_CREDENTIALS });
    gcs = new GcsConnector({ name: "lake", projectId: "local-project", apiEndpoint: gcsServer.url });
    await gcs.storage.createBucket("lake");
    for (let start = 0; start < COUNT; start += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, COUNT - start) }, async (_, j) => {
          const i = start + j;
          const body = Buffer.from(bodyOf(i));
          await s3.upload(Readable.from([body]), `s3://raw-trips/${keyOf(i)}`, { size: body.length });
        }),
      );
    }
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-transfer-cli-"));
    fs.writeFileSync(
      path.join(projectDir, "sluice.yaml"),
      `connections:
  raw: { kind: s3, endpoint: "${s3Server.url}", access_key_id: ${S3RVER_CREDENTIALS.accessKeyId}, secret_access_key: ${S3RVER_CREDENTIALS.secretAccessKey} }
  lake: { kind: gcs, project_id: local-project, api_endpoint: "${gcsServer.url}" }
`,
    );
    writePipeline(
      projectDir,
      "to_lake",
      `version: 1
name: to_lake
variables: { transfer_from: "s3://raw-trips/tlc/", transfer_to: "gs://lake/landing/" }
blocks:
  - { name: bucket_transfer_loader, type: loader, language: ts, upstream: [] }
`,
      { "bucket_transfer_loader.ts": fs.readFileSync(path.join(REPO_ROOT, "templates/transfer/bucket_transfer_loader.ts"), "utf8") },
    );
  });

  afterAll(async () => {
    await s3?.close();
    await gcs?.close();
    await s3Server?.close();
    await gcsServer?.close();
    fs.rmSync(projectDir, { recursive: true, force: true });
  });

  async function transfer(): Promise<Summary> {
    const result = await runSluice(projectDir, ["run", "to_lake", "--json"]);
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    const run = JSON.parse(result.stdout) as { run_id: string };
    // What the template reports in its log line (its one-row output holds the same numbers).
    const logDir = path.join(projectDir, ".sluice", "logs", run.run_id);
    const line = fs
      .readdirSync(logDir)
      .flatMap((file) => fs.readFileSync(path.join(logDir, file), "utf8").split("\n"))
      .find((l) => l.includes("copied "));
    const match = /copied (\d+) objects \((\d+) bytes\), skipped (\d+) already there(?:, kept (\d+))?/.exec(line ?? "");
    if (!match) throw new Error(`no summary in the block log: ${line}`);
    return { objects: Number(match[1]), bytes: Number(match[2]), skipped: Number(match[3]), kept: Number(match[4] ?? 0) };
  }

  test("1,000 objects copied byte for byte; a re-run copies nothing", async () => {
    const totalBytes = Array.from({ length: COUNT }, (_, i) => Buffer.byteLength(bodyOf(i))).reduce((a, b) => a + b, 0);
    expect(await transfer()).toEqual({ objects: COUNT, bytes: totalBytes, skipped: 0, kept: 0 });
    const landed = gcsServer.listObjects("lake", "landing/");
    expect(landed).toHaveLength(COUNT);
    for (const i of [0, 1, 499, 998, 999]) {
      expect(md5(gcsServer.readObject("lake", `landing/${keyOf(i).slice("tlc/".length)}`) ?? new Uint8Array())).toBe(md5(bodyOf(i)));
    }

    expect(await transfer()).toEqual({ objects: 0, bytes: 0, skipped: COUNT, kept: 0 });
    // A changed object alone being copied again (same size, other MD5) is tested in test/io-cloud/transfer.test.ts.
  });
});
