import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { RecordBatch, Table } from "apache-arrow";
import { messageOf, UserError } from "../../core/errors";
import type { ArrowConnector, IoOptions, WriteOptions, WriteResult } from "../types";
import { cloudError } from "./cloud-errors";
import { LocalArrowWorkspace, type CsvReadOptions, type DatasetReadOptions } from "./local-arrow";
import type { ObjectListing, ObjectStore } from "./object-store";
import { formatObjectUri, joinKey, parseObjectUri, type ObjectLocation } from "./object-uri";

/** How to interpret what a URI points at. */
export type ObjectFormat = "parquet" | "csv" | "dataset";

/**
 * What to read: a URI alone (`gs://b/trips.parquet`, `s3://b/green.csv.gz`, `gs://b/lake/trips/` for a
 * dataset, i.e. every Parquet object under the prefix) or the URI with an explicit format and options.
 */
export type ObjectReadTarget = string | { uri: string; format?: ObjectFormat; csv?: CsvReadOptions; dataset?: DatasetReadOptions };

/**
 * The Arrow side of a bucket connector, written once over the `ObjectStore` primitives so GCS and S3
 * behave the same: objects move as streams through a temp directory, Parquet and CSV become Arrow
 * tables, and `write` lays an Arrow table out as a (hive-partitioned) Parquet dataset under a prefix.
 */
export class ObjectStoreConnector implements ArrowConnector<ObjectReadTarget, string> {
  private readonly workspace = new LocalArrowWorkspace();

  constructor(
    /** `gcs "lake"`, `s3 "raw"`: the kind and profile name, used in every error message. */
    readonly description: string,
    protected readonly store: ObjectStore,
  ) {}

  /** `gs` or `s3`: the URI scheme this connector accepts. */
  get scheme(): "gs" | "s3" {
    return this.store.scheme;
  }

  /** Parses a URI of this connector's scheme (`gs://` or `s3://`). */
  location(uri: string): ObjectLocation {
    return parseObjectUri(uri, this.store.scheme, this.description);
  }

  /** Uploads a local file, streamed, reporting bytes of total. */
  async uploadFile(localPath: string, uri: string, options: IoOptions & { contentType?: string } = {}): Promise<{ bytes: number }> {
    const { size } = await stat(localPath);
    await this.upload(createReadStream(localPath), uri, { ...options, size });
    return { bytes: size };
  }

  /** Uploads a readable stream (streamed; `size` when known). */
  async upload(body: Readable, uri: string, options: IoOptions & { size?: number; contentType?: string } = {}): Promise<void> {
    const { bucket, key } = this.location(uri);
    if (key === "" || key.endsWith("/")) throw new UserError("bad_object_uri", `${this.description}: "${uri}" names a prefix, not an object`);
    const counted = countBytes(body, options);
    try {
      await this.store.putStream(bucket, key, counted, { size: options.size, contentType: options.contentType });
    } catch (error) {
      throw cloudError(this.description, "upload to", uri, error);
    }
  }

  /** Opens an object for reading as a stream; errors name the connector and the object. */
  async openReadStream(uri: string): Promise<Readable> {
    const { bucket, key } = this.location(uri);
    try {
      return await this.store.getStream(bucket, key);
    } catch (error) {
      throw cloudError(this.description, "read", uri, error);
    }
  }

  /** Downloads an object to a local file, streamed, with progress; returns the bytes written. */
  async downloadFile(uri: string, localPath: string, options: IoOptions = {}): Promise<{ bytes: number }> {
    const { bucket, key } = this.location(uri);
    await mkdir(dirname(localPath), { recursive: true });
    let bytes = 0;
    try {
      const source = await this.store.getStream(bucket, key);
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          bytes += chunk.length;
          options.onProgress?.({ bytes, message: uri });
          callback(null, chunk);
        },
      });
      await pipeline(source, counter, createWriteStream(localPath), { signal: options.signal });
    } catch (error) {
      throw cloudError(this.description, "download", uri, error);
    }
    return { bytes };
  }

  /** Lists objects under a URI prefix (all pages); `key`s are raw object keys inside the bucket. */
  async list(uri: string, options: { delimiter?: string } = {}): Promise<ObjectListing> {
    const { bucket, key } = this.location(uri);
    try {
      return await this.store.list(bucket, key, options);
    } catch (error) {
      throw cloudError(this.description, "list", uri, error);
    }
  }

  /** Deletes one object. */
  async deleteObject(uri: string): Promise<void> {
    const { bucket, key } = this.location(uri);
    try {
      await this.store.delete(bucket, key);
    } catch (error) {
      throw cloudError(this.description, "delete", uri, error);
    }
  }

  /** Reads a Parquet object, a CSV(.gz) object or a Parquet dataset (a prefix ending in `/`) into Arrow. */
  async read(target: ObjectReadTarget, options: IoOptions = {}): Promise<Table> {
    const spec = typeof target === "string" ? { uri: target } : target;
    const format = spec.format ?? inferFormat(spec.uri, this.description);
    const dir = await this.workspace.makeTempDir("read");
    try {
      if (format === "dataset") {
        const { bucket, key } = this.location(spec.uri);
        const prefix = key === "" || key.endsWith("/") ? key : `${key}/`;
        await this.requireBucket(bucket, spec.uri);
        const listing = await this.list(formatObjectUri(this.store.scheme, { bucket, key: prefix }));
        const parquet = listing.objects.filter((o) => o.key.endsWith(".parquet"));
        if (parquet.length === 0) throw new UserError("object_not_found", `${this.description}: no Parquet objects under ${spec.uri}`);
        const totalBytes = parquet.reduce((sum, o) => sum + o.size, 0);
        let done = 0;
        for (const object of parquet) {
          options.signal?.throwIfAborted();
          const objectUri = formatObjectUri(this.store.scheme, { bucket, key: object.key });
          const { bytes } = await this.downloadFile(objectUri, join(dir, object.key.slice(prefix.length)), { signal: options.signal });
          done += bytes;
          options.onProgress?.({ bytes: done, totalBytes, message: objectUri });
        }
        return await this.decode(spec.uri, () => this.workspace.readParquetDataset(dir, spec.dataset));
      }
      const { key } = this.location(spec.uri);
      const local = join(dir, key.split("/").pop() || "object");
      await this.downloadFile(spec.uri, local, options);
      if (format === "parquet") return await this.decode(spec.uri, () => this.workspace.readParquet(local, `${this.description}: ${spec.uri}`));
      return await this.decode(spec.uri, () => this.workspace.readCsv(local, spec.csv, `${this.description}: ${spec.uri}`));
    } finally {
      await this.workspace.removeTempDir(dir);
    }
  }

  /**
   * Writes Arrow as a Parquet dataset under the URI prefix: one file, or `col=value/` directories with
   * `options.partitionBy`. Modes: `replace` (default; new files are uploaded first, then the prefix's
   * older objects are deleted, so a failed upload leaves the old dataset readable), `append` (new
   * uniquely named files beside the old ones), `fail` (refuse when anything exists under the prefix).
   * With `partitionOverwrite: "partitions"`, `replace` deletes older objects only in the partitions written.
   */
  async write(data: Table | AsyncIterable<RecordBatch>, uri: string, options: WriteOptions = {}): Promise<WriteResult> {
    const { bucket, key } = this.location(uri);
    const prefix = key === "" || key.endsWith("/") ? key : `${key}/`;
    const mode = options.mode ?? "replace";
    const overwritePartitions = options.partitionOverwrite === "partitions";
    if (overwritePartitions && (mode !== "replace" || (options.partitionBy ?? []).length === 0)) {
      throw new UserError("invalid_option", `${this.description}: ${uri}: partitionOverwrite "partitions" needs mode replace and partitionBy`);
    }
    await this.requireBucket(bucket, uri);
    const existing = (await this.list(formatObjectUri(this.store.scheme, { bucket, key: prefix }))).objects;
    if (mode === "fail" && existing.length > 0) {
      throw new UserError("destination_exists", `${this.description}: ${uri} already exists (${existing.length} object(s)) and the write mode is "fail"`);
    }
    const dir = await this.workspace.makeTempDir("write");
    try {
      const { rows, files } = await this.workspace.writeParquetDataset(data, dir, options.partitionBy ?? []).catch((error: unknown) => {
        throw error instanceof UserError ? error : new UserError("write_failed", `${this.description}: cannot write ${uri} as Parquet: ${messageOf(error)}`, {}, { cause: error });
      });
      const sizes = await Promise.all(files.map(async (f) => (await stat(join(dir, f))).size));
      const totalBytes = sizes.reduce((a, b) => a + b, 0);
      let bytes = 0;
      const written = new Set<string>();
      for (let i = 0; i < files.length; i++) {
        options.signal?.throwIfAborted();
        const objectKey = joinKey(prefix, files[i]);
        await this.uploadFile(join(dir, files[i]), formatObjectUri(this.store.scheme, { bucket, key: objectKey }), { contentType: "application/vnd.apache.parquet" });
        written.add(objectKey);
        bytes += sizes[i];
        options.onProgress?.({ rows, bytes, totalBytes, message: objectKey });
      }
      if (mode === "replace") {
        // Partition overwrite keeps every partition this data has no rows for (another run's dates).
        const replaced = overwritePartitions ? new Set([...written].map(folderOf)) : null;
        for (const old of existing) {
          if (written.has(old.key) || (replaced !== null && !replaced.has(folderOf(old.key)))) continue;
          await this.deleteObject(formatObjectUri(this.store.scheme, { bucket, key: old.key }));
        }
      }
      return { rows, location: formatObjectUri(this.store.scheme, { bucket, key: prefix }) };
    } finally {
      await this.workspace.removeTempDir(dir);
    }
  }

  /** Closes the scratch DuckDB database. */
  async close(): Promise<void> {
    await this.workspace.close();
  }

  /** Fails with a clear message when the bucket is missing (instead of an empty listing or a bare 404). */
  protected async requireBucket(bucket: string, uri: string): Promise<void> {
    let exists: boolean;
    try {
      exists = await this.store.bucketExists(bucket);
    } catch (error) {
      throw cloudError(this.description, "reach the bucket of", uri, error);
    }
    if (!exists) throw new UserError("bucket_not_found", `${this.description}: bucket "${bucket}" does not exist (for ${uri})`);
  }

  private async decode(uri: string, work: () => Promise<Table>): Promise<Table> {
    try {
      return await work();
    } catch (error) {
      // A damaged file or a bad row already names the object and the line.
      if (error instanceof UserError) throw error;
      throw new UserError("decode_failed", `${this.description}: cannot read ${uri} into Arrow: ${messageOf(error)}`, {}, { cause: error });
    }
  }
}

/** The `…/col=value/` folder of an object key (up to its last `/`). */
function folderOf(key: string): string {
  return key.slice(0, key.lastIndexOf("/") + 1);
}

/** Format from the URI: a trailing `/` is a dataset; `.parquet`; `.csv`, `.csv.gz`, `.tsv(.gz)`, `.txt`. */
function inferFormat(uri: string, connector: string): ObjectFormat {
  const lower = uri.toLowerCase();
  if (lower.endsWith("/")) return "dataset";
  if (lower.endsWith(".parquet")) return "parquet";
  if (/\.(csv|tsv|txt)(\.gz|\.zst)?$/.test(lower)) return "csv";
  throw new UserError("unknown_format", `${connector}: cannot tell the format of ${uri}; end a dataset prefix with "/" or pass { format: "parquet" | "csv" | "dataset" }`);
}

/** Passes a stream through, reporting bytes of total. */
function countBytes(body: Readable, options: IoOptions & { size?: number }): Readable {
  if (!options.onProgress) return body;
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      options.onProgress?.({ bytes, totalBytes: options.size });
      callback(null, chunk);
    },
  });
  body.on("error", (error) => counter.destroy(error));
  return body.pipe(counter);
}
