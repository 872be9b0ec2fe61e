/**
 * Shared by the ownership tests: a project whose run reads a real NYC taxi file (20 columns) and then
 * naps long enough to be killed or cancelled mid-block, real `sluice` processes, and a metadata store on
 * SQLite or on a throw-away PostgreSQL schema that the test and those processes share.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { dropSchema, freshSchemaName, TEST_DATABASE_URL } from "../../lib/store/metadata/pg-test-database";
import { PostgresRunStore } from "../../lib/store/metadata/postgres-run-store";
import type { MetadataStore } from "../../lib/store/metadata/run-store";
import { SqliteRunStore } from "../../lib/store/metadata/sqlite-run-store";
import { REPO_ROOT, taxiDataDir } from "../taxi-data";
import { writePipeline } from "../write-pipeline";

/** Writes pipeline `taxi_nap`: `trips` (SQL over the January 2024 green taxi Parquet file) → `nap` (waits `nap_ms`) → `after`. */
export function writeNapProject(projectDir: string, napMs: number): void {
  const parquet = path.join(taxiDataDir(), "green_tripdata_2024-01.parquet");
  writePipeline(
    projectDir,
    "taxi_nap",
    `version: 1
name: taxi_nap
variables:
  nap_ms: ${napMs}
blocks:
  - name: trips
    type: loader
    language: sql
    upstream: []
  - name: nap
    type: transformer
    language: ts
    upstream: [trips]
  - name: after
    type: transformer
    language: ts
    upstream: [nap]
`,
    {
      "trips.sql": `SELECT * FROM read_parquet('${parquet.replace(/'/g, "''")}')\n`,
      "nap.ts": `import type { Table } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";

export default async function nap(trips: Table, ctx: BlockContext): Promise<Table> {
  if (trips.schema.fields.length !== 20) throw new Error("expected the 20 taxi columns, got " + trips.schema.fields.length);
  await new Promise((resolve) => setTimeout(resolve, Number(ctx.variables.nap_ms)));
  return trips.slice(0, 100);
}
`,
      "after.ts": `import type { Table } from "apache-arrow";\n\nexport default async function after(input: Table): Promise<Table> {\n  return input;\n}\n`,
    },
  );
}

/** A metadata store shared by the test and the processes it starts. */
export interface SharedStore {
  label: string;
  /** The test's own connection. */
  store: MetadataStore;
  /** Environment for a `sluice` process to use the same store. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function openSharedStore(kind: "sqlite" | "postgres", projectDir: string): Promise<SharedStore> {
  if (kind === "sqlite") {
    const store = await SqliteRunStore.open(path.join(projectDir, ".sluice", "sluice.db"));
    return { label: "sqlite", store, env: { DATABASE_URL: "" }, close: () => store.close() };
  }
  const schema = freshSchemaName("sluice_own");
  const store = await PostgresRunStore.open(TEST_DATABASE_URL, { schema, maxConnections: 3 });
  return {
    label: "postgres",
    store,
    env: { DATABASE_URL: `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}` },
    close: async () => {
      await store.close();
      await dropSchema(schema);
    },
  };
}

export interface SluiceProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Kills it if still alive (test cleanup). */
  kill(): void;
}

/** Starts `sluice <args>` in `projectDir` with a short lease, as a user would. */
export function spawnSluice(projectDir: string, args: string[], env: Record<string, string>): SluiceProcess {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, "bin", "sluice.cjs"), ...args], {
    cwd: projectDir,
    env: { ...process.env, SLUICE_PROJECT_DIR: projectDir, SLUICE_POOL_SIZE: "2", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  return {
    child,
    output: () => output,
    exited,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
}

/** Polls until `probe` gives a value other than null. */
export async function waitFor<T>(what: string, probe: () => Promise<T | null>, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** The id of the run whose `nap` block is running. */
export function napRunning(store: MetadataStore): () => Promise<string | null> {
  return async () => {
    for (const run of await store.findRunsInState(["running"])) {
      const detail = await store.getRun(run.id);
      if (detail?.blockRuns.find((b) => b.block === "nap")?.state === "running") return run.id;
    }
    return null;
  };
}
