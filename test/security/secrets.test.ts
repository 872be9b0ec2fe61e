/**
 * Secrets stay secret: a block prints every kind of secret Sluice knows about — a profile's secret field, a
 * value `{{ env_var() }}` put into sluice.yaml, the private key inside a service-account JSON, a `.env` value
 * and a secret environment variable (both read with ctx.env), a pipeline variable declared secret — through
 * ctx.log, console.log, JSON and URL encoding, and a thrown error (message and stack). None of them may
 * appear in any sink: the CLI's output (human and --json) of a real `sluice run`, the log files, the metadata
 * database (the SQLite file and PostgreSQL rows), and from a real `sluice start` the SSE events, the run API
 * and the logs API.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Client } from "pg";
import { parsePipelineYaml, serializePipeline } from "../../lib/core/pipeline-schema";
import { Redactor } from "../../lib/io/redact";
import { dropSchema, freshSchemaName, TEST_DATABASE_URL } from "../../lib/store/metadata/pg-test-database";
import { startSluice, type StartedServer } from "../../e2e/server";
import { REPO_ROOT } from "../taxi-data";

jest.setTimeout(300_000);

const PRIVATE_KEY_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7skq0test";
const PRIVATE_KEY = `-----BEGIN PRIVATE KEY-----\n${PRIVATE_KEY_BODY}\n-----END PRIVATE KEY-----\n`;
const SECRETS = {
  profileField: "prof-s3-secret-7f3a9c",
  envVarValue: "envvar-pg-pass-51be2d",
  dotenvValue: "dotenv-hook-8c21e0",
  ctxEnvValue: "ctxenv-token-39d7aa",
  secretVariable: "variable-key-a41f06",
};
/** Every text that must never show: each secret, and the key's body however the block printed it. */
const FORBIDDEN = [...Object.values(SECRETS), PRIVATE_KEY_BODY];

const SLUICE_YAML = `connections:
  raw:
    kind: s3
    bucket: raw
    access_key_id: local-access-id
    secret_access_key: ${SECRETS.profileField}
  warehouse:
    kind: postgres
    host: 127.0.0.1
    user: postgres
    database: test
    password: "{{ env_var('SEC_WAREHOUSE_PASS') }}"
  lake:
    kind: gcs
    bucket: lake
    credentials_json: '${JSON.stringify({ type: "service_account", client_email: "etl@p.iam.gserviceaccount.com", private_key: PRIVATE_KEY })}'
`;

const PIPELINE_YAML = `version: 1
name: secret_leak
variables:
  api_key: ""
  wait_ms: 0
secret_variables: [api_key]
blocks:
  - name: leak
    type: loader
    language: ts
    upstream: []
`;

/** A block that does everything it should not with the secrets it can reach. */
const LEAK_TS = `import type { BlockContext } from "@sluice/sdk";

export default async function load(ctx: BlockContext) {
  await new Promise((resolve) => setTimeout(resolve, Number(ctx.variables.wait_ms)));
  const secrets: Record<string, string> = {
    profileField: ${JSON.stringify(SECRETS.profileField)},
    envVarValue: ${JSON.stringify(SECRETS.envVarValue)},
    privateKey: ${JSON.stringify(PRIVATE_KEY)},
    dotenvValue: ctx.env("DOTENV_WEBHOOK") ?? "missing .env value",
    ctxEnvValue: ctx.env("SEC_SERVICE_TOKEN") ?? "missing env value",
    secretVariable: String(ctx.variables.api_key),
  };
  for (const [kind, value] of Object.entries(secrets)) {
    ctx.log.info("ctx.log " + kind + ": " + value);
    console.log("console " + kind + ": " + value);
    console.warn("encoded " + kind + ": " + encodeURIComponent(value));
  }
  console.log(JSON.stringify(secrets));
  throw new Error("could not connect with " + Object.values(secrets).join(" and "));
}
`;

function writeProject(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-secrets-"));
  fs.writeFileSync(path.join(dir, "sluice.yaml"), SLUICE_YAML);
  fs.writeFileSync(path.join(dir, ".env"), `DOTENV_WEBHOOK=${SECRETS.dotenvValue}\n`);
  fs.mkdirSync(path.join(dir, "pipelines", "secret_leak"), { recursive: true });
  fs.writeFileSync(path.join(dir, "pipelines", "secret_leak", "pipeline.yaml"), PIPELINE_YAML);
  fs.writeFileSync(path.join(dir, "pipelines", "secret_leak", "leak.ts"), LEAK_TS);
  return dir;
}

const SECRET_ENV = { SEC_WAREHOUSE_PASS: SECRETS.envVarValue, SEC_SERVICE_TOKEN: SECRETS.ctxEnvValue };

function sluiceRun(projectDir: string, args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [path.join(REPO_ROOT, "bin", "sluice.cjs"), "run", "secret_leak", "--var", `api_key=${SECRETS.secretVariable}`, ...args], {
    cwd: projectDir,
    env: { ...process.env, SLUICE_PROJECT_DIR: projectDir, ...SECRET_ENV, ...env },
    encoding: "utf8",
    timeout: 240_000,
  });
  return { code: result.status, output: `${result.stdout}\n${result.stderr}`, stdout: result.stdout };
}

function expectNoSecret(text: string, where: string): void {
  for (const secret of FORBIDDEN) {
    if (text.includes(secret)) throw new Error(`${where} shows the secret ${secret}:\n${text.slice(0, 4000)}`);
  }
}

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? filesUnder(path.join(dir, entry.name)) : [path.join(dir, entry.name)]));
}

describe("the Redactor", () => {
  it("hides registered values by name, JSON-escaped and URL-encoded, and credentials by their shape; ignores short values", () => {
    const redactor = new Redactor();
    redactor.register("s3cr3t value/\"x\"", "API_KEY");
    redactor.register(PRIVATE_KEY);
    redactor.register("short");
    const text = `plain s3cr3t value/"x" json ${JSON.stringify({ k: 's3cr3t value/"x"' })} url ${encodeURIComponent('s3cr3t value/"x"')} key ${JSON.stringify(PRIVATE_KEY)} line ${PRIVATE_KEY_BODY} short`;
    const shown = redactor.redact(text);
    expect(shown).toBe(`plain [secret:API_KEY] json {"k":"[secret:API_KEY]"} url [secret:API_KEY] key "***" line *** short`);
    expect(redactor.redact("postgres://etl:hunter22@db/x password=abc123 Bearer tok.en")).toBe("postgres://etl:***@db/x password=*** Bearer ***");
    // A mask is never mistaken for a `secret: value` pair, and a secret next to a credential shape stays whole.
    expect(redactor.redact('token=s3cr3t value/"x"')).toBe("token=[secret:API_KEY]");
    // Sinks redact text that was redacted already: a second pass changes nothing.
    expect(redactor.redact(shown)).toBe(shown);
  });

  it("rewrites an error's message and stack in place, keeping its class", () => {
    const redactor = new Redactor();
    redactor.register("in-the-error-123", "TOKEN");
    class RetryableError extends Error {}
    const error = new RetryableError("failed with in-the-error-123", { cause: new Error("cause in-the-error-123") });
    expect(redactor.redactError(error)).toBe(error);
    expect(error).toBeInstanceOf(RetryableError);
    expect(error.message).toBe("failed with [secret:TOKEN]");
    expect(error.stack).toContain("failed with [secret:TOKEN]");
    expect(String((error.cause as Error).message)).toBe("cause [secret:TOKEN]");
  });

  it("reads and writes secret_variables in pipeline.yaml (files without it are unchanged)", () => {
    const pipeline = parsePipelineYaml(PIPELINE_YAML, "pipeline.yaml");
    expect(pipeline.secretVariables).toEqual(["api_key"]);
    expect(serializePipeline(pipeline)).toContain("secret_variables: [api_key]");
    expect(parsePipelineYaml(serializePipeline(pipeline), "pipeline.yaml")).toEqual(pipeline);
    const plain = parsePipelineYaml(PIPELINE_YAML.replace("secret_variables: [api_key]\n", ""), "pipeline.yaml");
    expect(plain.secretVariables).toBeUndefined();
    expect(serializePipeline(plain)).not.toContain("secret_variables");
    expect(() => parsePipelineYaml(PIPELINE_YAML.replace("[api_key]", "api_key"), "pipeline.yaml")).toThrow(/pipeline.yaml:6:\d+: secret_variables/);
  });
});

describe("no sink shows a secret", () => {
  let projectDir: string;

  beforeAll(() => {
    projectDir = writeProject();
  });
  afterAll(() => fs.rmSync(projectDir, { recursive: true, force: true }));

  it("sluice run (human and --json), its log files and the SQLite database", () => {
    const human = sluiceRun(projectDir, []);
    expect(human.output).toMatch(/secret_leak: run \S+ failed/);
    expectNoSecret(human.output, "sluice run output");
    // The block did print: every kind shows as its mask.
    expect(human.output).toContain("ctx.log secretVariable: [secret:api_key]");
    expect(human.output).toContain("console ctxEnvValue: [secret:SEC_SERVICE_TOKEN]");
    expect(human.output).toContain("console dotenvValue: [secret:DOTENV_WEBHOOK]");
    expect(human.output).toContain("ctx.log profileField: ***");
    expect(human.output).toContain("could not connect with");

    const json = sluiceRun(projectDir, ["--json"]);
    expectNoSecret(json.output, "sluice run --json output");
    const summary = JSON.parse(json.stdout) as { blocks: { name: string; status: string; error?: string }[] };
    expect(summary.blocks[0]).toMatchObject({ name: "leak", status: "failed" });
    expect(summary.blocks[0].error).toContain("[secret:api_key]");

    const logs = filesUnder(path.join(projectDir, ".sluice", "logs"));
    expect(logs.length).toBeGreaterThanOrEqual(2);
    const logText = logs.map((file) => fs.readFileSync(file, "utf8")).join("\n");
    expectNoSecret(logText, "the log files");
    expect(logText).toContain("[secret:SEC_SERVICE_TOKEN]");

    const database = filesUnder(path.join(projectDir, ".sluice")).filter((file) => /sluice\.db/.test(file));
    expect(database.length).toBeGreaterThan(0);
    const databaseText = database.map((file) => fs.readFileSync(file).toString("latin1")).join("\n");
    expectNoSecret(databaseText, "the SQLite database");
    expect(databaseText).toContain("[secret:api_key]");
  });

  it("sluice run with PostgreSQL metadata: no row holds a secret", async () => {
    const schema = freshSchemaName("sluice_secrets");
    const admin = new Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    try {
      await admin.query(`CREATE SCHEMA "${schema}"`);
      const url = `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
      const run = sluiceRun(projectDir, ["--json"], { DATABASE_URL: url });
      expect(run.stdout).toContain('"status":"failed"');
      expectNoSecret(run.output, "sluice run --json output (PostgreSQL)");
      const { rows: tables } = await admin.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = $1", [schema]);
      expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(["runs"]));
      let all = "";
      for (const { table_name: table } of tables) {
        const { rows } = await admin.query(`SELECT * FROM "${schema}"."${table}"`);
        all += JSON.stringify(rows);
      }
      expectNoSecret(all, "the PostgreSQL rows");
      expect(all).toContain("[secret:api_key]");
      expect(all).toContain("could not connect with");
    } finally {
      await admin.end();
      await dropSchema(schema);
    }
  });

  describe("sluice start", () => {
    let server: StartedServer;

    beforeAll(async () => {
      server = await startSluice(projectDir, [], SECRET_ENV);
    }, 300_000);
    afterAll(async () => server?.stop());

    it("SSE events, GET /api/runs/:id and the logs API", async () => {
      const started = await fetch(`${server.url}/api/pipelines/secret_leak/runs`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Origin: server.url },
        body: JSON.stringify({ variables: { api_key: SECRETS.secretVariable, wait_ms: 1500 } }),
      });
      expect(started.status).toBe(201);
      const { run_id: runId } = (await started.json()) as { run_id: string };
      const events = await (await fetch(`${server.url}/api/runs/${runId}/events`)).text();
      expectNoSecret(events, "the SSE events");
      expect(events).toContain("[secret:api_key]");
      expect(events).toMatch(/"type":"log"/);

      const run = await (await fetch(`${server.url}/api/runs/${runId}`)).text();
      expectNoSecret(run, "GET /api/runs/:id");
      expect(run).toContain("[secret:api_key]");
      const logs = await (await fetch(`${server.url}/api/runs/${runId}/blocks/leak/logs`)).text();
      expectNoSecret(logs, "the logs API");
      expect(logs).toContain("[secret:DOTENV_WEBHOOK]");
      expectNoSecret(server.output(), "the server's own output");
    });
  });
});
