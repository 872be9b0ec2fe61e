/**
 * Outputs on an object store for workers that share no disk: `SLUICE_OUTPUT_URL` mirrors every output under a bucket prefix; a machine that lacks an
 * output downloads it before reading it. Real clients (the connectors' @aws-sdk/client-s3 and
 * @google-cloud/storage) against local servers speaking the real protocols (s3rver, the GCS test server).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { tableFromArrays, tableToIPC } from "apache-arrow";
import { QueueExecutor, type QueueJobInfo } from "../../lib/executors/queue-executor";
import { closeRedis, openRedis } from "../../lib/executors/queue-redis";
import { GcsConnector } from "../../lib/io/cloud/gcs";
import { S3Connector } from "../../lib/io/cloud/s3";
import { Runner } from "../../lib/runner/runner";
import { LogStore } from "../../lib/store/log-store";
import { dropSchema, freshSchemaName } from "../../lib/store/metadata/pg-test-database";
import { PostgresRunStore } from "../../lib/store/metadata/postgres-run-store";
import { OutputStore } from "../../lib/store/output-store";
import { PipelineFiles } from "../../lib/store/pipeline-files";
import { openRemoteOutputStore } from "../../lib/server/remote-output-connectors";
import { RemoteOutputStore } from "../../lib/store/remote-output-store";
import { spawnWorker, type SpawnedWorker } from "../../lib/worker/spawn-worker";
import { startGcsServer, type GcsServer } from "../servers/gcs-server";
import { S3RVER_CREDENTIALS, startS3Server, type S3Server } from "../servers/s3-server";
import { POSTGRES_URL, REDIS_URL, deleteRedisPrefix, uniquePrefix, writePipeline } from "./helpers";
import { summarizeDuckDBTable } from "../../lib/blocks/sql-summary";

const BUCKET = "sluice-outputs";

function tempDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `sluice-remote-${label}-`));
}

/** A Parquet file as a SQL block's output would be, written by DuckDB into the store's temp path. */
async function writeParquet(store: OutputStore, runId: string, block: string): Promise<void> {
  const temp = store.tempParquetPath(runId, block);
  const db = await DuckDBInstance.create(":memory:");
  const connection = await db.connect();
  await connection.run(`CREATE TABLE block_output AS SELECT range AS n, 'r' || range AS label FROM range(5)`);
  await connection.run(`COPY block_output TO '${temp}' (FORMAT parquet)`);
  // Summarised by the runtime's own summarizer, as a SQL block's output is.
  const summary = await summarizeDuckDBTable(connection, "block_output");
  connection.closeSync();
  db.closeSync();
  await store.commitParquet(runId, block, temp, summary);
}

describe.each([
  ["s3", "s3://sluice-outputs/team/outputs"],
  ["gs", "gs://sluice-outputs/team/outputs"],
])("output store mirrored to %s", (scheme, url) => {
  let s3: S3Server | null = null;
  let gcs: GcsServer | null = null;
  const dirs: string[] = [];
  const stores: OutputStore[] = [];

  function remote(): RemoteOutputStore {
    if (scheme === "s3") {
      const connector = new S3Connector({ endpoint: s3!.url, forcePathStyle: true, region: "us-east-1", ...S3RVER_CREDENTIALS });
      return new RemoteOutputStore(url, connector);
    }
    return new RemoteOutputStore(url, new GcsConnector({ projectId: "test", apiEndpoint: gcs!.url }));
  }

  /** An output store on its own data directory: another machine. */
  function machine(): OutputStore {
    const dir = tempDir(scheme);
    dirs.push(dir);
    const store = new OutputStore(dir, { remote: remote() });
    stores.push(store);
    return store;
  }

  beforeAll(async () => {
    if (scheme === "s3") s3 = await startS3Server([BUCKET]);
    else {
      gcs = await startGcsServer();
      gcs.createBucket(BUCKET);
    }
  });

  afterAll(async () => {
    for (const store of stores) await store.close();
    await s3?.close();
    await gcs?.close();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("uploads what one machine writes; another reads it (record, pages, whole table) after one download", async () => {
    const writer = machine();
    const reader = machine();
    const table = tableFromArrays({ id: Int32Array.from([1, 2, 3]), name: ["a", "b", null] });
    const written = await writer.writeArrow("run-1", "load", tableToIPC(table, "stream"));
    await writeParquet(writer, "run-1", "totals");

    expect(fs.existsSync(path.join(reader.outputsDir, "run-1"))).toBe(false);
    const record = await reader.read("run-1", "load");
    expect(record?.summary).toEqual(written.summary);
    expect(record?.ref.path).toBe(path.join(reader.outputsDir, "run-1", "load.arrow"));
    expect(fs.readFileSync(record!.ref.path)).toEqual(fs.readFileSync(written.ref.path));
    const page = await reader.readPage(record!.ref, 1, 10);
    expect(page.rows).toEqual([
      { id: 2, name: "b" },
      { id: 3, name: null },
    ]);
    expect((await reader.readArrowTable(record!.ref)).numRows).toBe(3);

    // A SQL block's Parquet output, paged straight from the bucket by a third machine.
    const third = machine();
    const parquetPage = await third.readPage({ runId: "run-1", block: "totals", format: "parquet", path: "ignored" }, 0, 2);
    expect(parquetPage).toMatchObject({ totalRows: 5, rows: [{ n: 0, label: "r0" }, { n: 1, label: "r1" }] });
  });

  it("says when an output is nowhere; re-downloads a cached copy of another size; deletes a run everywhere", async () => {
    const writer = machine();
    const reader = machine();
    expect(await reader.ensureLocal("run-2", "missing")).toBe(false);
    await expect(reader.readPage({ runId: "run-2", block: "missing", format: "arrow", path: "x" }, 0, 1)).rejects.toThrow(/has no arrow output/);

    const first = await writer.writeArrow("run-2", "load", tableToIPC(tableFromArrays({ x: Int32Array.from([1]) }), "stream"));
    expect(await reader.ensureLocal("run-2", "load", first.summary.bytes)).toBe(true);
    // The block runs again in the same run (a retry) and writes a bigger output: the cached copy is stale.
    const second = await writer.writeArrow("run-2", "load", tableToIPC(tableFromArrays({ x: Int32Array.from([1, 2, 3, 4]) }), "stream"));
    expect(second.summary.bytes).not.toBe(first.summary.bytes);
    expect(await reader.ensureLocal("run-2", "load", second.summary.bytes)).toBe(true);
    expect((await reader.readPage(second.ref, 0, 10)).totalRows).toBe(4);

    await writer.deleteRun("run-2");
    const third = machine();
    expect(await third.read("run-2", "load")).toBeNull();
  });
});

describe("two workers with separate disks share outputs through S3", () => {
  const prefix = uniquePrefix("remote");
  const schema = freshSchemaName("sluice_remote_outputs");
  let s3: S3Server;
  let projectDir: string;
  const workerDirs: Record<"one" | "two", string> = { one: "", two: "" };
  let serverDir: string;
  const workers: SpawnedWorker[] = [];
  let runs: PostgresRunStore;
  let logs: LogStore;
  let outputs: OutputStore;
  let executor: QueueExecutor;
  const url = `s3://${BUCKET}/shared`;

  beforeAll(async () => {
    s3 = await startS3Server([BUCKET]);
    projectDir = tempDir("project");
    serverDir = path.join(projectDir, ".server-data");
    workerDirs.one = tempDir("worker-one");
    workerDirs.two = tempDir("worker-two");
    // The client settings come from a sluice.yaml connection, as users configure any S3 connection.
    fs.writeFileSync(
      path.join(projectDir, "sluice.yaml"),
      `connections:\n  outputs:\n    kind: s3\n    endpoint: ${s3.url}\n    force_path_style: true\n    region: us-east-1\n` +
        `    access_key_id: ${S3RVER_CREDENTIALS.accessKeyId}\n    secret_access_key: ${S3RVER_CREDENTIALS.secretAccessKey}\n`,
    );
    // Blocks alternate between the two workers' queues: every block reads an upstream the other worker wrote.
    const blocks: string[] = [];
    const files: Record<string, string> = {
      "src.ts": `import { tableFromArrays } from "apache-arrow";
export default async function load() {
  const ids = Int32Array.from({ length: 1000 }, (_, i) => i);
  return tableFromArrays({ id: ids, amount: Float64Array.from(ids, (i) => i * 1.5) });
}`,
    };
    blocks.push("  - { name: src, type: loader, language: ts, upstream: [], queue: one }");
    for (const lane of ["x", "y"]) {
      blocks.push(`  - { name: big_${lane}, type: transformer, language: sql, upstream: [src], queue: two }`);
      blocks.push(`  - { name: double_${lane}, type: transformer, language: ts, upstream: [big_${lane}], queue: one }`);
      blocks.push(`  - { name: total_${lane}, type: transformer, language: sql, upstream: [double_${lane}], queue: two }`);
      files[`big_${lane}.sql`] = `SELECT id, amount FROM src WHERE amount >= 750 ORDER BY id`;
      files[`double_${lane}.ts`] = `import { tableFromArrays } from "apache-arrow";
export default async function double(input) {
  const ids = input.getChild("id").toArray();
  const amounts = input.getChild("amount").toArray();
  return tableFromArrays({ id: Int32Array.from(ids), amount: Float64Array.from(amounts, (a) => a * 2) });
}`;
      files[`total_${lane}.sql`] = `SELECT count(*)::INTEGER AS n, sum(amount) AS total FROM double_${lane}`;
    }
    writePipeline(projectDir, "spread", `version: 1\nname: spread\nblocks:\n${blocks.join("\n")}\n`, files);

    // The workers share this test's metadata schema (they hold run-owner leases there).
    runs = await PostgresRunStore.open(POSTGRES_URL, { schema });
    const env = (home: string) => ({
      REDIS_URL,
      DATABASE_URL: `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      SLUICE_PROJECT_DIR: projectDir,
      SLUICE_HOME: home,
      SLUICE_OUTPUT_URL: url,
      SLUICE_OUTPUT_CONNECTION: "outputs",
    });
    workers.push(
      await spawnWorker({ args: ["--queue", "one", "--prefix", prefix], env: env(workerDirs.one) }),
      await spawnWorker({ args: ["--queue", "two", "--prefix", prefix], env: env(workerDirs.two) }),
    );
    expect(workers[0].output()).toContain(`outputs mirrored to ${url}`);
    logs = new LogStore(serverDir);
    // The server: a third machine with its own disk, the same mirror (built as services.ts builds it).
    outputs = new OutputStore(serverDir, {
      remote: openRemoteOutputStore(url, { file: "sluice.yaml", connections: { outputs: { kind: "s3", endpoint: s3.url, force_path_style: true, region: "us-east-1", access_key_id: "S3RVER", secret_access_key: "S3RVER" } } }, "outputs"),
    });
  }, 120_000);

  afterAll(async () => {
    await executor?.close();
    for (const worker of workers) worker.child.kill("SIGTERM");
    await Promise.all(workers.map((w) => w.exited));
    const redis = openRedis(REDIS_URL);
    await deleteRedisPrefix(redis, prefix);
    await closeRedis(redis);
    await logs?.close();
    await outputs?.close();
    await runs?.close();
    await dropSchema(schema, POSTGRES_URL).catch(() => undefined);
    await s3?.close();
    for (const dir of [projectDir, workerDirs.one, workerDirs.two]) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("runs the pipeline across both; each reads the other's outputs from the bucket; the server previews them", async () => {
    const done: QueueJobInfo[] = [];
    executor = new QueueExecutor({ redisUrl: REDIS_URL, prefix, projectDir, outputsDir: outputs.outputsDir, onJobDone: (info) => done.push(info) });
    const runner = new Runner({ projectDir, pipelines: new PipelineFiles(path.join(projectDir, "pipelines")), store: runs, outputs, logs, executor, maxParallelBlocks: 4, defaultTimeoutMs: 60_000 });
    const started = await runner.start({ pipeline: "spread" });
    const outcome = await started.done;
    expect(outcome.blocks.filter((b) => b.state !== "success").map((b) => `${b.name}: ${b.error?.message ?? b.state}`)).toEqual([]);
    expect(outcome.state).toBe("success");

    // Each block ran on the worker of its queue.
    const workerOf = new Map(done.map((d) => [d.block, d.workerId]));
    expect(new Set(["src", "double_x", "double_y"].map((b) => workerOf.get(b)))).toEqual(new Set([workers[0].id]));
    expect(new Set(["big_x", "big_y", "total_x", "total_y"].map((b) => workerOf.get(b)))).toEqual(new Set([workers[1].id]));

    // Worker "one" has what it wrote plus the upstreams it downloaded (big_*), nothing else; same for "two".
    const filesOf = (home: string) => fs.readdirSync(path.join(home, "outputs", started.runId)).filter((f) => !f.startsWith(".")).sort();
    expect(filesOf(workerDirs.one)).toEqual(
      ["big_x.parquet", "big_y.parquet", "double_x.arrow", "double_y.arrow", "src.arrow"].flatMap((f) => [f, f.replace(/\.(arrow|parquet)$/, ".summary.json")]).sort(),
    );
    expect(filesOf(workerDirs.two)).toEqual(
      ["big_x.parquet", "big_y.parquet", "double_x.arrow", "double_y.arrow", "src.arrow", "total_x.parquet", "total_y.parquet"]
        .flatMap((f) => [f, f.replace(/\.(arrow|parquet)$/, ".summary.json")])
        .sort(),
    );

    // The server's disk has none of it until a preview asks; then the right rows come from the bucket.
    expect(fs.existsSync(path.join(serverDir, "outputs", started.runId))).toBe(false);
    const total = outcome.blocks.find((b) => b.name === "total_x")!;
    const record = await outputs.read(started.runId, total.name);
    const page = await outputs.readPage(record!.ref, 0, 10);
    const expected = Array.from({ length: 1000 }, (_, i) => i * 1.5).filter((a) => a >= 750);
    expect(page.rows).toEqual([{ n: expected.length, total: expected.reduce((sum, a) => sum + a * 2, 0) }]);
  }, 120_000);
});
