/**
 * `ctx.io.gcs()`, `ctx.io.s3()` and `ctx.io.bigquery()`: the cloud connectors of lib/io/cloud, built from
 * `kind: gcs | s3 | bigquery` profiles of `sluice.yaml`.
 *
 * The client libraries are large (the Google and AWS SDKs take a noticeable time to load), so nothing here
 * imports them up front: a facade is handed out at once and the connector module is `require`d on the first
 * call that needs it. A block that never touches a bucket never loads an SDK. `require`, not `import()`:
 * the CLI runs under tsx's CommonJS hook, where a dynamic `import()` of a .ts file goes to Node's ESM loader
 * and fails, and esbuild (the worker bundle) keeps a required module's initialisation lazy all the same.
 *
 * Profile → client: `api_endpoint` (GCS, BigQuery) and `endpoint` + `force_path_style` (S3) point the clients
 * at another host (the local test servers, MinIO, a private endpoint); `credentials_json` (a service-account
 * key, usually `{{ env_var('GCP_KEY_JSON') }}`) or `credentials_file` for Google, static keys for S3, otherwise
 * the SDKs' default chains (Application Default Credentials, AWS env/shared config/instance role). Secrets are
 * registered with `redact()` by the profile loader; the private key parsed out of `credentials_json` is
 * registered here too.
 */
import { isAbsolute, resolve } from "node:path";
import { UserError } from "../core/errors";
import type { BigQueryIo, BigQueryLoadOptions, IoCallOptions, IoWriteOptions, ObjectRef, ObjectStoreIo, TransferRequest, TransferSummary } from "../sdk/io-types";
import type { BigQueryConnector, BigQueryConnectorDeps } from "./cloud/bigquery";
import type { ObjectReadTarget, ObjectStoreConnector } from "./cloud/object-connector";
import type { BigQueryProfile, GcsProfile, S3Profile } from "./profiles";
import { registerSecret } from "./redact";
import type { IoOptions } from "./types";

/** What the facades need from the block run. */
export interface CloudIoContext {
  /** Where `sluice.yaml` lives: relative `credentials_file` paths resolve here. */
  projectDir: string;
  /** Fills in the block's signal and progress reporting. */
  defaults(options?: IoCallOptions): IoOptions;
  /** Called with every connector created, so the block run closes it at the end. */
  track(connector: { close(): Promise<void> }): void;
  /** Client classes for BigQuery (see `BigQueryConnectorDeps`: tests under jest pass Node-loaded ones). */
  bigQueryDeps?: BigQueryConnectorDeps;
}

type ServiceAccount = { client_email: string; private_key: string };

/** The service-account fields of `credentials_json`, checked; the message never quotes the value. */
export function parseServiceAccount(json: string, where: string): ServiceAccount {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new UserError("bad_credentials", `${where}: credentials_json is not valid JSON (a service-account key file's contents)`);
  }
  const email: unknown = typeof parsed === "object" && parsed !== null ? Reflect.get(parsed, "client_email") : undefined;
  const key: unknown = typeof parsed === "object" && parsed !== null ? Reflect.get(parsed, "private_key") : undefined;
  if (typeof email !== "string" || typeof key !== "string") {
    throw new UserError("bad_credentials", `${where}: credentials_json has no client_email and private_key (is it a service-account key?)`);
  }
  registerSecret(key);
  return { client_email: email, private_key: key };
}

/** Lazily creates one connector: the first caller loads the module, later ones share the promise. */
function lazy<T extends { close(): Promise<void> }>(make: () => Promise<T>, ctx: CloudIoContext): () => Promise<T> {
  let made: Promise<T> | null = null;
  return () => {
    made ??= make().then((connector) => {
      ctx.track(connector);
      return connector;
    });
    return made;
  };
}

/** `gs://bucket/key` from a URI or a bare key in the profile's bucket. */
function objectUri(scheme: "gs" | "s3", bucket: string | undefined, where: string, target: string): string {
  if (/^[a-z0-9]+:\/\//.test(target)) return target;
  if (bucket === undefined) throw new UserError("bad_object_uri", `${where}: "${target}" has no ${scheme}:// bucket and the connection names no bucket: write ${scheme}://bucket/${target} or add bucket: to the connection`);
  return `${scheme}://${bucket}/${target.replace(/^\/+/, "")}`;
}

/** Each bucket facade's connector, for `ctx.io.transfer()`, which streams between two of them. */
const facadeConnectors = new WeakMap<ObjectStoreIo, () => Promise<ObjectStoreConnector>>();

function objectFacade(scheme: "gs" | "s3", bucket: string | undefined, where: string, connector: () => Promise<ObjectStoreConnector>, ctx: CloudIoContext): ObjectStoreIo {
  const facade = objectFacadeOf(scheme, bucket, where, connector, ctx);
  facadeConnectors.set(facade, connector);
  return facade;
}

/**
 * `ctx.io.transfer()`: the two sides' connectors come from the bucket facades `side(scheme, connection)` gives
 * (so their SDKs load and close like any other), the copy is `transferObjects` (lib/io/cloud/transfer.ts).
 */
export function transferIo(side: (scheme: "gs" | "s3", connection: string | undefined) => ObjectStoreIo, ctx: CloudIoContext): (request: TransferRequest) => Promise<TransferSummary> {
  const schemeOf = (uri: unknown, key: "from" | "to"): "gs" | "s3" => {
    const match = typeof uri === "string" ? /^(gs|s3):\/\/[^/]+/.exec(uri) : null;
    if (!match) throw new UserError("bad_object_uri", `ctx.io.transfer: ${key} must be an s3://bucket/prefix or gs://bucket/prefix URI, got ${JSON.stringify(uri) ?? String(uri)}`);
    return match[1] === "gs" ? "gs" : "s3";
  };
  return async (request) => {
    const started = Date.now();
    const fromScheme = schemeOf(request.from, "from");
    const toScheme = schemeOf(request.to, "to");
    const connectorOf = async (scheme: "gs" | "s3", connection: string | undefined): Promise<ObjectStoreConnector> => {
      const make = facadeConnectors.get(side(scheme, connection));
      if (!make) throw new Error(`ctx.io.transfer: no ${scheme} connector`);
      return make();
    };
    const [source, target] = await Promise.all([connectorOf(fromScheme, request.fromConnection), connectorOf(toScheme, request.toConnection)]);
    const under = (uri: string): string => (request.prefix ? `${uri.replace(/\/*$/, "/")}${request.prefix.replace(/^\/+/, "")}` : uri);
    const { transferObjects } = loadCloudModule<typeof import("./cloud/transfer")>("transfer");
    const block = ctx.defaults();
    const result = await transferObjects(source, under(request.from), target, under(request.to), {
      signal: request.signal ?? block.signal,
      onProgress: request.onProgress ?? block.onProgress,
      overwrite: request.overwrite,
      concurrency: request.concurrency,
      retries: request.retries,
    });
    const { objects, bytes, skipped, skippedBytes, unverified, kept, retried } = result;
    return { objects, bytes, skipped, skippedBytes, unverified, kept, retried, durationMs: Date.now() - started };
  };
}

function objectFacadeOf(scheme: "gs" | "s3", bucket: string | undefined, where: string, connector: () => Promise<ObjectStoreConnector>, ctx: CloudIoContext): ObjectStoreIo {
  const uri = (key = ""): string => objectUri(scheme, bucket, where, key);
  const readTarget = (target: string | ObjectRef): ObjectReadTarget => {
    if (typeof target === "string") return uri(target);
    const csv = { columnTypes: target.columns ? { ...target.columns } : undefined, delimiter: target.delimiter, header: target.header, on_bad_rows: target.on_bad_rows };
    return { uri: uri(target.uri), format: target.format, csv, dataset: { hivePartitioning: target.hivePartitioning } };
  };
  return {
    description: where,
    uri,
    read: async (target, o) => (await connector()).read(readTarget(target), ctx.defaults(o)),
    write: async (data, target, o?: IoWriteOptions) => (await connector()).write(data, uri(target), { ...ctx.defaults(o), mode: o?.mode, partitionBy: o?.partitionBy }),
    upload: async (localPath, target, o) => (await connector()).uploadFile(localPath, uri(target), ctx.defaults(o)),
    download: async (source, localPath, o) => (await connector()).downloadFile(uri(source), localPath, ctx.defaults(o)),
    list: async (prefix, o) => {
      const c = await connector();
      const base = uri(prefix);
      const { bucket } = c.location(base);
      const listing = await c.list(base, o);
      return { objects: listing.objects.map((object) => ({ uri: `${scheme}://${bucket}/${object.key}`, key: object.key, size: object.size })), prefixes: listing.prefixes };
    },
    delete: async (target) => (await connector()).deleteObject(uri(target)),
  };
}

/** `ctx.io.gcs(name)` from a `kind: gcs` profile (or, with none configured, Application Default Credentials). */
export function gcsIo(profile: GcsProfile | undefined, name: string, ctx: CloudIoContext): ObjectStoreIo {
  const where = `gcs "${name}"`;
  const credentials = profile?.credentials_json === undefined ? undefined : parseServiceAccount(profile.credentials_json, `connection "${name}"`);
  const keyFilename = profile?.credentials_file === undefined ? undefined : at(ctx.projectDir, profile.credentials_file);
  const connector = lazy(async () => {
    const { GcsConnector } = loadCloudModule<typeof import("./cloud/gcs")>("gcs");
    return new GcsConnector({ name, projectId: profile?.project_id, apiEndpoint: profile?.api_endpoint, credentials, keyFilename });
  }, ctx);
  return objectFacade("gs", profile?.bucket, where, connector, ctx);
}

/** `ctx.io.s3(name)` from a `kind: s3` profile (static keys, or the SDK's default credential chain). */
export function s3Io(profile: S3Profile | undefined, name: string, ctx: CloudIoContext): ObjectStoreIo {
  const where = `s3 "${name}"`;
  if ((profile?.access_key_id === undefined) !== (profile?.secret_access_key === undefined)) {
    throw new UserError("bad_credentials", `connection "${name}": give both access_key_id and secret_access_key, or neither (to use the AWS default credentials)`);
  }
  const connector = lazy(async () => {
    const { S3Connector } = loadCloudModule<typeof import("./cloud/s3")>("s3");
    return new S3Connector({
      name,
      region: profile?.region,
      endpoint: profile?.endpoint,
      // An explicit endpoint is nearly always an S3-compatible service, which wants path-style URLs.
      forcePathStyle: profile?.force_path_style ?? profile?.endpoint !== undefined,
      accessKeyId: profile?.access_key_id,
      secretAccessKey: profile?.secret_access_key,
      sessionToken: profile?.session_token,
    });
  }, ctx);
  return objectFacade("s3", profile?.bucket, where, connector, ctx);
}

/** `ctx.io.bigquery(name)` from a `kind: bigquery` profile; `project_id` is required. */
export function bigQueryIo(profile: BigQueryProfile | undefined, name: string, ctx: CloudIoContext): BigQueryIo {
  const where = `bigquery "${name}"`;
  const projectId = profile?.project_id;
  if (projectId === undefined) {
    throw new UserError("no_connection", `${where}: add a connection with kind: bigquery and project_id: to sluice.yaml`);
  }
  const credentials = profile?.credentials_json === undefined ? undefined : parseServiceAccount(profile.credentials_json, `connection "${name}"`);
  const keyFilename = profile?.credentials_file === undefined ? undefined : at(ctx.projectDir, profile.credentials_file);
  const defaultDataset = profile?.dataset;
  const connector = lazy(async () => {
    const { BigQueryConnector } = loadCloudModule<typeof import("./cloud/bigquery")>("bigquery");
    return new BigQueryConnector({ name, projectId, location: profile?.location, apiEndpoint: profile?.api_endpoint, credentials, keyFilename }, ctx.bigQueryDeps);
  }, ctx);
  const table = (target: string): string => {
    if (target.includes(".")) return target;
    if (defaultDataset === undefined) throw new UserError("bad_table_name", `${where}: "${target}" names no dataset and the connection has no dataset:; write dataset.${target}`);
    return `${defaultDataset}.${target}`;
  };
  /** The table's dataset exists before a load (BigQuery refuses a load into a missing dataset). */
  const ready = async (target: string): Promise<{ bq: BigQueryConnector; table: string }> => {
    const qualified = table(target);
    const bq = await connector();
    await bq.ensureDataset(qualified.slice(0, qualified.indexOf(".")));
    return { bq, table: qualified };
  };
  const loadMode = (o?: BigQueryLoadOptions) => ({ mode: o?.mode });
  return {
    description: where,
    read: async (target, o) => (await connector()).read(typeof target === "string" ? { query: target, defaultDataset } : { defaultDataset, ...target }, ctx.defaults(o)),
    stream: (target, o) => streamOf(connector, typeof target === "string" ? { query: target, defaultDataset } : { defaultDataset, ...target }, ctx.defaults(o)),
    write: async (data, target, o?: IoWriteOptions) => {
      const { bq, table: qualified } = await ready(target);
      return bq.write(data, qualified, { ...ctx.defaults(o), mode: o?.mode });
    },
    loadFromGcs: async (uris, target, o) => {
      const { bq, table: qualified } = await ready(target);
      const list = (typeof uris === "string" ? [uris] : [...uris]).map((uri) => (uri.endsWith("/") ? `${uri}*.parquet` : uri));
      return bq.loadFromGcs(list, qualified, { ...loadMode(o), format: o?.format === "csv" ? "CSV" : "PARQUET" });
    },
    loadFromFile: async (path, target, o) => {
      const { bq, table: qualified } = await ready(target);
      return bq.loadFromFile(path, qualified, loadMode(o));
    },
    ensureDataset: async (dataset) => {
      const id = dataset ?? defaultDataset;
      if (id === undefined) throw new UserError("bad_table_name", `${where}: ensureDataset() needs a dataset name (the connection has no dataset:)`);
      await (await connector()).ensureDataset(id);
    },
    deleteTable: async (target) => (await connector()).deleteTable(table(target)),
  };
}

async function* streamOf(connector: () => Promise<BigQueryConnector>, target: { query: string; defaultDataset?: string }, options: IoOptions) {
  yield* (await connector()).stream(target, options);
}

/** The connector module, loaded now (see the file comment). */
function loadCloudModule<T>(name: "gcs" | "s3" | "bigquery" | "transfer"): T {
  // Literal paths, so that esbuild bundles each module (lazily initialised) into the worker entry.
  switch (name) {
    case "gcs":
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return require("./cloud/gcs") as T;
    case "s3":
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return require("./cloud/s3") as T;
    case "bigquery":
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return require("./cloud/bigquery") as T;
    case "transfer":
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return require("./cloud/transfer") as T;
  }
}

function at(projectDir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(projectDir, path);
}
