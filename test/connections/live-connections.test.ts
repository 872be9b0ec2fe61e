/**
 * The connections of a project folder as the connections page edits them, on real files with the real
 * Postgres (127.0.0.1:5432): hand-written comments survive every edit, secrets never leave masked (and a
 * secret not re-typed stays in the file as it was, `env_var()` references included), an invalid edit is
 * refused with the field it is about and the file untouched, a file changed behind the server's back is
 * picked up without a restart (a broken one keeps the last good connections and says where it is broken),
 * and a run started after a change uses the new connection.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Redactor } from "../../lib/io/redact";
import { LiveConnections } from "../../lib/server/live-connections";
import { createServices, type Services } from "../../lib/server/services";
import { writePipeline } from "../write-pipeline";

jest.setTimeout(120_000);

const SECRET = "s3cr3t-live-conn-7f3a9";
const NEW_SECRET = "s3cr3t-typed-in-form-4c1d";

const HAND_WRITTEN = `# Connections of the taxi project
connections:
  # the warehouse everyone shares
  warehouse:
    kind: postgres
    host: 127.0.0.1 # not localhost: IPv4 only here
    port: 5432
    database: test
    user: postgres
    password: "{{ env_var('LIVE_CONN_PG_PASSWORD') }}"
  lake:
    kind: files
    root: data
other_setting: keep me # not a connection
`;

/** Resolves once `check` passes (a file watch is asynchronous), failing with the last error after `ms`. */
async function eventually(check: () => void | Promise<void>, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > until) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

describe("connections of a project folder (real files, real Postgres)", () => {
  let projectDir: string;
  let services: Services;
  const yamlPath = () => path.join(projectDir, "sluice.yaml");
  const read = () => fs.readFileSync(yamlPath(), "utf8");

  beforeAll(async () => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-connections-"));
    fs.writeFileSync(yamlPath(), HAND_WRITTEN);
    fs.writeFileSync(path.join(projectDir, ".env"), `LIVE_CONN_PG_PASSWORD=${SECRET}\n`);
    fs.mkdirSync(path.join(projectDir, "data"));
    writePipeline(projectDir, "uses_pg", "version: 1\nname: uses_pg\nblocks:\n  - { name: ask, type: loader, language: ts, upstream: [] }\n", {
      "ask.ts": `export default async function ask(ctx) {\n  return ctx.io.postgres("reporting").read("SELECT 41 + 1 AS answer");\n}\n`,
    });
    services = await createServices({ projectDir, poolSize: 1, defaultTimeoutMs: 60_000 });
  });

  afterAll(async () => {
    await services?.close();
    if (projectDir) fs.rmSync(projectDir, { recursive: true, force: true });
  });

  it("lists every connection with plain fields as written and secrets only as set, naming the env var", async () => {
    const listing = await services.connections.list();
    expect(listing.file).toBe(yamlPath());
    expect(listing.problem).toBeNull();
    expect(listing.connections.map((c) => [c.name, c.kind, c.line])).toEqual([
      ["warehouse", "postgres", 4],
      ["lake", "files", 11],
    ]);
    expect(listing.connections[0]).toMatchObject({
      fields: { host: "127.0.0.1", port: 5432, database: "test", user: "postgres" },
      secrets: { password: { set: true, env_var: "LIVE_CONN_PG_PASSWORD" } },
    });
    expect(listing.kinds.map((k) => k.kind)).toEqual(["postgres", "duckdb", "gcs", "s3", "bigquery", "http", "files"]);
    const postgresFields = listing.kinds[0].fields;
    expect(postgresFields.find((f) => f.key === "password")).toMatchObject({ type: "string", secret: true });
    expect(postgresFields.find((f) => f.key === "port")).toMatchObject({ type: "number", secret: false, default: "5432" });
    expect(JSON.stringify(listing)).not.toContain(SECRET);
  });

  it("adds a connection with a typed secret: comments and other keys stay, the answer holds no secret", async () => {
    const answer = await services.connections.put("reporting", {
      kind: "postgres",
      fields: { host: "127.0.0.1", port: 5432, database: "test", user: "postgres", password: NEW_SECRET },
    });
    expect(answer.created).toBe(true);
    expect(answer.connection.secrets.password).toEqual({ set: true, env_var: null });
    expect(JSON.stringify(answer)).not.toContain(NEW_SECRET);
    const text = read();
    expect(text.startsWith(HAND_WRITTEN.replace("other_setting: keep me # not a connection\n", ""))).toBe(true);
    expect(text).toContain("other_setting: keep me # not a connection");
    expect(text).toContain(`    password: ${NEW_SECRET}\n`);
    // Registered with the redactor at once: a later error quoting it shows the mask.
    expect(services.redactor.redact(`failed with ${NEW_SECRET}`)).not.toContain(NEW_SECRET);
  });

  it("edits a connection without re-typing its secret: the env_var() reference and the comments stay", async () => {
    await services.connections.put("warehouse", { kind: "postgres", fields: { host: "127.0.0.1", port: 5432, database: "test", user: "postgres", schema: "analytics" } });
    const text = read();
    expect(text).toContain(`    password: "{{ env_var('LIVE_CONN_PG_PASSWORD') }}"\n`);
    expect(text).toContain("    host: 127.0.0.1 # not localhost: IPv4 only here\n");
    expect(text).toContain("  # the warehouse everyone shares\n");
    expect(text).toContain("    schema: analytics\n");
    const warehouse = await services.connections.get("warehouse");
    expect(warehouse.fields.schema).toBe("analytics");
    expect(services.connections.profiles.connections.warehouse).toMatchObject({ kind: "postgres", schema: "analytics", password: SECRET });
  });

  it("clears a secret only when asked, and removes a plain field left empty", async () => {
    await services.connections.put("warehouse", { kind: "postgres", fields: { host: "127.0.0.1", port: 5432, database: "test", user: "postgres", schema: "" }, clear: ["password"] });
    const warehouse = await services.connections.get("warehouse");
    expect(warehouse.secrets.password).toBeUndefined();
    expect(warehouse.fields.schema).toBeUndefined();
    expect(read()).not.toContain("LIVE_CONN_PG_PASSWORD");
  });

  it("refuses an edit based on an older read, and an add over an existing name", async () => {
    const read1 = await services.connections.get("warehouse");
    await services.connections.put("warehouse", { kind: "postgres", fields: { ...read1.fields, user: "someone_else" } }, read1.version);
    const before = read();
    await expect(services.connections.put("warehouse", { kind: "postgres", fields: read1.fields }, read1.version)).rejects.toMatchObject({
      code: "stale_version",
      message: 'sluice.yaml: connection "warehouse" changed since this page read it (by hand or in another tab); reload to see it',
      currentVersion: (await services.connections.get("warehouse")).version,
    });
    await expect(services.connections.remove("warehouse", read1.version)).rejects.toMatchObject({ code: "stale_version" });
    await expect(services.connections.put("warehouse", { kind: "duckdb", fields: {} }, "new")).rejects.toMatchObject({ code: "already_exists", message: expect.stringContaining('a connection "warehouse" exists already (line 4)') });
    expect(read()).toBe(before);
    await services.connections.put("warehouse", { kind: "postgres", fields: read1.fields });
  });

  it("refuses an invalid edit with the field and file:line it is about, leaving the file as it was", async () => {
    const before = read();
    const refused = services.connections.put("warehouse", { kind: "postgres", fields: { host: "127.0.0.1", port: 99999, databse: "test" } });
    await expect(refused).rejects.toMatchObject({ code: "invalid_connection", kind: "user" });
    const error: unknown = await refused.catch((caught: unknown) => caught);
    const details = (error as { details: { errors: Array<{ field: string | null; message: string }> } }).details;
    expect(details.errors.map((e) => e.field)).toEqual(["port", "databse"]);
    expect(details.errors[0].message).toMatch(/^sluice\.yaml:\d+:\d+: connections\.warehouse\.port: /);
    expect(details.errors[1].message).toContain('unknown key "databse" (did you mean "database"?)');
    expect(read()).toBe(before);
  });

  it("tests the saved connection against the real Postgres, and a closed port with a precise error", async () => {
    const ok = await services.connections.test("reporting");
    expect(ok).toMatchObject({ ok: true, message: expect.stringMatching(/^postgres "reporting": connected to 127\.0\.0\.1:5432\/test, SELECT 1 answered \(PostgreSQL \d+/) });
    // Unsaved form values: nothing is written.
    const before = read();
    const refused = await services.connections.test("reporting", { kind: "postgres", fields: { host: "127.0.0.1", port: 5433, database: "test", user: "postgres" } });
    expect(refused).toEqual({ ok: false, message: 'postgres "reporting": connection refused at 127.0.0.1:5433', elapsedMs: expect.any(Number) });
    expect(read()).toBe(before);
    expect(JSON.stringify([ok, refused])).not.toContain(NEW_SECRET);
    await expect(services.connections.test("nope")).rejects.toMatchObject({ code: "connection_not_found", message: 'sluice.yaml: no connection "nope" (known: warehouse, lake, reporting)' });
  });

  it("picks up a hand edit without a restart; a broken file keeps the last good connections and says where", async () => {
    fs.writeFileSync(yamlPath(), read().replace("  lake:\n    kind: files\n    root: data\n", "  lake:\n    kind: files\n    root: data\n  scratch:\n    kind: duckdb\n    path: ':memory:'\n"));
    await eventually(() => expect(services.connections.profiles.connections.scratch).toEqual({ kind: "duckdb", path: ":memory:" }));
    const good = services.connections.profiles.connections;
    fs.writeFileSync(yamlPath(), read().replace("    port: 5432\n    database: test\n    user: postgres\n    password: s3", "    port: fifty\n    database: test\n    user: postgres\n    password: s3"));
    await eventually(async () => expect((await services.connections.list()).problem).not.toBeNull());
    const { problem } = await services.connections.list();
    expect(problem?.message).toMatch(/^sluice\.yaml:\d+:\d+: connections\.reporting\.port: /);
    expect(problem?.line).toBeGreaterThan(10);
    expect(services.connections.profiles.connections).toBe(good);
    fs.writeFileSync(yamlPath(), read().replace("port: fifty", "port: 5432"));
    await eventually(async () => expect((await services.connections.list()).problem).toBeNull());
  });

  it("picks up a changed .env: an env_var() secret takes the new value, hidden from then on", async () => {
    const rotated = "s3cr3t-rotated-88aa01";
    await services.connections.put("rotated", { kind: "postgres", fields: { host: "127.0.0.1", password: "{{ env_var('LIVE_CONN_PG_PASSWORD') }}" } });
    expect((await services.connections.get("rotated")).secrets.password).toEqual({ set: true, env_var: "LIVE_CONN_PG_PASSWORD" });
    expect(services.connections.profiles.connections.rotated).toMatchObject({ password: SECRET });
    fs.writeFileSync(path.join(projectDir, ".env"), `LIVE_CONN_PG_PASSWORD=${rotated}\n`);
    await eventually(() => expect(services.connections.profiles.connections.rotated).toMatchObject({ password: rotated }));
    expect(services.redactor.redact(`connect as ${rotated}`)).not.toContain(rotated);
    await services.connections.remove("rotated");
  });

  it("a run started after the file changed uses the new connection (no restart)", async () => {
    await services.connections.remove("reporting");
    expect(read()).not.toContain("reporting:");
    const before = await services.runner.run({ pipeline: "uses_pg" });
    expect(before.state).toBe("failed");
    const failed = await services.runs.getRun(before.runId);
    expect(failed?.blockRuns[0].error?.message).toContain('sluice.yaml: no connection "reporting"');

    fs.writeFileSync(yamlPath(), `${read().replace("other_setting", "  reporting: { kind: postgres, host: 127.0.0.1, database: test, user: postgres }\nother_setting")}`);
    await eventually(() => expect(services.connections.profiles.connections.reporting).toBeDefined());
    const after = await services.runner.run({ pipeline: "uses_pg" });
    expect(after.state).toBe("success");
    expect(after.blocks[0].rows).toBe(1);
  });
});

describe("a project without sluice.yaml", () => {
  it("the first connection added creates the file; deleting it leaves the file valid", async () => {
    const projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-connections-empty-"));
    const live = await LiveConnections.open({ projectDir, dataDir: path.join(projectDir, ".sluice"), env: () => ({}), redactor: new Redactor() });
    try {
      expect(await live.list()).toMatchObject({ exists: false, connections: [], problem: null });
      expect(await live.put("scratch", { kind: "duckdb", fields: { path: ":memory:" } })).toMatchObject({ created: true, connection: { name: "scratch", kind: "duckdb", fields: { path: ":memory:" } } });
      expect(fs.readFileSync(path.join(projectDir, "sluice.yaml"), "utf8")).toBe('connections:\n  scratch:\n    kind: duckdb\n    path: ":memory:"\n');
      expect(live.profiles.connections).toEqual({ scratch: { kind: "duckdb", path: ":memory:" } });
      expect(await live.test("scratch")).toMatchObject({ ok: true, message: 'duckdb "scratch": opened an in-memory database (0 tables)' });
      await live.remove("scratch");
      expect(live.profiles.connections).toEqual({});
      await expect(live.remove("scratch")).rejects.toMatchObject({ code: "connection_not_found" });
      expect((await live.list()).problem).toBeNull();
    } finally {
      live.close();
      fs.rmSync(projectDir, { recursive: true, force: true });
    }
  });
});
