/**
 * Block outputs mirrored under an object-store prefix (S3 or GCS), for workers on machines that share no
 * disk. The local output store stays the working copy — the runtime reads and writes
 * files — and this mirror makes every output reachable from any machine:
 *
 * - after an output is written locally, its data file and then its summary sidecar are uploaded (the
 *   sidecar marks an output complete, on the bucket as on disk, so it goes last);
 * - before a worker reads an upstream, or the server pages through a preview, a missing local copy is
 *   downloaded (sidecar first, to learn the format; then the data; each renamed into place), and stays as
 *   a cache.
 *
 * Layout: `<url>/<runId>/<block>.arrow|parquet` and `<url>/<runId>/<block>.summary.json`, the local layout.
 * The clients are the connectors' (`lib/io/cloud`), built by `lib/server/remote-output-connectors.ts`.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, unlink } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { UserError } from "../core/errors";
import type { ObjectListing } from "../io/cloud/object-store";
import { joinKey, parseObjectUri } from "../io/cloud/object-uri";
import type { OutputFormat } from "../core/output-types";

/** The connector operations the mirror needs (`ObjectStoreConnector` has them all). */
export interface ObjectFiles {
  uploadFile(localPath: string, uri: string, options?: { contentType?: string }): Promise<{ bytes: number }>;
  downloadFile(uri: string, localPath: string): Promise<{ bytes: number }>;
  list(uri: string): Promise<ObjectListing>;
  deleteObject(uri: string): Promise<void>;
  close(): Promise<void>;
}

/** Where an output's two files are on this machine. */
export interface LocalOutputFiles {
  data: string;
  sidecar: string;
}

const sidecarFormat = z.object({ format: z.enum(["arrow", "parquet"]) });

/** An output store's mirror under `s3://bucket/prefix` or `gs://bucket/prefix`. */
export class RemoteOutputStore {
  readonly scheme: "s3" | "gs";
  private readonly bucket: string;
  private readonly prefix: string;

  /**
   * @param url `s3://bucket/prefix` or `gs://bucket/prefix` (the prefix may be empty).
   * @param files the connector of that scheme; closed with this store.
   */
  constructor(
    readonly url: string,
    private readonly files: ObjectFiles,
  ) {
    this.scheme = schemeOf(url);
    const location = parseObjectUri(url, this.scheme, "SLUICE_OUTPUT_URL");
    this.bucket = location.bucket;
    this.prefix = location.key.replace(/\/+$/, "");
  }

  private uri(runId: string, file: string): string {
    return `${this.scheme}://${this.bucket}/${joinKey(this.prefix, `${runId}/${file}`)}`;
  }

  /** Uploads an output written locally: the data, then the sidecar that marks it complete. */
  async upload(runId: string, block: string, format: OutputFormat, local: LocalOutputFiles): Promise<void> {
    await this.files.uploadFile(local.data, this.uri(runId, `${block}.${format}`), { contentType: "application/octet-stream" });
    await this.files.uploadFile(local.sidecar, this.uri(runId, `${block}.summary.json`), { contentType: "application/json" });
  }

  /**
   * Downloads an output into `runDir` (this machine's `<outputsDir>/<runId>`); false when the bucket has
   * none. The data is renamed into place before the sidecar, so a local reader never sees half an output.
   */
  async download(runId: string, block: string, runDir: string): Promise<boolean> {
    await mkdir(runDir, { recursive: true });
    const sidecarTemp = tempBeside(path.join(runDir, `${block}.summary.json`));
    try {
      try {
        await this.files.downloadFile(this.uri(runId, `${block}.summary.json`), sidecarTemp);
      } catch (error) {
        if (isNotFound(error)) return false;
        throw error;
      }
      const parsed = sidecarFormat.safeParse(JSON.parse(await readFile(sidecarTemp, "utf8")));
      if (!parsed.success) throw new UserError("invalid_output_summary", `${this.uri(runId, `${block}.summary.json`)} is not an output summary`);
      const dataFile = path.join(runDir, `${block}.${parsed.data.format}`);
      const dataTemp = tempBeside(dataFile);
      try {
        await this.files.downloadFile(this.uri(runId, `${block}.${parsed.data.format}`), dataTemp);
        await rename(dataTemp, dataFile);
      } finally {
        await unlink(dataTemp).catch(() => undefined);
      }
      await rename(sidecarTemp, path.join(runDir, `${block}.summary.json`));
      return true;
    } finally {
      await unlink(sidecarTemp).catch(() => undefined);
    }
  }

  /** Deletes every object of a run (retention). */
  async deleteRun(runId: string): Promise<void> {
    const runPrefix = `${this.scheme}://${this.bucket}/${joinKey(this.prefix, `${runId}/`)}`;
    const { objects } = await this.files.list(runPrefix);
    for (const object of objects) await this.files.deleteObject(`${this.scheme}://${this.bucket}/${object.key}`);
  }

  async close(): Promise<void> {
    await this.files.close();
  }
}

/** The scheme of an output URL. @throws UserError `invalid_output_url` for anything but s3:// and gs://. */
export function schemeOf(url: string): "s3" | "gs" {
  if (url.startsWith("s3://")) return "s3";
  if (url.startsWith("gs://")) return "gs";
  throw new UserError("invalid_output_url", `SLUICE_OUTPUT_URL ${JSON.stringify(url)}: expected s3://bucket/prefix or gs://bucket/prefix`);
}

function isNotFound(error: unknown): boolean {
  return error instanceof UserError && error.code === "object_not_found";
}

function tempBeside(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString("hex")}.download`);
}
