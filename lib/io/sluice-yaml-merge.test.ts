import { parse } from "yaml";
import { mergeConnections, type ConnectionToWrite } from "./sluice-yaml-merge";
import { parseProfiles } from "./profiles";
import { clearSecrets } from "./redact";

afterAll(() => clearSecrets());

const lake: ConnectionToWrite = {
  name: "lake",
  profile: { kind: "gcs", bucket: "zoomcamp-demo-123-lake", project_id: "zoomcamp-demo-123", credentials_file: ".sluice/keys/gcp-key.json" },
  removeKeys: ["credentials_json"],
};
const warehouse: ConnectionToWrite = {
  name: "warehouse",
  profile: { kind: "bigquery", project_id: "zoomcamp-demo-123", dataset: "zoomcamp", location: "US", credentials_file: ".sluice/keys/gcp-key.json" },
  removeKeys: ["credentials_json"],
};

const HAND_WRITTEN = `# Connections of the taxi project
connections:
  # the Postgres of docker-compose
  pg:
    kind: postgres
    url: "{{ env_var('DATABASE_URL') }}"   # from .env
  lake:
    kind: gcs   # the lake
    bucket: old-bucket
    api_endpoint: http://127.0.0.1:4443   # fake-gcs-server while developing
    credentials_json: "{{ env_var('GCP_KEY_JSON') }}"
retention:
  keep: 30d
`;

describe("mergeConnections", () => {
  test("no file yet: a sluice.yaml with both connections that the loader accepts", () => {
    const result = mergeConnections(null, "sluice.yaml", [lake, warehouse]);
    expect(result.created).toEqual(["lake", "warehouse"]);
    expect(parseProfiles(result.text, "sluice.yaml", {}).connections).toEqual({ lake: lake.profile, warehouse: warehouse.profile });
  });

  test("an existing file keeps its comments, env_var strings, other connections and other keys", () => {
    const result = mergeConnections(HAND_WRITTEN, "sluice.yaml", [lake, warehouse]);
    expect(result).toMatchObject({ created: ["warehouse"], updated: ["lake"] });
    for (const kept of ["# Connections of the taxi project", "# the Postgres of docker-compose", `url: "{{ env_var('DATABASE_URL') }}"`, "# from .env", "# the lake", "# fake-gcs-server while developing", "retention:\n  keep: 30d"]) {
      expect(result.text).toContain(kept);
    }
    const value = parse(result.text);
    expect(value.connections.lake).toEqual({ kind: "gcs", bucket: "zoomcamp-demo-123-lake", api_endpoint: "http://127.0.0.1:4443", project_id: "zoomcamp-demo-123", credentials_file: ".sluice/keys/gcp-key.json" });
    expect(value.connections.warehouse).toEqual(warehouse.profile);
    expect(value.connections.pg).toEqual({ kind: "postgres", url: "{{ env_var('DATABASE_URL') }}" });
    expect(Object.keys(value)).toEqual(["connections", "retention"]);
  });

  test("merging twice changes nothing the second time", () => {
    const once = mergeConnections(HAND_WRITTEN, "sluice.yaml", [lake, warehouse]).text;
    expect(mergeConnections(once, "sluice.yaml", [lake, warehouse]).text).toBe(once);
  });

  test("without a key to write, existing credentials stay", () => {
    const noKey: ConnectionToWrite = { name: "lake", profile: { kind: "gcs", bucket: "b", project_id: "p" } };
    const value = parse(mergeConnections(HAND_WRITTEN, "sluice.yaml", [noKey]).text);
    expect(value.connections.lake.credentials_json).toBe("{{ env_var('GCP_KEY_JSON') }}");
  });

  test("an empty file, a comment-only file and `connections:` with nothing under it", () => {
    for (const text of ["", "# my project\n", "connections:\n"]) {
      const result = mergeConnections(text, "sluice.yaml", [warehouse]);
      expect(parse(result.text)).toEqual({ connections: { warehouse: warehouse.profile } });
      if (text.startsWith("#")) expect(result.text).toContain("# my project");
    }
  });

  test("a connection of that name and another kind is not overwritten: located error", () => {
    const text = "connections:\n  lake:\n    kind: postgres\n    host: db\n";
    expect(() => mergeConnections(text, "sluice.yaml", [lake])).toThrow('sluice.yaml:3:5: connection "lake" is a postgres connection, not gcs; it was left as it is (write the new connections under other names)');
  });

  test("files it must not touch: broken YAML, a list at the top, connections as a list", () => {
    expect(() => mergeConnections("connections:\n  lake: [\n", "sluice.yaml", [lake])).toThrow(/^sluice\.yaml:\d+:\d+: invalid YAML/);
    expect(() => mergeConnections("- a\n- b\n", "sluice.yaml", [lake])).toThrow("sluice.yaml: the top level is not a map of settings");
    expect(() => mergeConnections("connections:\n  - lake\n", "sluice.yaml", [lake])).toThrow("sluice.yaml:2:3: connections is not a map of named connections");
  });
});
