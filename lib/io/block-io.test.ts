import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Worker } from "node:worker_threads";
import { build } from "esbuild";
import pg from "pg";
import { tableFromArrays } from "apache-arrow";
import { createBlockIo } from "./block-io";
import { parseProfiles } from "./profiles";
import { clearSecrets } from "./redact";

const PG_URL = "postgres://postgres@127.0.0.1:5432/test";

describe("createBlockIo", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "sluice-block-io-"));
  });
  afterEach(async () => {
    clearSecrets();
    await rm(dir, { recursive: true, force: true });
  });

  it("builds connectors from profiles, passes the block's progress, and closes them", async () => {
    const schema = `sluice_io_${randomUUID().slice(0, 8)}`;
    const profiles = parseProfiles(
      `connections:\n  default:\n    kind: postgres\n    url: "{{ env_var('PG_URL') }}"\n    schema: ${schema}\n  local:\n    kind: files\n    root: lake\n`,
      "sluice.yaml",
      { PG_URL },
    );
    const progress: unknown[] = [];
    const io = createBlockIo(profiles, { dataDir: join(dir, ".sluice"), projectDir: dir, onProgress: (p) => progress.push(p) });
    try {
      const table = tableFromArrays({ n: new Int32Array([1, 2, 3]) });
      await io.postgres().write(table, "t");
      expect((await io.postgres().read("SELECT sum(n)::int4 AS s FROM t")).getChild("s")?.get(0)).toBe(6);
      expect(await io.postgres().execute(`DELETE FROM "${schema}".t WHERE n = $1`, [2])).toBe(1);
      await io.files.write(table, "out.parquet");
      expect((await io.files.read(join(dir, "lake", "out.parquet"))).numRows).toBe(3);
      await io.duckdb().write(table, "t");
      expect((await io.duckdb().read({ table: "t" })).numRows).toBe(3);
      expect(progress.length).toBeGreaterThan(0);
      expect(() => io.postgres("nope")).toThrow(/no connection "nope"/);
    } finally {
      await io.close();
      const client = new pg.Client(PG_URL);
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    }
  });

  it("works inside a worker thread (where TypeScript blocks run)", async () => {
    const script = join(dir, "worker-main.ts");
    const schema = `sluice_io_${randomUUID().slice(0, 8)}`;
    await writeFile(
      script,
      `
      import { parentPort, workerData } from "node:worker_threads";
      import { tableFromArrays } from "apache-arrow";
      import { createBlockIo } from ${JSON.stringify(resolve(__dirname, "block-io.ts"))};
      import { parseProfiles } from ${JSON.stringify(resolve(__dirname, "profiles.ts"))};
      (async () => {
        const profiles = parseProfiles("connections:\\n  default:\\n    kind: postgres\\n    url: " + workerData.url + "\\n    schema: " + workerData.schema + "\\n", "sluice.yaml", {});
        const io = createBlockIo(profiles, { dataDir: workerData.dataDir });
        try {
          const t = tableFromArrays({ n: new Int32Array([4, 5]) });
          await io.postgres().write(t, "w");
          await io.duckdb().write(await io.postgres().read("SELECT * FROM w"), "w");
          const back = await io.duckdb().read("SELECT sum(n)::INTEGER AS s FROM w");
          await io.postgres().execute("DROP SCHEMA " + workerData.schema + " CASCADE");
          parentPort?.postMessage(back.getChild("s")?.get(0));
        } finally {
          await io.close();
        }
      })().catch((e) => parentPort?.postMessage("error: " + e.message));
      `,
    );
    // Bundled next to node_modules so that the worker resolves pg, DuckDB and apache-arrow as blocks do.
    const outDir = resolve(__dirname, "../../node_modules/.cache/sluice-io-test");
    await mkdir(outDir, { recursive: true });
    const outFile = join(outDir, `worker-${randomUUID()}.cjs`);
    await build({ entryPoints: [script], bundle: true, platform: "node", format: "cjs", packages: "external", outfile: outFile, logLevel: "silent" });
    try {
      const worker = new Worker(outFile, { workerData: { url: PG_URL, schema, dataDir: join(dir, ".sluice") } });
      const answer = await new Promise((resolveAnswer, reject) => {
        worker.once("message", resolveAnswer);
        worker.once("error", reject);
      });
      await worker.terminate();
      expect(answer).toBe(9);
    } finally {
      await rm(outFile, { force: true });
    }
  });
});
