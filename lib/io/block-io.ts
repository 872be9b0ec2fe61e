/**
 * Builds `ctx.io` for one block run from the project's profiles. Connectors are created on first
 * use and cached by profile name for the run; `close()` ends them all (pools, DuckDB files). Every call gets
 * the block's AbortSignal and progress reporting unless the caller passes its own.
 *
 * Works inside a worker thread (where TS blocks run): pg, DuckDB and parquet-wasm all load there, and the
 * redaction registry is per thread — `createBlockIo` registers the profiles' secrets again.
 */
import { isAbsolute, resolve } from "node:path";
import type { RecordBatch, Table } from "apache-arrow";
import { UserError } from "../core/errors";
import type { BigQueryIo, DuckDBIo, FilesIo, HttpIo, IoCallOptions, IoConnector, IoWriteOptions, ObjectStoreIo, PostgresIo, SluiceIo } from "../sdk/io-types";
import type { BigQueryConnectorDeps } from "./cloud/bigquery";
import { bigQueryIo, gcsIo, s3Io, transferIo } from "./cloud-io";
import { DuckDBWarehouse } from "./duckdb-warehouse";
import { FilesConnector } from "./files";
import { HttpConnector } from "./http";
import { PostgresConnector } from "./postgres";
import { findProfile, registerProfileSecrets, type Profiles } from "./profiles";
import type { ArrowConnector, IoOptions, UpstreamRef } from "./types";

export interface BlockIoOptions {
  /** The data directory (`.sluice/`): the default warehouse file lives here. */
  dataDir: string;
  /** Relative paths in profiles resolve against this (default: the data directory's parent). */
  projectDir?: string;
  signal?: AbortSignal;
  onProgress?: IoOptions["onProgress"];
  /**
   * The BigQuery client classes (see `BigQueryConnectorDeps`): only tests under jest pass them; blocks run in
   * worker threads, where the defaults load fine.
   */
  bigQueryDeps?: BigQueryConnectorDeps;
}

/** `ctx.io` plus `close()` for the runtime. */
export interface BlockIo extends SluiceIo {
  close(): Promise<void>;
}

/** Anything a connector may be; closed when it has a `close()`. */
type Closable = object;

function hasClose(value: object): value is { close(): Promise<void> } {
  return "close" in value && typeof value.close === "function";
}

/** The `ctx.io` of one block run. */
export function createBlockIo(profiles: Profiles, options: BlockIoOptions): BlockIo {
  // Secrets are registered per thread: a worker building `ctx.io` registers them in its own registry.
  for (const profile of Object.values(profiles.connections)) registerProfileSecrets(profile);
  const projectDir = options.projectDir ?? resolve(options.dataDir, "..");
  const at = (path: string): string => (isAbsolute(path) ? path : resolve(projectDir, path));
  const cache = new Map<string, { connector: Closable; facade: unknown }>();
  /** Cloud connectors, created by their facades on first use. */
  const lazyConnectors: { close(): Promise<void> }[] = [];
  const defaults = (o?: IoCallOptions): IoOptions => ({ signal: options.signal, onProgress: options.onProgress, ...o });
  const writeDefaults = (o?: IoWriteOptions) => ({ signal: options.signal, onProgress: options.onProgress, ...o });

  function bind<R, W>(connector: ArrowConnector<R, W>): IoConnector<R, W> {
    const stream = connector.stream?.bind(connector);
    return {
      description: connector.description,
      read: (target: R, o?: IoCallOptions) => connector.read(target, defaults(o)),
      // An upstream by reference goes through as it is: the connectors bound here (files, postgres, the warehouse) read it with DuckDB.
      write: (data: Table | AsyncIterable<RecordBatch> | UpstreamRef, target: W, o?: IoWriteOptions) => connector.write(data as Table, target, writeDefaults(o)),
      ...(stream ? { stream: (target: R, o?: IoCallOptions) => stream(target, defaults(o)) } : {}),
    };
  }

  function cached<T>(key: string, make: () => { connector: Closable; facade: T }): T {
    const hit = cache.get(key);
    if (hit) return hit.facade as T;
    const made = make();
    cache.set(key, made);
    return made.facade;
  }

  const postgres = (name?: string): PostgresIo => {
    const profile = findProfile(profiles, "postgres", name);
    if (profile === undefined) throw new UserError("no_connection", `no postgres connection in ${profiles.file ?? "sluice.yaml"}: add one under connections: (kind: postgres)`);
    return cached(`postgres:${name ?? "(default)"}`, () => {
      const connector = new PostgresConnector(
        { url: profile.url, host: profile.host, port: profile.port, database: profile.database, user: profile.user, password: profile.password, schema: profile.schema, ssl: profile.ssl },
        name ?? "default",
      );
      return { connector, facade: { ...bind(connector), execute: (sql: string, params?: Parameters<PostgresConnector["execute"]>[1]) => connector.execute(sql, params) } };
    });
  };

  const duckdb = (name?: string): DuckDBIo => {
    const profile = findProfile(profiles, "duckdb", name);
    return cached(`duckdb:${name ?? "(default)"}`, () => {
      const path = profile?.path === undefined ? undefined : profile.path === ":memory:" ? ":memory:" : at(profile.path);
      const connector = new DuckDBWarehouse({ path }, { dataDir: options.dataDir, name: name ?? "default" });
      return { connector, facade: { ...bind(connector), execute: (sql: string) => connector.execute(sql) } };
    });
  };

  const files = (): FilesIo =>
    cached("files", () => {
      const profile = findProfile(profiles, "files");
      const connector = new FilesConnector({ root: at(profile?.root ?? "."), name: "default" });
      return { connector, facade: bind(connector) };
    });

  const http = (): HttpIo =>
    cached("http", () => {
      const profile = findProfile(profiles, "http");
      const connector = new HttpConnector({ baseUrl: profile?.base_url, headers: profile?.headers, retries: profile?.retries, timeoutMs: profile?.timeout_ms }, "default");
      const facade: HttpIo = {
        description: connector.description,
        read: (target, o) => connector.read(target, defaults(o)),
        download: (url, o) => connector.download(url, { ...defaults(o), gunzip: o?.gunzip }),
      };
      return { connector, facade };
    });

  // The cloud SDKs load on a facade's first call (cloud-io.ts), so offering them costs nothing here.
  const cloud = {
    projectDir,
    defaults,
    bigQueryDeps: options.bigQueryDeps,
    track: (connector: { close(): Promise<void> }) => void lazyConnectors.push(connector),
  };
  /** The name messages show: the one asked for, else the name the default profile has in sluice.yaml. */
  const shownName = (profile: object | undefined, name?: string): string =>
    name ?? Object.entries(profiles.connections).find(([, p]) => p === profile)?.[0] ?? "default";
  const gcs = (name?: string): ObjectStoreIo =>
    cached(`gcs:${name ?? "(default)"}`, () => {
      const profile = findProfile(profiles, "gcs", name);
      return { connector: {}, facade: gcsIo(profile, shownName(profile, name), cloud) };
    });
  const s3 = (name?: string): ObjectStoreIo =>
    cached(`s3:${name ?? "(default)"}`, () => {
      const profile = findProfile(profiles, "s3", name);
      return { connector: {}, facade: s3Io(profile, shownName(profile, name), cloud) };
    });
  const bigquery = (name?: string): BigQueryIo =>
    cached(`bigquery:${name ?? "(default)"}`, () => {
      const profile = findProfile(profiles, "bigquery", name);
      return { connector: {}, facade: bigQueryIo(profile, shownName(profile, name), cloud) };
    });

  const io: BlockIo = {
    transfer: transferIo((scheme, name) => (scheme === "gs" ? gcs(name) : s3(name)), cloud),
    postgres,
    duckdb,
    gcs,
    s3,
    bigquery,
    get files() {
      return files();
    },
    get http() {
      return http();
    },
    async close() {
      const all = [...cache.values()].map((entry) => entry.connector).filter(hasClose);
      all.push(...lazyConnectors.splice(0));
      cache.clear();
      await Promise.all(all.map((connector) => connector.close()));
    },
  };
  return io;
}
