import { OperationalError, UserError, messageOf } from "../../core/errors";
import type { IoOptions } from "../types";
import type { GcsConnector } from "./gcs";
import type { ObjectStoreConnector } from "./object-connector";
import type { ObjectInfo } from "./object-store";
import { formatObjectUri, joinKey } from "./object-uri";
import type { S3Connector } from "./s3";

/** Options of a bucket-to-bucket copy. */
export interface TransferOptions extends IoOptions {
  /** Copy only the keys (relative to the source prefix) this accepts, e.g. `(k) => k.endsWith(".parquet")`. */
  include?: (relativeKey: string) => boolean;
  /**
   * What to do with an object that exists at the destination but differs (size or checksum): `true`
   * (default) replaces it, `false` keeps it (counted as `kept`). An identical object is never copied again.
   */
  overwrite?: boolean;
  /** Objects copied at once (default 16): many small objects are bound by round trips, not bandwidth. */
  concurrency?: number;
  /** Retries of one object's copy after a network or service error (default 3, 500 ms apart and doubling). */
  retries?: number;
  /** The wait before the first retry (default 500 ms). */
  retryDelayMs?: number;
}

/** What a transfer did. */
export interface TransferResult {
  /** Objects copied. */
  objects: number;
  bytes: number;
  /** Objects left out because the destination already had them, identical. */
  skipped: number;
  skippedBytes: number;
  /** Of `skipped`: compared by size alone, because one side reported no MD5 (an S3 multipart ETag, for one). */
  unverified: number;
  /** Objects that differed at the destination and were left as they were (`overwrite: false`). */
  kept: number;
  /** Copies that failed once or more before they succeeded. */
  retried: number;
  /** Every copied object: source and destination URIs, bytes. */
  copied: { source: string; target: string; bytes: number }[];
}

type Verdict = "copy" | "identical" | "identical_by_size" | "keep";

/** Whether the destination's object makes a copy needless: same size, and same MD5 where both sides know it. */
function compare(source: ObjectInfo, target: ObjectInfo | undefined, overwrite: boolean): Verdict {
  if (target === undefined) return "copy";
  if (target.size === source.size) {
    if (source.md5 !== undefined && target.md5 !== undefined) {
      if (source.md5 === target.md5) return "identical";
    } else {
      return "identical_by_size";
    }
  }
  return overwrite ? "copy" : "keep";
}

/**
 * Copies every object under a source prefix to a destination prefix, keeping the key below the prefix: the
 * job GCP's Storage Transfer Service does in the Zoomcamp (S3 → GCS), done here with the two connectors'
 * clients. Each object is one stream (download piped into upload, never whole in memory or on disk); a few
 * run at once. An object already at the destination with the same size and MD5 is skipped, so a re-run
 * copies only what is new or changed. A copy that fails with a network or service error is retried; one
 * that fails for good stops the transfer (what was copied stays, and a re-run resumes). Progress reports
 * bytes of total and objects done; an abort signal stops between and within objects.
 */
export async function transferObjects(
  source: ObjectStoreConnector,
  sourceUri: string,
  target: ObjectStoreConnector,
  targetUri: string,
  options: TransferOptions = {},
): Promise<TransferResult> {
  const from = source.location(sourceUri);
  const to = target.location(targetUri);
  const listing = await source.list(sourceUri);
  if (listing.objects.length === 0) {
    throw new UserError("object_not_found", `transfer ${source.description} → ${target.description}: nothing under ${sourceUri}`);
  }
  const wanted = listing.objects.filter((o) => !o.key.endsWith("/") && (options.include?.(o.key.slice(from.key.length)) ?? true));
  const existing = new Map((await target.list(targetUri)).objects.map((o) => [o.key, o]));
  const totalBytes = wanted.reduce((sum, o) => sum + o.size, 0);
  const result: TransferResult = { objects: 0, bytes: 0, skipped: 0, skippedBytes: 0, unverified: 0, kept: 0, retried: 0, copied: [] };
  const inFlight = new Map<string, number>();
  let doneBytes = 0;
  let done = 0;
  const report = (message: string): void => {
    let flying = 0;
    for (const bytes of inFlight.values()) flying += bytes;
    options.onProgress?.({ bytes: doneBytes + flying, totalBytes, message: `${done}/${wanted.length} objects; ${message}` });
  };

  const copyOne = async (object: ObjectInfo): Promise<void> => {
    const relative = object.key.slice(from.key.length).replace(/^\/+/, "");
    const key = joinKey(to.key, relative);
    const sourceObject = formatObjectUri(source.scheme, { bucket: from.bucket, key: object.key });
    const targetObject = formatObjectUri(target.scheme, { bucket: to.bucket, key });
    const verdict = compare(object, existing.get(key), options.overwrite ?? true);
    if (verdict !== "copy") {
      if (verdict === "keep") result.kept++;
      else {
        result.skipped++;
        result.skippedBytes += object.size;
        if (verdict === "identical_by_size") result.unverified++;
      }
      done++;
      doneBytes += object.size;
      report(verdict === "keep" ? `kept ${targetObject} (differs; overwrite: false)` : `skipped ${targetObject} (already there)`);
      return;
    }
    const retries = options.retries ?? 3;
    for (let attempt = 0; ; attempt++) {
      options.signal?.throwIfAborted();
      const stream = await source.openReadStream(sourceObject);
      try {
        await target.upload(stream, targetObject, {
          size: object.size,
          contentType: object.contentType,
          signal: options.signal,
          onProgress: (p) => {
            inFlight.set(key, p.bytes ?? 0);
            report(targetObject);
          },
        });
        break;
      } catch (error) {
        inFlight.delete(key);
        // A user error (no such bucket, access denied) or a cancel will not go away by trying again.
        if (attempt >= retries || error instanceof UserError || options.signal?.aborted) throw error;
        if (attempt === 0) result.retried++;
        await new Promise((resolve) => setTimeout(resolve, (options.retryDelayMs ?? 500) * 2 ** attempt));
      } finally {
        // A failed upload must not leave the source download (and its socket) open.
        stream.destroy();
      }
    }
    inFlight.delete(key);
    done++;
    doneBytes += object.size;
    result.objects++;
    result.bytes += object.size;
    result.copied.push({ source: sourceObject, target: targetObject, bytes: object.size });
    report(targetObject);
  };

  // A small pool over the listing, in key order; the first failure stops the others from taking more.
  let next = 0;
  let failure: unknown = null;
  const worker = async (): Promise<void> => {
    while (failure === null && next < wanted.length) {
      const object = wanted[next++];
      try {
        await copyOne(object);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  const concurrency = Math.max(1, Math.min(options.concurrency ?? 16, wanted.length || 1));
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (failure !== null) {
    if (failure instanceof UserError || options.signal?.aborted) throw failure;
    throw new OperationalError(
      "transfer_failed",
      `transfer ${source.description} → ${target.description}: ${messageOf(failure)} (after ${result.objects} of ${wanted.length} objects; a re-run copies only what is missing)`,
      {},
      { cause: failure },
    );
  }
  result.copied.sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
  return result;
}

/** S3 → GCS, the Storage Transfer Service's role in the Zoomcamp: `transferObjects` with the two connectors typed. */
export function transferS3ToGcs(source: S3Connector, sourceUri: string, target: GcsConnector, targetUri: string, options: TransferOptions = {}): Promise<TransferResult> {
  return transferObjects(source, sourceUri, target, targetUri, options);
}
