import { generateKeyPairSync } from "node:crypto";

/** What applying infra/terraform/gcp with the example variables would leave, for the tests of the generator. */
export const PROJECT = "zoomcamp-demo-123";
export const BUCKET = "zoomcamp-demo-123-lake";
export const EMAIL = `sluice-pipelines@${PROJECT}.iam.gserviceaccount.com`;

// A real RSA key made for the test run (none is stored in the repository), so a client that parses or signs
// with the key file works as it would with one Google issued.
const PRIVATE_KEY = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();

/** A service-account key file with every field Google's key files have. */
export const KEY_FILE_JSON = JSON.stringify(
  {
    type: "service_account",
    project_id: PROJECT,
    private_key_id: "0123456789abcdef0123456789abcdef01234567",
    private_key: PRIVATE_KEY,
    client_email: EMAIL,
    client_id: "104857264019283746501",
    auth_uri: "https://accounts.google.com/o/oauth2/auth",
    token_uri: "https://oauth2.googleapis.com/token",
    auth_provider_x509_cert_url: "https://www.googleapis.com/oauth2/v1/certs",
    client_x509_cert_url: `https://www.googleapis.com/robot/v1/metadata/x509/sluice-pipelines%40${PROJECT}.iam.gserviceaccount.com`,
    universe_domain: "googleapis.com",
  },
  null,
  2,
);

/**
 * `terraform output -json` after an apply, in the shape Terraform prints: every output of outputs.tf by name,
 * each `{ sensitive, type, value }`, sensitive values in clear (only the human-readable format hides them).
 * terraform.test.ts checks these names are exactly the module's outputs.
 */
export function terraformOutputJson(): string {
  const outputs = {
    bucket_name: { sensitive: false, type: "string", value: BUCKET },
    bucket_url: { sensitive: false, type: "string", value: `gs://${BUCKET}` },
    dataset_id: { sensitive: false, type: "string", value: "zoomcamp" },
    location: { sensitive: false, type: "string", value: "US" },
    project_id: { sensitive: false, type: "string", value: PROJECT },
    service_account_email: { sensitive: false, type: "string", value: EMAIL },
    service_account_key_json: { sensitive: true, type: "string", value: KEY_FILE_JSON },
  };
  return `${JSON.stringify(outputs, null, 2)}\n`;
}
