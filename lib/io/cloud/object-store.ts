import type { Readable } from "node:stream";

/** One object as listed: key, size and the service's checksum or ETag, for logs and progress. */
export interface ObjectInfo {
  key: string;
  size: number;
  /** `md5Hash`/`crc32c` for GCS, the ETag for S3, when the service reports one. */
  checksum?: string;
  /** The content's MD5, hex, when the service knows it (GCS `md5Hash`; an S3 ETag of a single-part upload): comparable across services. */
  md5?: string;
  contentType?: string;
}

/** What `list` returns: objects, and the common prefixes when a delimiter was given. */
export interface ObjectListing {
  objects: ObjectInfo[];
  prefixes: string[];
}

/**
 * The few primitive operations a bucket offers. GCS and S3 each implement it with their official
 * client; everything Arrow-shaped (Parquet datasets, CSV, transfers) is written once on top of it, so
 * the two connectors cannot drift apart. Keys here are raw object keys inside `bucket`.
 */
export interface ObjectStore {
  /** `gs` or `s3`, for URIs in messages. */
  readonly scheme: "gs" | "s3";
  /** Uploads a readable stream (streamed, never buffered whole); `size` when known lets S3 send one request. */
  putStream(bucket: string, key: string, body: Readable, options?: { size?: number; contentType?: string }): Promise<void>;
  /** Opens an object for streaming download; rejects when the object or bucket is missing. */
  getStream(bucket: string, key: string): Promise<Readable>;
  /** Lists objects under `prefix`, following every page. */
  list(bucket: string, prefix: string, options?: { delimiter?: string }): Promise<ObjectListing>;
  /** Deletes one object (GCS reports a missing object as an error; S3 deletes are idempotent). */
  delete(bucket: string, key: string): Promise<void>;
  /** Whether the bucket exists and is reachable with the profile's credentials. */
  bucketExists(bucket: string): Promise<boolean>;
}
