import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Storage, type StorageOptions } from "@google-cloud/storage";
import { ObjectStoreConnector } from "./object-connector";
import type { ObjectInfo, ObjectListing, ObjectStore } from "./object-store";

/**
 * A GCS connection profile (from `sluice.yaml` `connections:`). `apiEndpoint` points the client at another
 * host (the local test server, a private endpoint); with a custom endpoint the client sends no credentials
 *. Without `credentials`/`keyFilename`, Application Default Credentials apply.
 */
export interface GcsProfile {
  /** Profile name, for messages: `gcs "lake"`. */
  name?: string;
  /** Needed to create buckets; other calls name the bucket. Default: detected from the credentials. */
  projectId?: string;
  apiEndpoint?: string;
  /** Service-account key fields. Never logged. */
  credentials?: { client_email: string; private_key: string };
  keyFilename?: string;
}

/** Objects at or above this size (or of unknown size) use a resumable upload session; smaller ones one multipart request. */
const RESUMABLE_THRESHOLD = 8 * 1024 * 1024;

/** `ObjectStore` over `@google-cloud/storage@7` (v7 because 8.x needs Node 22; `apiEndpoint` because STORAGE_EMULATOR_HOST's paths do not line up with a local server). */
export class GcsObjectStore implements ObjectStore {
  readonly scheme = "gs" as const;

  constructor(readonly storage: Storage) {}

  async putStream(bucket: string, key: string, body: Readable, options: { size?: number; contentType?: string } = {}): Promise<void> {
    const resumable = options.size === undefined || options.size >= RESUMABLE_THRESHOLD;
    const sink = this.storage.bucket(bucket).file(key).createWriteStream({ resumable, contentType: options.contentType, validation: "crc32c" });
    await pipeline(body, sink);
  }

  async getStream(bucket: string, key: string): Promise<Readable> {
    return this.storage.bucket(bucket).file(key).createReadStream({ validation: "crc32c" });
  }

  async list(bucket: string, prefix: string, options: { delimiter?: string } = {}): Promise<ObjectListing> {
    const objects: ObjectInfo[] = [];
    const prefixes: string[] = [];
    let pageToken: string | undefined;
    do {
      const [files, , response] = await this.storage.bucket(bucket).getFiles({ prefix, delimiter: options.delimiter, autoPaginate: false, pageToken });
      for (const file of files) {
        const meta = file.metadata;
        objects.push({
          key: file.name,
          size: Number(meta.size ?? 0),
          checksum: meta.crc32c ?? meta.md5Hash,
          md5: meta.md5Hash ? Buffer.from(meta.md5Hash, "base64").toString("hex") : undefined,
          contentType: meta.contentType,
        });
      }
      const page = pageFields(response);
      prefixes.push(...page.prefixes);
      pageToken = page.nextPageToken;
    } while (pageToken);
    return { objects, prefixes };
  }

  async delete(bucket: string, key: string): Promise<void> {
    await this.storage.bucket(bucket).file(key).delete();
  }

  async bucketExists(bucket: string): Promise<boolean> {
    const [exists] = await this.storage.bucket(bucket).exists();
    return exists;
  }
}

/**
 * Google Cloud Storage: upload/download objects (streamed), list, read Parquet/CSV objects into Arrow,
 * write an Arrow table as a hive-partitioned Parquet dataset to `gs://bucket/prefix/`.
 */
export class GcsConnector extends ObjectStoreConnector {
  /** The underlying client, for operations this connector does not wrap. */
  readonly storage: Storage;

  constructor(profile: GcsProfile) {
    const options: StorageOptions = { projectId: profile.projectId };
    if (profile.apiEndpoint) options.apiEndpoint = profile.apiEndpoint;
    if (profile.credentials) options.credentials = profile.credentials;
    if (profile.keyFilename) options.keyFilename = profile.keyFilename;
    const storage = new Storage(options);
    super(`gcs "${profile.name ?? "default"}"`, new GcsObjectStore(storage));
    this.storage = storage;
  }
}

/** `prefixes` and `nextPageToken` from a list response, checked rather than cast. */
function pageFields(response: unknown): { prefixes: string[]; nextPageToken?: string } {
  if (typeof response !== "object" || response === null) return { prefixes: [] };
  const record = response as Record<string, unknown>;
  const prefixes = Array.isArray(record.prefixes) ? record.prefixes.filter((p): p is string => typeof p === "string") : [];
  const nextPageToken = typeof record.nextPageToken === "string" && record.nextPageToken !== "" ? record.nextPageToken : undefined;
  return { prefixes, nextPageToken };
}
