/**
 * Bad input, end to end: one pipeline of six independent blocks, each
 * meeting one kind of bad input through `ctx.io`, run by the real `sluice` command. Each block must fail
 * with a message naming the block (the CLI's `<block>: failed` line) and the source (URL, file, server,
 * table), and no half-written table may be left in Postgres. The connector-level details of the same cases
 * are in lib/io/http.test.ts, files.test.ts and postgres.test.ts.
 */
import fs from "node:fs";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer, type AddressInfo, type Server } from "node:net";
import os from "node:os";
import path from "node:path";
import { Client } from "pg";
import { runSluice, type SluiceResult } from "../sluice-process";
import { taxiDataDir } from "../taxi-data";
import { writePipeline } from "../write-pipeline";

jest.setTimeout(300_000);

const PG_URL = "postgres://postgres@127.0.0.1:5432/test";
const GREEN = path.join(taxiDataDir(), "green_tripdata_2020-10.csv.gz");

function sluice(projectDir: string, args: string[]): Promise<SluiceResult> {
  return runSluice(projectDir, args, { PG_URL });
}

/** Speaks just enough of the Postgres protocol to ask for a password and reject it with SQLSTATE 28P01 (the shared Postgres trusts every local login). */
async function passwordRejectingServer(): Promise<Server> {
  const server = createServer((socket) => {
    let stage = 0;
    socket.on("error", () => undefined);
    socket.on("data", () => {
      if (stage++ === 0) {
        const auth = Buffer.alloc(9);
        auth.write("R", 0);
        auth.writeInt32BE(8, 1);
        auth.writeInt32BE(3, 5); // AuthenticationCleartextPassword
        socket.write(auth);
        return;
      }
      const fields = Buffer.from('SFATAL\0C28P01\0Mpassword authentication failed for user "alice"\0\0');
      const head = Buffer.alloc(5);
      head.write("E", 0);
      head.writeInt32BE(4 + fields.length, 1);
      socket.end(Buffer.concat([head, fields]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Each block: read a bad source, then write what it read to Postgres table `<schema>.<block>`. */
const BLOCKS: Record<string, string> = {
  unreachable_host: `const t = await ctx.io.http.read(\`http://127.0.0.1:\${ctx.variables.closed_port}/green.csv.gz\`);`,
  http_404: `const t = await ctx.io.http.read(\`\${ctx.variables.base}/missing.csv.gz\`);`,
  truncated_gz: `const t = await ctx.io.http.read(\`\${ctx.variables.base}/truncated.csv.gz\`);`,
  wrong_column_count: `const t = await ctx.io.files.read("bad.csv");`,
  wrong_password: `const t = tableFromArrays({ n: Int32Array.from([1, 2]) });\n  await ctx.io.postgres("badpw").write(t, "wrong_password");`,
  table_exists: `const t = tableFromArrays({ n: Int32Array.from([1, 2]) });\n  await ctx.io.postgres().write(t, "existing", { mode: "fail" });`,
};

/**
 * A replace whose source fails half-way: the first batch of the real October file is already in the COPY
 * when the truncated download fails. The old table must survive whole, with no staging table beside it.
 */
const MIDWAY = `import { tableFromArrays, type RecordBatch, type Table } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";

export default async function load(ctx: BlockContext): Promise<Table> {
  const good = await ctx.io.files.read(${JSON.stringify(GREEN)});
  async function* batches(): AsyncGenerator<RecordBatch> {
    yield good.batches[0];
    const rest = await ctx.io.http.read(\`\${ctx.variables.base}/truncated.csv.gz\`);
    yield* rest.batches;
  }
  await ctx.io.postgres().write(batches(), "existing_green", { mode: "replace" });
  return tableFromArrays({ never: Int32Array.from([0]) });
}
`;

describe("bad input through ctx.io: a clear error naming the block and the source, and no half-written table", () => {
  let projectDir: string;
  let http: HttpServer;
  let fakePg: Server;
  let pg: Client;
  const schema = `bad_input_${process.pid}_${Date.now()}`;

  beforeAll(async () => {
    const gz = fs.readFileSync(GREEN);
    http = createHttpServer((req, res) => {
      if (req.url === "/truncated.csv.gz") {
        res.writeHead(200, { "content-type": "application/gzip" });
        res.end(gz.subarray(0, Math.floor(gz.length / 2)));
        return;
      }
      res.writeHead(404).end("not found");
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    fakePg = await passwordRejectingServer();
    pg = new Client({ connectionString: PG_URL });
    await pg.connect();
    await pg.query(`CREATE SCHEMA "${schema}"`);
    await pg.query(`CREATE TABLE "${schema}".existing (n int4); INSERT INTO "${schema}".existing VALUES (41), (42), (43)`);
    await pg.query(`CREATE TABLE "${schema}".existing_green (old text); INSERT INTO "${schema}".existing_green VALUES ('kept')`);

    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-bad-input-"));
    const pgPort = (fakePg.address() as AddressInfo).port;
    fs.writeFileSync(
      path.join(projectDir, "sluice.yaml"),
      [
        "connections:",
        `  default: { kind: postgres, url: "{{ env_var('PG_URL') }}", schema: ${schema} }`,
        `  badpw: { kind: postgres, url: "postgres://alice:Sup3rSecret-pw@127.0.0.1:${pgPort}/test" }`,
        "  web: { kind: http, retries: 1 }",
        "  local: { kind: files, root: data }",
        "",
      ].join("\n"),
    );
    fs.mkdirSync(path.join(projectDir, "data"));
    fs.writeFileSync(path.join(projectDir, "data", "bad.csv"), ["a,b", ...Array.from({ length: 3000 }, (_, i) => `${i},${i}`), "1,2,3", "4,5"].join("\n"));
    const names = [...Object.keys(BLOCKS), "replace_fails_midway"];
    const yaml =
      "version: 1\nname: bad_input\nblocks:\n" + names.map((name) => `  - { name: ${name}, type: loader, language: ts, upstream: [], retries: { count: 0 } }\n`).join("");
    const files: Record<string, string> = { "replace_fails_midway.ts": MIDWAY };
    for (const [name, body] of Object.entries(BLOCKS)) {
      files[`${name}.ts`] = `import { tableFromArrays, type Table } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";

export default async function load(ctx: BlockContext): Promise<Table> {
  ${body}
  await ctx.io.postgres().write(t, ${JSON.stringify(name)});
  return t;
}
`;
    }
    writePipeline(projectDir, "bad_input", yaml, files);
  });

  afterAll(async () => {
    await pg?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pg?.end();
    http?.close();
    fakePg?.close();
    if (projectDir) fs.rmSync(projectDir, { recursive: true, force: true });
  });

  it("every block fails with the block and the source named; Postgres holds only the tables it had", async () => {
    const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const closed = await closedPort();
    const run = await sluice(projectDir, ["run", "bad_input", "--var", `base=${base}`, "--var", `closed_port=${closed}`]);
    expect(run.code).toBe(1);
    const lines = run.stdout.split("\n");
    /** The message the CLI printed under `<block>: failed`. */
    const failure = (block: string): string => {
      const at = lines.findIndex((line) => line.startsWith(`${block}: failed`));
      if (at < 0) throw new Error(`no "${block}: failed" line in:\n${run.stdout}`);
      return lines[at + 1].trim();
    };
    expect(failure("unreachable_host")).toMatch(new RegExp(`^GET http://127\\.0\\.0\\.1:${closed}/green\\.csv\\.gz: cannot reach the server \\(.*ECONNREFUSED`));
    expect(failure("http_404")).toBe(`GET ${base}/missing.csv.gz: HTTP 404 Not Found`);
    expect(failure("truncated_gz")).toContain(`GET ${base}/truncated.csv.gz: the .gz file is truncated or damaged`);
    expect(failure("wrong_column_count")).toMatch(/bad\.csv: CSV line 3002: expected 2 columns, found 3/);
    expect(failure("wrong_password")).toMatch(/^postgres "badpw" \(alice@127\.0\.0\.1:\d+\/test\): connect: authentication failed/);
    expect(failure("table_exists")).toMatch(new RegExp(`^postgres "default" ${schema}\\.existing already exists \\(mode: fail\\)`));
    expect(failure("replace_fails_midway")).toContain(`GET ${base}/truncated.csv.gz: the .gz file is truncated or damaged`);
    expect(run.stdout).not.toContain("Sup3rSecret-pw");

    const tables = (await pg.query("SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1", [schema])).rows.map((r: { table_name: string }) => r.table_name);
    expect(tables).toEqual(["existing", "existing_green"]);
    expect((await pg.query(`SELECT array_agg(n ORDER BY n) AS ns FROM "${schema}".existing`)).rows[0].ns).toEqual([41, 42, 43]);
    expect((await pg.query(`SELECT old FROM "${schema}".existing_green`)).rows).toEqual([{ old: "kept" }]);
  });
});
