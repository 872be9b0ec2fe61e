import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { profileCommand } from "../../lib/cli/profile-command";
import { createBlockIo, type BlockIo } from "../../lib/io/block-io";
import { loadProfiles } from "../../lib/io/profiles";
import { clearSecrets } from "../../lib/io/redact";
import { startBigQueryServer, type BigQueryServer } from "../servers/bigquery-server";
import { startGcsServer, type GcsServer } from "../servers/gcs-server";
import { nativeBigQueryDeps } from "../io-cloud/native-modules";
import { REPO_ROOT, taxiDataDir } from "../taxi-data";
import { BUCKET, EMAIL, KEY_FILE_JSON, PROJECT, terraformOutputJson } from "./terraform-outputs";

jest.setTimeout(180_000);

const KEY_PATH = ".sluice/keys/gcp-service-account.json";
const TAXI_URI = `gs://${BUCKET}/raw/green_tripdata_2024-01.parquet`;

/** The real `sluice` command, as a user runs it in the project folder. */
function sluice(cwd: string, args: string[], input?: string) {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.SLUICE_PROJECT_DIR;
  const result = spawnSync(process.execPath, [path.join(REPO_ROOT, "bin", "sluice.cjs"), ...args], { cwd, env, input, encoding: "utf8", timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

let projectDir: string;
let gcsServer: GcsServer;
let bqServer: BigQueryServer;

beforeAll(async () => {
  projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-from-terraform-"));
  gcsServer = await startGcsServer();
  gcsServer.createBucket(BUCKET);
  bqServer = await startBigQueryServer({ readGcsObject: gcsServer.readObject, listGcsObjects: gcsServer.listObjects });
});

afterAll(async () => {
  clearSecrets();
  await Promise.all([gcsServer?.close(), bqServer?.close()]);
  if (projectDir) fs.rmSync(projectDir, { recursive: true, force: true });
});

describe("sluice profile from-terraform, end to end", () => {
  const handWritten = () => `# Zoomcamp project connections
connections:
  # docker-compose Postgres
  pg:
    kind: postgres
    url: "{{ env_var('DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/test') }}"
  # Pointed at local stand-ins while developing: the generator keeps keys it does not own.
  lake:
    kind: gcs
    api_endpoint: ${gcsServer.url}
    credentials_json: "{{ env_var('GCP_KEY_JSON') }}"
  warehouse:
    kind: bigquery
    api_endpoint: ${bqServer.url}
`;

  test("writes the connections into the hand-written sluice.yaml, the key to its own 0600 file, and prints no secret", () => {
    fs.writeFileSync(path.join(projectDir, "sluice.yaml"), handWritten());
    fs.writeFileSync(path.join(projectDir, "outputs.json"), terraformOutputJson());
    const { code, stdout, stderr } = sluice(projectDir, ["profile", "from-terraform", "outputs.json"]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toBe(
      [
        `updated connection "lake" (gcs: bucket ${BUCKET}, project ${PROJECT}) in sluice.yaml`,
        `updated connection "warehouse" (bigquery: dataset zoomcamp, location US) in sluice.yaml`,
        `wrote the key of ${EMAIL} to .sluice/keys/gcp-service-account.json (mode 0600); keep it out of version control`,
        "",
      ].join("\n"),
    );
    const keyFile = path.join(projectDir, ".sluice", "keys", "gcp-service-account.json");
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(JSON.parse(fs.readFileSync(keyFile, "utf8"))).toEqual(JSON.parse(KEY_FILE_JSON));
    const yaml = fs.readFileSync(path.join(projectDir, "sluice.yaml"), "utf8");
    expect(yaml).not.toContain("PRIVATE KEY");
    expect(yaml).not.toContain("credentials_json");
    for (const kept of ["# Zoomcamp project connections", "# docker-compose Postgres", "# Pointed at local stand-ins", "{{ env_var('DATABASE_URL'"]) expect(yaml).toContain(kept);
  });

  test("the real loader reads the written profiles; ctx.io.gcs() works with them on a 20-column taxi file", async () => {
    const profiles = await loadProfiles(projectDir, {});
    expect(profiles.connections.lake).toEqual({ kind: "gcs", api_endpoint: gcsServer.url, bucket: BUCKET, project_id: PROJECT, credentials_file: KEY_PATH });
    expect(profiles.connections.warehouse).toEqual({ kind: "bigquery", api_endpoint: bqServer.url, project_id: PROJECT, dataset: "zoomcamp", location: "US", credentials_file: KEY_PATH });
    const io: BlockIo = createBlockIo(profiles, { projectDir, dataDir: path.join(projectDir, ".sluice"), bigQueryDeps: nativeBigQueryDeps() });
    try {
      // Bare keys resolve in the bucket Terraform made; an unnamed call finds the only gcs connection.
      await io.gcs().upload(path.join(taxiDataDir(), "green_tripdata_2024-01.parquet"), "raw/green_tripdata_2024-01.parquet");
      const listed = await io.gcs("lake").list("raw/");
      expect(listed.objects.map((o) => o.uri)).toEqual([TAXI_URI]);
      const trips = await io.gcs().read(TAXI_URI);
      expect(trips.numRows).toBe(56_551);
      expect(trips.schema.fields).toHaveLength(20);
    } finally {
      await io.close();
    }
  });

  test("ctx.io.bigquery(): the key file is found and used; with ADC instead, the written project, dataset and location load the taxi file", async () => {
    const profiles = await loadProfiles(projectDir, {});
    const withKey = createBlockIo(profiles, { projectDir, dataDir: path.join(projectDir, ".sluice"), bigQueryDeps: nativeBigQueryDeps() });
    try {
      // The client reads credentials_file (resolved against the project) and signs a token request with the key;
      // Google's token endpoint is hard-wired in google-auth-library and unreachable here, so that is where it stops.
      await expect(withKey.bigquery().read("SELECT 1 AS one")).rejects.toThrow(/oauth2\.googleapis\.com/);
    } finally {
      await withKey.close();
    }
    const warehouse = profiles.connections.warehouse;
    if (warehouse.kind !== "bigquery") throw new Error("warehouse is not a bigquery connection");
    // A wrong path fails earlier, on the file: so the error above proves the written path was right.
    const missingKey = createBlockIo({ ...profiles, connections: { warehouse: { ...warehouse, credentials_file: ".sluice/keys/missing.json" } } }, { projectDir, dataDir: path.join(projectDir, ".sluice"), bigQueryDeps: nativeBigQueryDeps() });
    try {
      const failure = await missingKey.bigquery().read("SELECT 1 AS one").then(() => "ran", (error: unknown) => String(error));
      expect(failure).toMatch(/ENOENT: no such file or directory, open '.*missing\.json'/);
    } finally {
      await missingKey.close();
    }
    const { credentials_file: _keyFile, ...withAdc } = warehouse;
    const io = createBlockIo({ ...profiles, connections: { ...profiles.connections, warehouse: withAdc } }, { projectDir, dataDir: path.join(projectDir, ".sluice"), bigQueryDeps: nativeBigQueryDeps() });
    try {
      const load = await io.bigquery().loadFromGcs(TAXI_URI, "green_2024_01", { mode: "replace" });
      expect(load).toMatchObject({ rows: 56_551, table: "zoomcamp.green_2024_01" });
      const back = await io.bigquery("warehouse").read("SELECT count(*) AS n, min(lpep_pickup_datetime) AS first_pickup FROM green_2024_01");
      expect(Number(back.getChild("n")?.get(0))).toBe(56_551);
      expect(back.getChild("first_pickup")?.get(0)).toBe(Date.UTC(2023, 11, 31, 14, 38, 47));
    } finally {
      await io.close();
    }
  });
});

/** Runs the command in this process, capturing what it prints. */
async function profileInProcess(cwd: string, args: string[], stdin?: string) {
  let stdout = "";
  let stderr = "";
  const sink = (append: (text: string) => void) => new Writable({ write: (chunk: Buffer, _encoding, done) => (append(chunk.toString("utf8")), done()) });
  const io = { stdout: sink((t) => (stdout += t)), stderr: sink((t) => (stderr += t)) };
  const code = await profileCommand(args, io, { cwd, readStdin: async () => stdin ?? "" });
  return { code, stdout, stderr };
}

describe("sluice profile from-terraform: options and failures", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-from-terraform-errors-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const outputsWithout = (name: string): string => {
    const outputs = JSON.parse(terraformOutputJson()) as Record<string, unknown>;
    delete outputs[name];
    return JSON.stringify(outputs);
  };

  test("the real command: a missing output exits 1 with one line naming it; bad usage exits 2", () => {
    fs.writeFileSync(path.join(dir, "outputs.json"), outputsWithout("dataset_id"));
    const missing = sluice(dir, ["profile", "from-terraform", "outputs.json"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: outputs\.json: output "dataset_id" is missing \(outputs present: bucket_name, bucket_url, location, project_id, service_account_email, service_account_key_json\); apply infra\/terraform\/gcp and write `terraform output -json` again\n$/);
    expect(fs.existsSync(path.join(dir, "sluice.yaml"))).toBe(false);
    const usage = sluice(dir, ["profile", "from-terraform", "outputs.json", "--bucket", "x"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^error: Unknown option '--bucket'.*\nusage: sluice profile from-terraform/);
  });

  test("usage errors exit 2: no outputs file, two of them, an unknown subcommand, a bad --name", async () => {
    for (const args of [["from-terraform"], ["from-terraform", "a.json", "b.json"], ["from-terrafrom", "a.json"], [], ["from-terraform", "a.json", "--name", "my lake"]]) {
      const { code, stderr } = await profileInProcess(dir, args);
      expect([args, code]).toEqual([args, 2]);
      expect(stderr).toMatch(/^error: .*\nusage: sluice profile from-terraform/);
    }
  });

  test("unusable outputs exit 1 and write nothing: missing file, not JSON, not terraform's shape", async () => {
    const cases: [string | null, RegExp][] = [
      [null, /^error: outputs\.json: no such file; write it with `terraform output -json > outputs\.json` in infra\/terraform\/gcp\n$/],
      ["Outputs:\n\nbucket_name = \"lake\"\n", /^error: outputs\.json: not valid JSON( \(line 1, column 1\))?; expected what `terraform output -json` prints\n$/],
      [JSON.stringify({ bucket_name: "lake" }), /^error: outputs\.json: "bucket_name" has no "value"; expected the output of `terraform output -json`/],
    ];
    for (const [text, message] of cases) {
      const outputsFile = path.join(dir, "outputs.json");
      fs.rmSync(outputsFile, { force: true });
      if (text !== null) fs.writeFileSync(outputsFile, text);
      const { code, stdout, stderr } = await profileInProcess(dir, ["from-terraform", "outputs.json"]);
      expect({ code, stdout }).toEqual({ code: 1, stdout: "" });
      expect(stderr).toMatch(message);
    }
    expect(fs.readdirSync(dir).sort()).toEqual(["outputs.json"]);
  });

  test("a connection of that name and another kind stays untouched, and no key is written", async () => {
    const yaml = "connections:\n  lake:   # my Postgres, unluckily named\n    kind: postgres\n    host: db\n";
    fs.writeFileSync(path.join(dir, "sluice.yaml"), yaml);
    fs.writeFileSync(path.join(dir, "outputs.json"), terraformOutputJson());
    const { code, stderr } = await profileInProcess(dir, ["from-terraform", "outputs.json"]);
    expect(code).toBe(1);
    expect(stderr).toBe('error: sluice.yaml:3:5: connection "lake" is a postgres connection, not gcs; it was left as it is (write the new connections under other names)\n');
    expect(fs.readFileSync(path.join(dir, "sluice.yaml"), "utf8")).toBe(yaml);
    expect(fs.existsSync(path.join(dir, ".sluice"))).toBe(false);
  });

  test("from standard input, with --name, --file and --key-file; again with no key, credentials stay as they were", async () => {
    fs.mkdirSync(path.join(dir, "project"));
    const run = await profileInProcess(dir, ["from-terraform", "-", "--name", "zoomcamp", "--file", "project/sluice.yaml", "--key-file", "secrets/sa.json"], terraformOutputJson());
    expect(run).toEqual({
      code: 0,
      stderr: "",
      stdout: [
        `added connection "zoomcamp_lake" (gcs: bucket ${BUCKET}, project ${PROJECT}) in project/sluice.yaml`,
        `added connection "zoomcamp_warehouse" (bigquery: dataset zoomcamp, location US) in project/sluice.yaml`,
        `wrote the key of ${EMAIL} to secrets/sa.json (mode 0600); keep it out of version control`,
        "",
      ].join("\n"),
    });
    expect(fs.statSync(path.join(dir, "secrets", "sa.json")).mode & 0o777).toBe(0o600);
    // credentials_file resolves against the project folder, so it points back out of it.
    const profiles = await loadProfiles(path.join(dir, "project"), {});
    expect(profiles.connections.zoomcamp_lake).toMatchObject({ kind: "gcs", credentials_file: "../secrets/sa.json" });

    const noKey = outputsWithout("service_account_key_json");
    const again = await profileInProcess(dir, ["from-terraform", "-", "--name", "zoomcamp", "--file", "project/sluice.yaml"], noKey);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`updated connection "zoomcamp_warehouse"`);
    expect(again.stdout).toContain(`no service-account key in standard input: the connections use Application Default Credentials (impersonate ${EMAIL})`);
    expect((await loadProfiles(path.join(dir, "project"), {})).connections.zoomcamp_warehouse).toMatchObject({ credentials_file: "../secrets/sa.json" });
  });
});
