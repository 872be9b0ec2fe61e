/**
 * The sensor templates gating a block through the real `sluice run`: a file pattern, a GCS object (local
 * server), a Postgres query and a time of day. The run starts before the file, the object and the row exist;
 * the sensors poke until they do, and only then does the gated block run.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { Client } from "pg";
import { GcsConnector } from "../../lib/io/cloud/gcs";
import { runSluice } from "../sluice-process";
import { startGcsServer, type GcsServer } from "../servers/gcs-server";
import { REPO_ROOT } from "../taxi-data";
import { writePipeline } from "../write-pipeline";

jest.setTimeout(180_000);

const PG_URL = "postgres://postgres@127.0.0.1:5432/test";
const SENSORS = ["file_exists_sensor", "object_exists_sensor", "sql_true_sensor", "time_after_sensor"];

describe("templates/sensors gate a block", () => {
  const schema = `notify_sensor_${process.pid}`;
  const pg = new Client({ connectionString: PG_URL });
  let gcsServer: GcsServer;
  let gcs: GcsConnector;
  let projectDir: string;

  beforeAll(async () => {
    await pg.connect();
    await pg.query(`CREATE SCHEMA IF NOT EXISTS ${schema}; CREATE TABLE ${schema}.loads (day date)`);
    gcsServer = await startGcsServer();
    gcs = new GcsConnector({ name: "lake", projectId: "local-project", apiEndpoint: gcsServer.url });
    await gcs.storage.createBucket("lake");
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-sensors-"));
    fs.mkdirSync(path.join(projectDir, "incoming"));
    fs.writeFileSync(
      path.join(projectDir, "sluice.yaml"),
      `connections:\n  warehouse: { kind: postgres, url: "${PG_URL}" }\n  lake: { kind: gcs, project_id: local-project, api_endpoint: "${gcsServer.url}" }\n`,
    );
    const sensorBlocks = SENSORS.map((name) => `  - { name: ${name}, type: sensor, language: ts, upstream: [], poke_interval: 200ms, timeout: 90s }`).join("\n");
    writePipeline(
      projectDir,
      "gated",
      `version: 1
name: gated
variables:
  sensor_path: ${JSON.stringify(path.join(projectDir, "incoming", "green_*.csv"))}
  sensor_uri: gs://lake/green/_SUCCESS
  sensor_query: "SELECT count(*) > 0 FROM ${schema}.loads WHERE day = $1::date"
  sensor_after: "00:00"
  marker: ${JSON.stringify(path.join(projectDir, "gated.txt"))}
blocks:
${sensorBlocks}
  - { name: gated, type: exporter, language: ts, upstream: [${SENSORS.join(", ")}] }
`,
      {
        ...Object.fromEntries(SENSORS.map((name) => [`${name}.ts`, fs.readFileSync(path.join(REPO_ROOT, "templates/sensors", `${name}.ts`), "utf8")])),
        "gated.ts": `import fs from "node:fs";\nexport default async function save(_input, ctx) { fs.writeFileSync(String(ctx.variables.marker), String(Date.now())); }\n`,
      },
    );
  });

  afterAll(async () => {
    await pg.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pg.end();
    await gcs?.close();
    await gcsServer?.close();
    fs.rmSync(projectDir, { recursive: true, force: true });
  });

  test("each sensor pokes until its condition holds; the gated block runs after all of them", async () => {
    // A poking sensor holds its slot between pokes: four sensors at once need four slots.
    const running = runSluice(projectDir, ["run", "gated", "--json"], { SLUICE_POOL_SIZE: "5" });
    // Released only once every waiting sensor has logged a false poke.
    const logsDir = path.join(projectDir, ".sluice", "logs");
    const poked = (block: string): boolean =>
      fs.existsSync(logsDir) &&
      fs.readdirSync(logsDir).some((run) => {
        const file = path.join(logsDir, run, `${block}.1.jsonl`);
        return fs.existsSync(file) && fs.readFileSync(file, "utf8").includes("condition not met");
      });
    for (let waited = 0; !["file_exists_sensor", "object_exists_sensor", "sql_true_sensor"].every(poked); waited += 100) {
      if (waited > 90_000) throw new Error("the sensors never poked");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(fs.existsSync(path.join(projectDir, "gated.txt"))).toBe(false);
    const released = Date.now();
    fs.writeFileSync(path.join(projectDir, "incoming", "green_2020-10.csv"), "id\n1\n");
    await gcs.upload(Readable.from([Buffer.from("")]), "gs://lake/green/_SUCCESS", { size: 0 });
    await pg.query(`INSERT INTO ${schema}.loads VALUES (current_date)`);

    const result = await running;
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const run = JSON.parse(result.stdout) as { run_id: string; status: string; blocks: { name: string; status: string }[] };
    expect(run.blocks.map((b) => [b.name, b.status])).toEqual(expect.arrayContaining([...SENSORS, "gated"].map((name) => [name, "success"])));
    expect(Number(fs.readFileSync(path.join(projectDir, "gated.txt"), "utf8"))).toBeGreaterThanOrEqual(released);

    const log = (block: string) => fs.readFileSync(path.join(projectDir, ".sluice", "logs", run.run_id, `${block}.1.jsonl`), "utf8");
    for (const waiting of ["file_exists_sensor", "object_exists_sensor", "sql_true_sensor"]) expect(log(waiting)).toContain("condition not met");
    expect(log("time_after_sensor")).not.toContain("condition not met");
  });
});
