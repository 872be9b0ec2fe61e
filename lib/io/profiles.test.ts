import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDotEnv } from "./dotenv";
import { findProfile, loadProfiles, parseProfiles } from "./profiles";
import { clearSecrets, redact, redactUrl } from "./redact";

afterEach(() => clearSecrets());

describe("profiles", () => {
  const yaml = [
    "version: 1",
    "connections:",
    "  default:",
    "    kind: postgres",
    "    url: \"postgres://etl:{{ env_var('PG_PASSWORD') }}@db.internal:5432/taxi\"",
    "    schema: \"{{ env_var('PG_SCHEMA', 'staging') }}\"",
    "  lake:",
    "    kind: files",
    "    root: ./lake",
    "  api:",
    "    kind: http",
    "    headers:",
    "      Authorization: \"Bearer {{ env_var('API_TOKEN') }}\"",
    "",
  ].join("\n");

  it("interpolates env_var with defaults and leaves other top-level keys alone", () => {
    const profiles = parseProfiles(yaml, "sluice.yaml", { PG_PASSWORD: "p@ss w0rd!", API_TOKEN: "tok-123456" });
    const pg = findProfile(profiles, "postgres");
    expect(pg?.url).toBe("postgres://etl:p@ss w0rd!@db.internal:5432/taxi");
    expect(pg?.schema).toBe("staging");
    expect(findProfile(profiles, "files", "lake")?.root).toBe("./lake");
    expect(findProfile(profiles, "duckdb")).toBeUndefined();
  });

  it("registers every secret so that redact() hides it", () => {
    parseProfiles(yaml, "sluice.yaml", { PG_PASSWORD: "p@ss w0rd!", API_TOKEN: "tok-123456" });
    const message = "connect postgres://etl:p@ss w0rd!@db.internal failed; header Bearer tok-123456; p%40ss%20w0rd!";
    const shown = redact(message);
    expect(shown).not.toContain("p@ss w0rd!");
    expect(shown).not.toContain("tok-123456");
    expect(shown).not.toContain("p%40ss%20w0rd!");
    expect(redact("postgres://u:unregistered-pw@h/db password=hunter22 api_key: abcdef")).toBe("postgres://u:***@h/db password=*** api_key: ***");
    expect(redactUrl("https://user:pw1234@example.com/x.csv?X-Amz-Signature=abc&month=10")).toBe("https://user:***@example.com/x.csv?X-Amz-Signature=***&month=10");
  });

  it("names file, line and key of a missing variable, an unknown key and a bad kind", () => {
    expect(() => parseProfiles(yaml, "sluice.yaml", { API_TOKEN: "x" })).toThrow(
      "sluice.yaml:5:10: connections.default.url: environment variable PG_PASSWORD is not set (and has no default); set it or add it to .env",
    );
    const typo = "connections:\n  pg:\n    kind: postgres\n    hots: localhost\n    port: 'five'\n";
    expect(() => parseProfiles(typo, "sluice.yaml", {})).toThrow(/sluice\.yaml:4:5: connections\.pg\.hots: unknown key "hots" \(did you mean "host"\?\)/);
    expect(() => parseProfiles(typo, "sluice.yaml", {})).toThrow(/sluice\.yaml:5:11: connections\.pg\.port: expected a number/);
    expect(() => parseProfiles("connections:\n  x:\n    kind: mysql\n", "sluice.yaml", {})).toThrow(/sluice\.yaml:3:11/);
  });

  it("finds connections by name, the default, or the only one of a kind", () => {
    const profiles = parseProfiles("connections:\n  a:\n    kind: duckdb\n  b:\n    kind: duckdb\n  w:\n    kind: postgres\n", "sluice.yaml", {});
    expect(findProfile(profiles, "postgres")?.kind).toBe("postgres");
    expect(() => findProfile(profiles, "duckdb")).toThrow(/2 duckdb connections \(a, b\)/);
    expect(() => findProfile(profiles, "duckdb", "w")).toThrow(/connection "w" is postgres, not duckdb/);
    expect(() => findProfile(profiles, "postgres", "wx")).toThrow(/no connection "wx" \(did you mean "w"\?\)/);
  });

  it("loads sluice.yaml with .env, the process environment winning", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sluice-profiles-"));
    try {
      await writeFile(join(dir, "sluice.yaml"), "connections:\n  default:\n    kind: postgres\n    host: \"{{ env_var('PG_HOST') }}\"\n    user: \"{{ env_var('PG_USER') }}\"\n");
      await writeFile(join(dir, ".env"), "# local\nPG_HOST=from-dotenv\nexport PG_USER='dotenv user'\n");
      const profiles = await loadProfiles(dir, { PG_HOST: "from-env" });
      expect(findProfile(profiles, "postgres")).toEqual({ kind: "postgres", host: "from-env", user: "dotenv user" });
      expect(await loadProfiles(join(dir, "missing"), {})).toEqual({ file: null, connections: {} });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("parseDotEnv", () => {
  it("reads the usual forms", () => {
    const text = 'A=1\n export B = two words # comment\nC="multi\\nline \\"q\\""\nD=\'lit $x # not comment\'\n#E=no\nF="x\ny"\nG=\n';
    expect(parseDotEnv(text)).toEqual({ A: "1", B: "two words", C: 'multi\nline "q"', D: "lit $x # not comment", F: "x\ny", G: "" });
  });
});
