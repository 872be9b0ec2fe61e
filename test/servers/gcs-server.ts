import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { crc32cBase64 } from "../../lib/io/cloud/crc32c";
import { close, listen, parseMultipartRelated, readBody, sendGoogleError, sendJson } from "./http-util";
import { messageOf } from "../../lib/core/errors";

/**
 * A local stand-in for Google Cloud Storage's JSON API, just wide enough for `@google-cloud/storage@7`
 * configured with `apiEndpoint` (no GCS emulator installs offline and STORAGE_EMULATOR_HOST's paths
 * do not line up). Objects live in memory. Routes:
 *
 * - `GET|DELETE /storage/v1/b/:bucket`, `POST /storage/v1/b?project=` (bucket get, delete, create)
 * - `GET /storage/v1/b/:bucket/o?prefix=&delimiter=&pageToken=&maxResults=` (list)
 * - `GET /storage/v1/b/:bucket/o/:object` (metadata JSON with `crc32c`/`md5Hash`), `?alt=media` (bytes, `Range`,
 *   `x-goog-hash` which the client validates downloads against), `DELETE` the same path
 * - `POST /upload/storage/v1/b/:bucket/o?uploadType=multipart|media|resumable`, then `PUT` chunks of a resumable
 *   session with `Content-Range` (`bytes a-b/total`, `bytes a-*\/*`, `bytes *\/*` status checks; 308 + `Range` until done)
 *
 * Not modelled: IAM, ACLs, generations beyond a counter, preconditions, compose/rewrite, signed URLs, gzip transcoding.
 */
export interface GcsServer {
  /** `http://127.0.0.1:<port>`: pass as the client's `apiEndpoint`. */
  readonly url: string;
  /** Reads an object directly (the local BigQuery server loads `gs://` URIs through this). */
  readObject(bucket: string, name: string): Buffer | undefined;
  /** Object names in a bucket under a prefix, for tests and for wildcard URIs. */
  listObjects(bucket: string, prefix: string): string[];
  /** Creates a bucket (tests set up fixtures without the client). */
  createBucket(name: string): void;
  /** Number of HTTP requests served per `METHOD route-kind`, so tests can assert the client took a given path. */
  readonly requests: Map<string, number>;
  close(): Promise<void>;
}

interface StoredObject {
  data: Buffer;
  metadata: Record<string, unknown>;
}

interface Bucket {
  name: string;
  created: string;
  objects: Map<string, StoredObject>;
}

interface ResumableSession {
  bucket: string;
  name: string;
  metadata: Record<string, unknown>;
  chunks: Buffer[];
  received: number;
}

const PAGE_SIZE_DEFAULT = 1000;

/** Starts the server on an OS-chosen port; `pageSize` caps list pages (default 1000, as GCS) so tests can force paging. */
export async function startGcsServer(options: { pageSize?: number } = {}): Promise<GcsServer> {
  const buckets = new Map<string, Bucket>();
  const sessions = new Map<string, ResumableSession>();
  const requests = new Map<string, number>();
  let generation = 1;
  let baseUrl = "";

  const bucketJson = (b: Bucket) => ({
    kind: "storage#bucket",
    id: b.name,
    name: b.name,
    projectNumber: "0",
    location: "US",
    storageClass: "STANDARD",
    timeCreated: b.created,
    updated: b.created,
    metageneration: "1",
    etag: "CAE=",
  });

  const store = (bucket: Bucket, name: string, data: Buffer, metadata: Record<string, unknown>): Record<string, unknown> => {
    const now = new Date().toISOString();
    const gen = String(generation++);
    const meta: Record<string, unknown> = {
      kind: "storage#object",
      id: `${bucket.name}/${name}/${gen}`,
      selfLink: `${baseUrl}/storage/v1/b/${bucket.name}/o/${encodeURIComponent(name)}`,
      mediaLink: `${baseUrl}/download/storage/v1/b/${bucket.name}/o/${encodeURIComponent(name)}?generation=${gen}&alt=media`,
      name,
      bucket: bucket.name,
      generation: gen,
      metageneration: "1",
      contentType: typeof metadata.contentType === "string" ? metadata.contentType : "application/octet-stream",
      storageClass: "STANDARD",
      size: String(data.length),
      md5Hash: createHash("md5").update(data).digest("base64"),
      crc32c: crc32cBase64(data),
      etag: createHash("md5").update(gen).digest("base64"),
      timeCreated: now,
      updated: now,
      timeStorageClassUpdated: now,
    };
    if (metadata.metadata && typeof metadata.metadata === "object") meta.metadata = metadata.metadata;
    bucket.objects.set(name, { data, metadata: meta });
    return meta;
  };

  const count = (key: string) => requests.set(key, (requests.get(key) ?? 0) + 1);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const method = req.method ?? "GET";
    const path = url.pathname.replace(/\/+$/, "");
    const q = url.searchParams;
    let m: RegExpExecArray | null;

    // Uploads.
    if ((m = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(path))) {
      const bucket = buckets.get(decodeURIComponent(m[1]));
      const uploadType = q.get("uploadType");
      count(`${method} upload:${uploadType ?? "?"}`);
      if (method === "PUT" && q.get("upload_id")) return resumableChunk(req, res, q.get("upload_id") ?? "");
      if (method !== "POST") return sendGoogleError(res, 405, "methodNotAllowed", `${method} not allowed on ${path}`);
      if (!bucket) return sendGoogleError(res, 404, "notFound", `The specified bucket does not exist: ${decodeURIComponent(m[1])}`);
      const body = await readBody(req);
      if (uploadType === "multipart") {
        const parts = parseMultipartRelated(req.headers["content-type"], body);
        if (parts.length < 2) return sendGoogleError(res, 400, "invalid", "multipart upload needs a metadata part and a media part");
        const metadata = JSON.parse(parts[0].body.toString("utf8")) as Record<string, unknown>;
        const name = q.get("name") ?? (typeof metadata.name === "string" ? metadata.name : "");
        if (!name) return sendGoogleError(res, 400, "required", "Required: object name");
        if (!metadata.contentType && parts[1].headers["content-type"]) metadata.contentType = parts[1].headers["content-type"];
        return sendJson(res, 200, store(bucket, name, parts[1].body, metadata));
      }
      if (uploadType === "media") {
        const name = q.get("name") ?? "";
        if (!name) return sendGoogleError(res, 400, "required", "Required: object name");
        return sendJson(res, 200, store(bucket, name, body, { contentType: req.headers["content-type"] }));
      }
      if (uploadType === "resumable") {
        const metadata = body.length > 0 ? (JSON.parse(body.toString("utf8")) as Record<string, unknown>) : {};
        const name = q.get("name") ?? (typeof metadata.name === "string" ? metadata.name : "");
        if (!name) return sendGoogleError(res, 400, "required", "Required: object name");
        const uploadContentType = req.headers["x-upload-content-type"];
        if (!metadata.contentType && typeof uploadContentType === "string") metadata.contentType = uploadContentType;
        const id = randomUUID();
        sessions.set(id, { bucket: bucket.name, name, metadata, chunks: [], received: 0 });
        const location = `${baseUrl}/upload/storage/v1/b/${encodeURIComponent(bucket.name)}/o?uploadType=resumable&name=${encodeURIComponent(name)}&upload_id=${id}`;
        res.writeHead(200, { location, "content-length": 0 });
        res.end();
        return;
      }
      return sendGoogleError(res, 400, "invalid", `unsupported uploadType ${uploadType ?? "(none)"}`);
    }

    // Buckets.
    if (path === "/storage/v1/b" && method === "POST") {
      count("POST bucket");
      const body = JSON.parse((await readBody(req)).toString("utf8")) as { name?: string };
      if (!body.name) return sendGoogleError(res, 400, "required", "Required: bucket name");
      if (buckets.has(body.name)) return sendGoogleError(res, 409, "conflict", `The bucket ${body.name} already exists.`);
      const bucket: Bucket = { name: body.name, created: new Date().toISOString(), objects: new Map() };
      buckets.set(body.name, bucket);
      return sendJson(res, 200, bucketJson(bucket));
    }
    if ((m = /^\/storage\/v1\/b\/([^/]+)$/.exec(path))) {
      count(`${method} bucket`);
      const name = decodeURIComponent(m[1]);
      const bucket = buckets.get(name);
      if (!bucket) return sendGoogleError(res, 404, "notFound", `The specified bucket does not exist: ${name}`);
      if (method === "GET") return sendJson(res, 200, bucketJson(bucket));
      if (method === "DELETE") {
        if (bucket.objects.size > 0) return sendGoogleError(res, 409, "conflict", `The bucket ${name} you tried to delete is not empty.`);
        buckets.delete(name);
        res.writeHead(204).end();
        return;
      }
    }

    // Objects.
    if ((m = /^\/(?:download\/)?storage\/v1\/b\/([^/]+)\/o(?:\/(.+))?$/.exec(path))) {
      const bucketName = decodeURIComponent(m[1]);
      const bucket = buckets.get(bucketName);
      if (!bucket) {
        count(`${method} object`);
        return sendGoogleError(res, 404, "notFound", `The specified bucket does not exist: ${bucketName}`);
      }
      if (m[2] === undefined) {
        count(`${method} list`);
        if (method !== "GET") return sendGoogleError(res, 405, "methodNotAllowed", `${method} not allowed on ${path}`);
        return list(res, bucket, q);
      }
      const name = decodeURIComponent(m[2]);
      const object = bucket.objects.get(name);
      if (method === "GET" && q.get("alt") === "media") {
        count("GET media");
        if (!object) return sendGoogleError(res, 404, "notFound", `No such object: ${bucketName}/${name}`);
        return media(req, res, object);
      }
      count(`${method} object`);
      if (!object) return sendGoogleError(res, 404, "notFound", `No such object: ${bucketName}/${name}`);
      if (method === "GET") return sendJson(res, 200, object.metadata);
      if (method === "DELETE") {
        bucket.objects.delete(name);
        res.writeHead(204).end();
        return;
      }
    }
    count(`${method} unknown`);
    sendGoogleError(res, 404, "notFound", `The local GCS server does not implement ${method} ${url.pathname}`);
  };

  const list = (res: ServerResponse, bucket: Bucket, q: URLSearchParams): void => {
    const prefix = q.get("prefix") ?? "";
    const delimiter = q.get("delimiter") ?? "";
    const pageSize = options.pageSize ?? PAGE_SIZE_DEFAULT;
    const maxResults = Math.min(pageSize, Math.max(1, Number(q.get("maxResults") ?? pageSize) || pageSize));
    const start = q.get("pageToken") ? Buffer.from(q.get("pageToken") ?? "", "base64url").toString("utf8") : "";
    const names = [...bucket.objects.keys()].filter((n) => n.startsWith(prefix) && n > start).sort();
    const items: Record<string, unknown>[] = [];
    const prefixes = new Set<string>();
    let last = "";
    let truncated = false;
    for (const name of names) {
      if (items.length + prefixes.size >= maxResults) {
        truncated = true;
        break;
      }
      last = name;
      if (delimiter) {
        const cut = name.indexOf(delimiter, prefix.length);
        if (cut !== -1) {
          const p = name.slice(0, cut + delimiter.length);
          prefixes.add(p);
          // Skip the rest of this "directory" so a page is never filled by one prefix.
          last = p + "\uffff";
          continue;
        }
      }
      items.push(bucket.objects.get(name)?.metadata ?? {});
    }
    const body: Record<string, unknown> = { kind: "storage#objects" };
    if (items.length) body.items = items;
    if (prefixes.size) body.prefixes = [...prefixes];
    if (truncated) body.nextPageToken = Buffer.from(last).toString("base64url");
    sendJson(res, 200, body);
  };

  const media = (req: IncomingMessage, res: ServerResponse, object: StoredObject): void => {
    const data = object.data;
    const headers: Record<string, string | number> = {
      "content-type": String(object.metadata.contentType),
      "x-goog-hash": `crc32c=${String(object.metadata.crc32c)},md5=${String(object.metadata.md5Hash)}`,
      "x-goog-stored-content-encoding": "identity",
      "x-goog-stored-content-length": data.length,
      "x-goog-generation": String(object.metadata.generation),
      "accept-ranges": "bytes",
    };
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? "");
    if (range && (range[1] !== "" || range[2] !== "")) {
      let start: number;
      let end: number;
      if (range[1] === "") {
        start = Math.max(0, data.length - Number(range[2]));
        end = data.length - 1;
      } else {
        start = Number(range[1]);
        end = range[2] === "" ? data.length - 1 : Math.min(Number(range[2]), data.length - 1);
      }
      if (start >= data.length || start > end) {
        res.writeHead(416, { "content-range": `bytes */${data.length}` }).end();
        return;
      }
      const slice = data.subarray(start, end + 1);
      res.writeHead(206, { ...headers, "content-range": `bytes ${start}-${end}/${data.length}`, "content-length": slice.length });
      res.end(slice);
      return;
    }
    res.writeHead(200, { ...headers, "content-length": data.length });
    res.end(data);
  };

  const resumableChunk = async (req: IncomingMessage, res: ServerResponse, id: string): Promise<void> => {
    const session = sessions.get(id);
    const body = await readBody(req);
    if (!session) return sendGoogleError(res, 404, "notFound", `No such upload session ${id}`);
    const header = req.headers["content-range"] ?? "";
    const incomplete = () => {
      const headers: Record<string, string | number> = { "content-length": 0 };
      if (session.received > 0) headers.range = `bytes=0-${session.received - 1}`;
      res.writeHead(308, headers).end();
    };
    const status = /^bytes \*\/(\d+|\*)$/.exec(header);
    if (status) {
      // A status check, or the final empty request of an upload whose total is now known.
      if (status[1] !== "*" && Number(status[1]) === session.received) return finish(res, id, session);
      return incomplete();
    }
    const range = /^bytes (\d+)-(\d+|\*)\/(\d+|\*)$/.exec(header);
    if (header && !range) return sendGoogleError(res, 400, "invalid", `bad Content-Range ${header}`);
    const start = range ? Number(range[1]) : session.received;
    if (start !== session.received) {
      // The client re-sent bytes we hold already (or skipped some): keep what lines up.
      if (start > session.received) return incomplete();
      const overlap = session.received - start;
      session.chunks.push(body.subarray(overlap));
      session.received += Math.max(0, body.length - overlap);
    } else {
      session.chunks.push(body);
      session.received += body.length;
    }
    const total = range ? range[3] : "*";
    const end = range ? range[2] : "*";
    const done = total !== "*" ? Number(total) === session.received : end === "*";
    if (done) return finish(res, id, session);
    incomplete();
  };

  const finish = (res: ServerResponse, id: string, session: ResumableSession): void => {
    sessions.delete(id);
    const bucket = buckets.get(session.bucket);
    if (!bucket) return sendGoogleError(res, 404, "notFound", `The specified bucket does not exist: ${session.bucket}`);
    sendJson(res, 200, store(bucket, session.name, Buffer.concat(session.chunks), session.metadata));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendGoogleError(res, 500, "backendError", messageOf(error));
      else res.destroy();
    });
  });
  baseUrl = await listen(server);
  return {
    url: baseUrl,
    requests,
    readObject: (bucket, name) => buckets.get(bucket)?.objects.get(name)?.data,
    listObjects: (bucket, prefix) => [...(buckets.get(bucket)?.objects.keys() ?? [])].filter((n) => n.startsWith(prefix)).sort(),
    createBucket: (name) => {
      if (!buckets.has(name)) buckets.set(name, { name, created: new Date().toISOString(), objects: new Map() });
    },
    close: () => close(server),
  };
}
