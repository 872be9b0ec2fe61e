/**
 * From the outputs of the Terraform module in `infra/terraform/gcp` to the `gcs` and `bigquery` connections of
 * `sluice.yaml`. Pure: it takes the parsed JSON that `terraform output -json` prints and returns profile
 * objects plus the service-account key to be written elsewhere; reading and writing files is the caller's.
 *
 * The key never goes into a profile: `sluice.yaml` is a file people commit and paste into issues, so the
 * profiles reference the key by `credentials_file` and the caller writes it to a file only its owner can read.
 */
import { UserError } from "../core/errors";
import type { BigQueryProfile, GcsProfile } from "./profiles";

/** The outputs of `infra/terraform/gcp/outputs.tf` this reads, by role. The module's test checks each exists there. */
export const TERRAFORM_OUTPUT = {
  projectId: "project_id",
  bucket: "bucket_name",
  dataset: "dataset_id",
  location: "location",
  serviceAccountEmail: "service_account_email",
  serviceAccountKey: "service_account_key_json",
} as const;

/** Outputs that must be present; the key is optional because the module can be told not to create one. */
export const REQUIRED_TERRAFORM_OUTPUTS: readonly string[] = [
  TERRAFORM_OUTPUT.projectId,
  TERRAFORM_OUTPUT.bucket,
  TERRAFORM_OUTPUT.dataset,
  TERRAFORM_OUTPUT.location,
  TERRAFORM_OUTPUT.serviceAccountEmail,
];

/** Outputs that hold secrets: the module must mark them `sensitive` so `terraform output` and plans hide them. */
export const SENSITIVE_TERRAFORM_OUTPUTS: readonly string[] = [TERRAFORM_OUTPUT.serviceAccountKey];

/** One output as `terraform output -json` prints it. */
interface TerraformOutput {
  sensitive: boolean;
  value: unknown;
}

/** What the outputs amount to for Sluice. */
export interface GcpConnectionsFromTerraform {
  gcs: GcsProfile;
  bigquery: BigQueryProfile;
  serviceAccountEmail: string;
  /** The key file's JSON text, to be written apart from sluice.yaml; undefined when the module made no key. */
  serviceAccountKeyJson: string | undefined;
}

/** The connection names written: `lake` and `warehouse`, or `<base>_lake` and `<base>_warehouse`. */
export function gcpConnectionNames(base?: string): { gcs: string; bigquery: string } {
  if (base === undefined) return { gcs: "lake", bigquery: "warehouse" };
  return { gcs: `${base}_lake`, bigquery: `${base}_warehouse` };
}

/**
 * Parses the text of an outputs file. JSON.parse's own message may quote a stretch of the text, which here
 * holds a private key, so only the position is kept.
 * @throws UserError `invalid_terraform_outputs`
 */
export function parseTerraformOutputsText(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const position = error instanceof Error ? /position (\d+)/.exec(error.message)?.[1] : undefined;
    const where = position === undefined ? "" : ` (${lineAndColumn(text, Number(position))})`;
    throw new UserError("invalid_terraform_outputs", `${source}: not valid JSON${where}; expected what \`terraform output -json\` prints`, { file: source });
  }
}

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split("\n");
  return `line ${before.length}, column ${before[before.length - 1].length + 1}`;
}

/**
 * The gcs and bigquery profiles the outputs describe. Accepts what `terraform output -json` prints
 * (`{ name: { sensitive, type, value } }`) and, for convenience, `terraform show -json` (the same map under
 * `values.outputs`).
 *
 * @param credentialsFile what the profiles' `credentials_file` will say (where the caller writes the key),
 *   used only when the outputs hold a key.
 * @throws UserError `invalid_terraform_outputs` (not that shape), `missing_terraform_output` (naming the output
 *   and the ones present), `bad_terraform_output` (a value of the wrong kind; the key's value is never quoted)
 */
export function gcpConnectionsFromTerraform(parsed: unknown, options: { source: string; credentialsFile: string }): GcpConnectionsFromTerraform {
  const { source } = options;
  const outputs = outputsOf(parsed, source);
  const text = (name: string): string => {
    const output = outputs.get(name);
    if (output === undefined || output.value === null) {
      const present = [...outputs.keys()];
      throw new UserError(
        "missing_terraform_output",
        `${source}: output "${name}" is missing (outputs present: ${present.join(", ") || "none"}); apply infra/terraform/gcp and write \`terraform output -json\` again`,
        { file: source },
      );
    }
    if (typeof output.value !== "string" || output.value.trim() === "") {
      throw new UserError("bad_terraform_output", `${source}: output "${name}" is ${describe(output.value)}, expected a non-empty string`, { file: source });
    }
    return output.value.trim();
  };
  for (const name of REQUIRED_TERRAFORM_OUTPUTS) text(name);
  const projectId = text(TERRAFORM_OUTPUT.projectId);
  const serviceAccountEmail = text(TERRAFORM_OUTPUT.serviceAccountEmail);
  const serviceAccountKeyJson = serviceAccountKey(outputs.get(TERRAFORM_OUTPUT.serviceAccountKey), serviceAccountEmail, source);
  const credentials = serviceAccountKeyJson === undefined ? {} : { credentials_file: options.credentialsFile };
  return {
    gcs: { kind: "gcs", bucket: text(TERRAFORM_OUTPUT.bucket), project_id: projectId, ...credentials },
    bigquery: { kind: "bigquery", project_id: projectId, dataset: text(TERRAFORM_OUTPUT.dataset), location: text(TERRAFORM_OUTPUT.location), ...credentials },
    serviceAccountEmail,
    serviceAccountKeyJson,
  };
}

function outputsOf(parsed: unknown, source: string): Map<string, TerraformOutput> {
  const expected = `expected the output of \`terraform output -json\`: an object of { "sensitive", "type", "value" } per output`;
  const showValues = record(record(parsed)?.values);
  const map = showValues !== undefined && "outputs" in showValues ? record(showValues.outputs) : record(parsed);
  if (map === undefined) throw new UserError("invalid_terraform_outputs", `${source}: ${expected}`, { file: source });
  const outputs = new Map<string, TerraformOutput>();
  for (const [name, entry] of Object.entries(map)) {
    const fields = record(entry);
    if (fields === undefined || !("value" in fields)) {
      throw new UserError("invalid_terraform_outputs", `${source}: "${name}" has no "value"; ${expected}`, { file: source });
    }
    outputs.set(name, { sensitive: fields.sensitive === true, value: fields.value });
  }
  return outputs;
}

/** The key's JSON text, checked to be this account's service-account key. Messages never quote it. */
function serviceAccountKey(output: TerraformOutput | undefined, serviceAccountEmail: string, source: string): string | undefined {
  if (output === undefined || output.value === null) return undefined;
  const name = TERRAFORM_OUTPUT.serviceAccountKey;
  const bad = (why: string): UserError => new UserError("bad_terraform_output", `${source}: output "${name}" ${why}`, { file: source });
  if (!output.sensitive) throw bad("is not marked sensitive: the module must declare it `sensitive = true` so plans and logs hide it");
  if (typeof output.value !== "string") throw bad(`is ${describe(output.value)}, expected the key file's JSON text`);
  // `private_key` of google_service_account_key is base64 of the JSON; the module decodes it, but an output
  // written as the raw attribute is accepted too.
  const candidates = [output.value, Buffer.from(output.value, "base64").toString("utf8")];
  for (const candidate of candidates) {
    const key = record(tryParse(candidate));
    if (key === undefined) continue;
    if (key.type !== "service_account" || typeof key.private_key !== "string" || typeof key.client_email !== "string") {
      throw bad('is not a service-account key (JSON with type "service_account", client_email and private_key)');
    }
    if (key.client_email !== serviceAccountEmail) {
      throw bad(`belongs to ${key.client_email}, not to the service account ${serviceAccountEmail} of output "${TERRAFORM_OUTPUT.serviceAccountEmail}"`);
    }
    return candidate.endsWith("\n") ? candidate : `${candidate}\n`;
  }
  throw bad("is neither JSON nor base64 of JSON (expected a service-account key)");
}

function tryParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function record(value: unknown): Record<string, unknown> | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  return Object.fromEntries(Object.entries(value));
}

/** The kind of a value, for messages (never the value itself: it may be a secret). */
function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "string") return value.trim() === "" ? "an empty string" : "a string";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}
