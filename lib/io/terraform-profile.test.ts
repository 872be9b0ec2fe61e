import { generateKeyPairSync } from "node:crypto";
import { gcpConnectionNames, gcpConnectionsFromTerraform, parseTerraformOutputsText, REQUIRED_TERRAFORM_OUTPUTS, TERRAFORM_OUTPUT } from "./terraform-profile";
import { parseProfiles } from "./profiles";
import { clearSecrets } from "./redact";

const EMAIL = "sluice-pipelines@zoomcamp-demo-123.iam.gserviceaccount.com";
const PRIVATE_KEY = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const KEY_JSON = JSON.stringify({ type: "service_account", project_id: "zoomcamp-demo-123", private_key_id: "abc123", private_key: PRIVATE_KEY, client_email: EMAIL, client_id: "1" });

/** What `terraform output -json` prints after applying infra/terraform/gcp. */
function outputs(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    bucket_name: { sensitive: false, type: "string", value: "zoomcamp-demo-123-lake" },
    bucket_url: { sensitive: false, type: "string", value: "gs://zoomcamp-demo-123-lake" },
    dataset_id: { sensitive: false, type: "string", value: "zoomcamp" },
    location: { sensitive: false, type: "string", value: "US" },
    project_id: { sensitive: false, type: "string", value: "zoomcamp-demo-123" },
    service_account_email: { sensitive: false, type: "string", value: EMAIL },
    service_account_key_json: { sensitive: true, type: "string", value: KEY_JSON },
    ...overrides,
  };
}

const options = { source: "outputs.json", credentialsFile: ".sluice/keys/gcp-key.json" };

afterAll(() => clearSecrets());

describe("gcpConnectionsFromTerraform", () => {
  test("maps the module's outputs to a gcs and a bigquery profile that reference the key by file", () => {
    const result = gcpConnectionsFromTerraform(outputs(), options);
    expect(result.gcs).toEqual({ kind: "gcs", bucket: "zoomcamp-demo-123-lake", project_id: "zoomcamp-demo-123", credentials_file: ".sluice/keys/gcp-key.json" });
    expect(result.bigquery).toEqual({ kind: "bigquery", project_id: "zoomcamp-demo-123", dataset: "zoomcamp", location: "US", credentials_file: ".sluice/keys/gcp-key.json" });
    expect(result.serviceAccountEmail).toBe(EMAIL);
    expect(JSON.parse(result.serviceAccountKeyJson ?? "")).toMatchObject({ client_email: EMAIL, private_key: PRIVATE_KEY });
    // The key itself is never part of a profile.
    expect(JSON.stringify([result.gcs, result.bigquery])).not.toContain("PRIVATE KEY");
  });

  test("the profiles pass the real sluice.yaml loader", () => {
    const { gcs, bigquery } = gcpConnectionsFromTerraform(outputs(), options);
    const yaml = `connections:\n  lake: ${JSON.stringify(gcs)}\n  warehouse: ${JSON.stringify(bigquery)}\n`;
    expect(parseProfiles(yaml, "sluice.yaml", {}).connections).toEqual({ lake: gcs, warehouse: bigquery });
  });

  test("no key (create_service_account_key = false: Terraform drops null outputs, or prints null) → no credentials_file, ADC applies", () => {
    const withoutKey = outputs();
    delete withoutKey.service_account_key_json;
    for (const parsed of [withoutKey, outputs({ service_account_key_json: { sensitive: true, type: "string", value: null } })]) {
      const result = gcpConnectionsFromTerraform(parsed, options);
      expect(result.serviceAccountKeyJson).toBeUndefined();
      expect(result.gcs).not.toHaveProperty("credentials_file");
      expect(result.bigquery).not.toHaveProperty("credentials_file");
    }
  });

  test("the raw base64 private_key attribute of google_service_account_key is accepted too", () => {
    const result = gcpConnectionsFromTerraform(outputs({ service_account_key_json: { sensitive: true, type: "string", value: Buffer.from(KEY_JSON).toString("base64") } }), options);
    expect(JSON.parse(result.serviceAccountKeyJson ?? "")).toMatchObject({ client_email: EMAIL });
  });

  test("`terraform show -json` (outputs under values.outputs) works the same", () => {
    const show = { format_version: "1.0", terraform_version: "1.9.8", values: { outputs: outputs(), root_module: {} } };
    expect(gcpConnectionsFromTerraform(show, options).gcs.bucket).toBe("zoomcamp-demo-123-lake");
  });

  test.each(REQUIRED_TERRAFORM_OUTPUTS)("a missing %s output is named, with the outputs present", (name) => {
    const parsed = outputs();
    delete parsed[name];
    expect(() => gcpConnectionsFromTerraform(parsed, options)).toThrow(new RegExp(`^outputs\\.json: output "${name}" is missing \\(outputs present: .*bucket_url`));
  });

  test("a value of the wrong kind names the output and the kind, never the value", () => {
    expect(() => gcpConnectionsFromTerraform(outputs({ bucket_name: { sensitive: false, type: "number", value: 3 } }), options)).toThrow('outputs.json: output "bucket_name" is a number, expected a non-empty string');
    expect(() => gcpConnectionsFromTerraform(outputs({ location: { sensitive: false, type: "string", value: " " } }), options)).toThrow('output "location" is an empty string');
  });

  test("not the shape terraform prints: a plain map of values, a list, a string", () => {
    expect(() => gcpConnectionsFromTerraform({ bucket_name: "b" }, options)).toThrow(/outputs\.json: "bucket_name" has no "value"; expected the output of `terraform output -json`/);
    expect(() => gcpConnectionsFromTerraform([1, 2], options)).toThrow(/outputs\.json: expected the output of `terraform output -json`/);
    expect(() => gcpConnectionsFromTerraform("zoomcamp", options)).toThrow(/expected the output of/);
  });

  test("a bad key is refused without quoting it", () => {
    const cases: [unknown, RegExp][] = [
      [{ sensitive: false, type: "string", value: KEY_JSON }, /is not marked sensitive/],
      [{ sensitive: true, type: "string", value: JSON.stringify({ type: "authorized_user", client_secret: "shh-secret" }) }, /is not a service-account key/],
      [{ sensitive: true, type: "string", value: KEY_JSON.replace(EMAIL, "someone-else@x.iam.gserviceaccount.com") }, /belongs to someone-else@x\.iam\.gserviceaccount\.com, not to the service account sluice-pipelines@/],
      [{ sensitive: true, type: "string", value: "-----BEGIN PRIVATE KEY----- shh" }, /is neither JSON nor base64 of JSON/],
    ];
    for (const [key, message] of cases) {
      let thrown: unknown;
      try {
        gcpConnectionsFromTerraform(outputs({ service_account_key_json: key }), options);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(Error);
      const text = thrown instanceof Error ? thrown.message : "";
      expect(text).toMatch(message);
      expect(text).not.toMatch(/PRIVATE KEY|shh/);
    }
  });

  test("every output it reads is one of the module's names (the Terraform test checks those exist)", () => {
    expect(Object.values(TERRAFORM_OUTPUT).sort()).toEqual(["bucket_name", "dataset_id", "location", "project_id", "service_account_email", "service_account_key_json"]);
  });
});

describe("parseTerraformOutputsText", () => {
  test("malformed JSON: a position, never a quote of the text (it holds a key)", () => {
    const text = `{\n  "service_account_key_json": { "value": "-----BEGIN PRIVATE KEY-----abc" ,, }\n}`;
    let message = "";
    try {
      parseTerraformOutputsText(text, "outputs.json");
    } catch (error) {
      message = error instanceof Error ? error.message : "";
    }
    expect(message).toMatch(/^outputs\.json: not valid JSON( \(line 2, column \d+\))?; expected what `terraform output -json` prints$/);
    expect(message).not.toContain("PRIVATE");
  });

  test("the empty file `terraform output -json` redirection leaves when it fails", () => {
    expect(() => parseTerraformOutputsText("", "outputs.json")).toThrow(/outputs\.json: not valid JSON/);
  });
});

test("connection names: lake and warehouse, or under a base name", () => {
  expect(gcpConnectionNames()).toEqual({ gcs: "lake", bigquery: "warehouse" });
  expect(gcpConnectionNames("zoomcamp")).toEqual({ gcs: "zoomcamp_lake", bigquery: "zoomcamp_warehouse" });
});
