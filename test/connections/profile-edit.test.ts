/**
 * The pure half of the connections page: what a connection looks like to the browser (no secret value, ever),
 * how an edit keeps the secrets it did not re-type, and how the YAML document is edited so that what the user
 * wrote by hand survives.
 */
import { CONNECTION_KIND_NAMES } from "../../lib/core/api-contract";
import { CONNECTION_KINDS, connectionFields, connectionView, editedConnection, fieldOfPath } from "../../lib/io/profile-edit";
import { connectionProfileSchema } from "../../lib/io/profiles";
import { connectionEntries, removeConnection, replaceConnection } from "../../lib/io/sluice-yaml-merge";

const FILE = `# team connections
connections:
  pg:
    kind: postgres
    host: 'db.internal' # quoted on purpose
    password: "{{ env_var('PG_PASSWORD') }}"
    pasword: typo-s3cr3t
  old_url:
    kind: postgres
    url: postgres://u:url-s3cr3t@h/db
  api:
    kind: http
    base_url: https://bot:url-s3cr3t-2@api.test/v1/
    retries: 2
    headers: { Authorization: "Bearer tok-s3cr3t", X-Team: data }
`;

it("the API's kinds are the schema's kinds, and every kind has a form", () => {
  expect([...CONNECTION_KIND_NAMES].sort()).toEqual([...CONNECTION_KINDS].sort());
  expect(connectionProfileSchema.options.map((o) => o.shape.kind.value).sort()).toEqual([...CONNECTION_KINDS].sort());
  for (const kind of CONNECTION_KINDS) expect(connectionFields(kind).length).toBeGreaterThan(0);
  expect(connectionFields("s3").filter((f) => f.secret).map((f) => f.key)).toEqual(["access_key_id", "secret_access_key", "session_token"]);
  expect(connectionFields("http").find((f) => f.key === "headers")?.type).toBe("headers");
});

it("shows plain fields as written and reduces secrets, URLs and unknown keys to set / not set", () => {
  const views = connectionEntries(FILE).map((e) => connectionView(e.name, e.value));
  expect(views).toEqual([
    { name: "pg", kind: "postgres", fields: { host: "db.internal" }, secrets: { password: { set: true, env_var: "PG_PASSWORD" }, pasword: { set: true, env_var: null } }, headers: [], version: expect.stringMatching(/^[0-9a-f]{16}$/) },
    { name: "old_url", kind: "postgres", fields: {}, secrets: { url: { set: true, env_var: null } }, headers: [], version: expect.any(String) },
    {
      name: "api",
      kind: "http",
      fields: { retries: 2 },
      secrets: { base_url: { set: true, env_var: null } },
      headers: [
        { name: "Authorization", set: true, env_var: null },
        { name: "X-Team", set: true, env_var: null },
      ],
      version: expect.any(String),
    },
  ]);
  expect(JSON.stringify(views)).not.toMatch(/s3cr3t/);
});

it("an edit keeps stored secrets of the same kind, drops them for another kind, and keeps header values not re-typed", () => {
  const stored = connectionEntries(FILE);
  const pg = stored[0].value;
  expect(editedConnection(pg, { kind: "postgres", fields: { host: "db2", port: 5433 } })).toEqual({
    kind: "postgres",
    host: "db2",
    port: 5433,
    password: "{{ env_var('PG_PASSWORD') }}",
    pasword: "typo-s3cr3t",
  });
  expect(editedConnection(pg, { kind: "postgres", fields: { host: "db2" }, clear: ["pasword"] })).not.toHaveProperty("pasword");
  expect(editedConnection(pg, { kind: "duckdb", fields: { path: "wh.duckdb" } })).toEqual({ kind: "duckdb", path: "wh.duckdb" });
  expect(editedConnection(stored[2].value, { kind: "http", fields: { base_url: "https://x.test/" }, headers: [{ name: "Authorization" }, { name: "X-New", value: "v" }] })).toEqual({
    kind: "http",
    base_url: "https://x.test/",
    headers: { Authorization: "Bearer tok-s3cr3t", "X-New": "v" },
  });
  // A URL with credentials is hidden like a secret, so an edit that does not re-type it keeps it.
  expect(editedConnection(stored[2].value, { kind: "http", fields: { retries: 3 } })).toEqual({
    kind: "http",
    retries: 3,
    base_url: "https://bot:url-s3cr3t-2@api.test/v1/",
    headers: { Authorization: "Bearer tok-s3cr3t", "X-Team": "data" },
  });
});

it("edits the document in place: unchanged values keep their quoting and comments, deleted keys go, other kinds are replaced", () => {
  const value = editedConnection(connectionEntries(FILE)[0].value, { kind: "postgres", fields: { host: "db.internal", database: "taxi" }, clear: ["pasword"] });
  const { text, created } = replaceConnection(FILE, "sluice.yaml", "pg", value);
  expect(created).toBe(false);
  expect(text).toBe(FILE.replace("    pasword: typo-s3cr3t\n", "    database: taxi\n"));
  const replaced = replaceConnection(FILE, "sluice.yaml", "old_url", { kind: "duckdb", path: "x.duckdb" });
  expect(replaced.text).toContain("  old_url:\n    kind: duckdb\n    path: x.duckdb\n  api:");
  expect(replaceConnection(null, "sluice.yaml", "wh", { kind: "duckdb" })).toEqual({ text: "connections:\n  wh:\n    kind: duckdb\n", created: true });
});

it("removes one connection and nothing else; an unknown name is refused", () => {
  expect(removeConnection(FILE, "sluice.yaml", "old_url")).toBe(FILE.replace("  old_url:\n    kind: postgres\n    url: postgres://u:url-s3cr3t@h/db\n", ""));
  expect(() => removeConnection(FILE, "sluice.yaml", "nope")).toThrow('sluice.yaml: no connection "nope"');
});

it("maps a located error's key path to the form field", () => {
  expect(fieldOfPath("connections.pg.port", "pg")).toBe("port");
  expect(fieldOfPath("connections.api.headers.X", "api")).toBe("headers");
  expect(fieldOfPath("connections.pgx.port", "pg")).toBeNull();
  expect(fieldOfPath(undefined, "pg")).toBeNull();
});
