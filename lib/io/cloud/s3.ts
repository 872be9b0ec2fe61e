import { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { statusOf } from "./cloud-errors";
import { ObjectStoreConnector } from "./object-connector";
import type { ObjectInfo, ObjectListing, ObjectStore } from "./object-store";

/**
 * An S3 connection profile. `endpoint` + `forcePathStyle` reach S3-compatible services (MinIO, R2, the
 * local s3rver in tests); static credentials come from the profile, otherwise the SDK's default chain
 * (env, shared config, instance role) applies. Secrets are never logged.
 */
export interface S3Profile {
  /** Profile name, for messages: `s3 "raw"`. */
  name?: string;
  region?: string;
  endpoint?: string;
  forcePathStyle?: boolean;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
}

/** Part size of multipart uploads for streams of unknown length (S3's minimum part is 5 MiB). */
const PART_SIZE = 8 * 1024 * 1024;

/** `ObjectStore` over `@aws-sdk/client-s3`. */
export class S3ObjectStore implements ObjectStore {
  readonly scheme = "s3" as const;

  constructor(readonly client: S3Client) {}

  async putStream(bucket: string, key: string, body: Readable, options: { size?: number; contentType?: string } = {}): Promise<void> {
    if (options.size !== undefined && options.size <= PART_SIZE) {
      await this.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: options.size, ContentType: options.contentType }));
      return;
    }
    await this.multipartUpload(bucket, key, body, options.contentType);
  }

  async getStream(bucket: string, key: string): Promise<Readable> {
    const response = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const body: unknown = response.Body;
    if (!(body instanceof Readable)) throw new Error(`GetObject returned no stream for s3://${bucket}/${key}`);
    return body;
  }

  async list(bucket: string, prefix: string, options: { delimiter?: string } = {}): Promise<ObjectListing> {
    const objects: ObjectInfo[] = [];
    const prefixes: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: options.delimiter, ContinuationToken: token }));
      for (const o of page.Contents ?? []) {
        if (o.Key !== undefined) objects.push({ key: o.Key, size: o.Size ?? 0, checksum: o.ETag, md5: etagMd5(o.ETag) });
      }
      for (const p of page.CommonPrefixes ?? []) if (p.Prefix !== undefined) prefixes.push(p.Prefix);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return { objects, prefixes };
  }

  /** S3 deletes are idempotent: deleting a missing key succeeds. */
  async delete(bucket: string, key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  }

  async bucketExists(bucket: string): Promise<boolean> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: bucket }));
      return true;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw error;
    }
  }

  /** Streams of unknown or large size go up in 8 MiB parts, never held whole; a failure aborts the upload. */
  private async multipartUpload(bucket: string, key: string, body: Readable, contentType?: string): Promise<void> {
    const created = await this.client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: contentType }));
    const uploadId = created.UploadId;
    if (!uploadId) throw new Error(`CreateMultipartUpload returned no UploadId for s3://${bucket}/${key}`);
    const parts: { ETag?: string; PartNumber: number }[] = [];
    try {
      const send = async (chunk: Buffer) => {
        const PartNumber = parts.length + 1;
        const part = await this.client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber, Body: chunk, ContentLength: chunk.length }));
        parts.push({ ETag: part.ETag, PartNumber });
      };
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      for await (const chunk of body) {
        const buffer = typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array);
        pending.push(buffer);
        pendingBytes += buffer.length;
        if (pendingBytes >= PART_SIZE) {
          const all = Buffer.concat(pending);
          await send(all.subarray(0, PART_SIZE));
          pending = [all.subarray(PART_SIZE)];
          pendingBytes = pending[0].length;
        }
      }
      if (pendingBytes > 0 || parts.length === 0) await send(Buffer.concat(pending));
      await this.client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
    } catch (error) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
      throw error;
    }
  }
}

/**
 * Amazon S3 and S3-compatible stores: the same operations as the GCS connector (upload/download streamed,
 * list, Parquet/CSV into Arrow, hive-partitioned Parquet datasets to `s3://bucket/prefix/`).
 */
export class S3Connector extends ObjectStoreConnector {
  /** The underlying client, for operations this connector does not wrap. */
  readonly client: S3Client;

  constructor(profile: S3Profile) {
    const config: S3ClientConfig = {
      region: profile.region ?? "us-east-1",
      forcePathStyle: profile.forcePathStyle ?? false,
      // Only send/verify checksums S3 requires: S3-compatible servers (s3rver, older MinIO) reject the
      // SDK's newer default of aws-chunked uploads with CRC trailers.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    };
    if (profile.endpoint) config.endpoint = profile.endpoint;
    if (profile.accessKeyId && profile.secretAccessKey) {
      config.credentials = { accessKeyId: profile.accessKeyId, secretAccessKey: profile.secretAccessKey, sessionToken: profile.sessionToken };
    }
    const client = new S3Client(config);
    super(`s3 "${profile.name ?? "default"}"`, new S3ObjectStore(client));
    this.client = client;
  }

  override async close(): Promise<void> {
    await super.close();
    this.client.destroy();
  }
}

/** The MD5 inside an ETag: only a single-part upload's ETag is the content's MD5 (a multipart one ends in `-<parts>`). */
function etagMd5(etag: string | undefined): string | undefined {
  const bare = etag?.replace(/^"|"$/g, "").toLowerCase();
  return bare !== undefined && /^[0-9a-f]{32}$/.test(bare) ? bare : undefined;
}
