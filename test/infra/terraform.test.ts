/**
 * The Terraform module in infra/terraform/gcp, checked without Terraform: no provider can be downloaded here, so
 * `terraform validate/plan` cannot run. The files are parsed with HashiCorp's own HCL parser (compiled to WASM
 * in @cdktf/hcl2json) and what a reviewer would check by eye is asserted: the resources exist with the settings
 * the README promises, every grant is scoped to the bucket or the dataset except the one that cannot be, and the
 * outputs are exactly what `sluice profile from-terraform` reads.
 */
import fs from "node:fs";
import path from "node:path";
import { parse } from "@cdktf/hcl2json";
import { REQUIRED_TERRAFORM_OUTPUTS, SENSITIVE_TERRAFORM_OUTPUTS, TERRAFORM_OUTPUT } from "../../lib/io/terraform-profile";
import { REPO_ROOT } from "../taxi-data";
import { terraformOutputJson } from "./terraform-outputs";

jest.setTimeout(60_000);

const MODULE_DIR = path.join(REPO_ROOT, "infra", "terraform", "gcp");
const SERVICE_ACCOUNT_MEMBER = "${local.sluice_member}";

type Body = Record<string, unknown>;

/** Every .tf file's top-level blocks, merged as Terraform merges the files of one module. */
interface Module {
  terraform: Body[];
  provider: Record<string, Body[]>;
  locals: Body[];
  variable: Record<string, Body[]>;
  output: Record<string, Body[]>;
  resource: Record<string, Record<string, Body[]>>;
  /** Every expression string of every file, for reference checks. */
  expressions: string[];
}

let tf: Module;
let tfvarsExample: Body;

function isBody(value: unknown): value is Body {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function bodies(value: unknown): Body[] {
  return Array.isArray(value) ? value.filter(isBody) : [];
}

function only(value: unknown, what: string): Body {
  const list = bodies(value);
  if (list.length !== 1) throw new Error(`${what}: expected one block, found ${list.length}`);
  return list[0];
}

function collectStrings(value: unknown, into: string[]): void {
  if (typeof value === "string") into.push(value);
  else if (Array.isArray(value)) for (const item of value) collectStrings(item, into);
  else if (isBody(value)) for (const item of Object.values(value)) collectStrings(item, into);
}

function mergeInto<T>(target: Record<string, T[]>, source: unknown, blocks: (v: unknown) => T[]): void {
  if (!isBody(source)) return;
  for (const [name, value] of Object.entries(source)) (target[name] ??= []).push(...blocks(value));
}

beforeAll(async () => {
  tf = { terraform: [], provider: {}, locals: [], variable: {}, output: {}, resource: {}, expressions: [] };
  const files = fs.readdirSync(MODULE_DIR).filter((f) => f.endsWith(".tf"));
  expect(files.sort()).toEqual(["main.tf", "outputs.tf", "variables.tf", "versions.tf"]);
  for (const file of files) {
    const parsed: unknown = await parse(file, fs.readFileSync(path.join(MODULE_DIR, file), "utf8"));
    if (!isBody(parsed)) throw new Error(`${file}: the parser returned no object`);
    collectStrings(parsed, tf.expressions);
    tf.terraform.push(...bodies(parsed.terraform));
    tf.locals.push(...bodies(parsed.locals));
    mergeInto(tf.provider, parsed.provider, bodies);
    mergeInto(tf.variable, parsed.variable, bodies);
    mergeInto(tf.output, parsed.output, bodies);
    if (isBody(parsed.resource)) {
      for (const [type, byName] of Object.entries(parsed.resource)) mergeInto((tf.resource[type] ??= {}), byName, bodies);
    }
  }
  const example: unknown = await parse("terraform.tfvars.example", fs.readFileSync(path.join(MODULE_DIR, "terraform.tfvars.example"), "utf8"));
  if (!isBody(example)) throw new Error("terraform.tfvars.example: the parser returned no object");
  tfvarsExample = example;
});

/** The one resource of a type and name. */
function resource(type: string, name: string): Body {
  return only(tf.resource[type]?.[name], `resource ${type}.${name}`);
}

/** All resources of the types matching, as [type, name, body]. */
function resourcesMatching(pattern: RegExp): [string, string, Body][] {
  return Object.entries(tf.resource)
    .filter(([type]) => pattern.test(type))
    .flatMap(([type, byName]) => Object.entries(byName).flatMap(([name, list]) => list.map((body): [string, string, Body] => [type, name, body])));
}

describe("infra/terraform/gcp parses and pins its versions", () => {
  test("the parser rejects broken HCL (so a passing parse means something)", async () => {
    await expect(parse("broken.tf", 'resource "google_storage_bucket" "lake" {\n  name = \n')).rejects.toBeDefined();
  });

  test("Terraform and the google provider are pinned to a major version", () => {
    const terraform = only(tf.terraform, "terraform");
    expect(terraform.required_version).toMatch(/>=\s*1\.\d+(\.\d+)?,\s*<\s*2\.0\.0/);
    const providers = only(terraform.required_providers, "required_providers");
    expect(providers.google).toEqual({ source: "hashicorp/google", version: expect.stringMatching(/^~>\s*\d+\.\d+$/) });
  });

  test("the provider takes the project and region from variables (credentials from ADC, never a key path in code)", () => {
    const google = only(tf.provider.google, "provider google");
    expect(google).toEqual({ project: "${var.project_id}", region: "${var.region}" });
  });
});

describe("the lake bucket and the warehouse dataset", () => {
  test("bucket: uniform bucket-level access, no public access, force_destroy and versioning by variable", () => {
    const bucket = resource("google_storage_bucket", "lake");
    expect(bucket).toMatchObject({
      name: "${var.bucket_name}",
      location: "${var.location}",
      uniform_bucket_level_access: true,
      public_access_prevention: "enforced",
      force_destroy: "${var.force_destroy}",
      versioning: [{ enabled: "${var.versioning}" }],
    });
    expect(Object.keys(tf.resource.google_storage_bucket ?? {})).toEqual(["lake"]);
  });

  test("bucket: a lifecycle rule deletes old objects (age from a variable), and noncurrent versions when versioning is on", () => {
    const bucket = resource("google_storage_bucket", "lake");
    const rules = isBody(bucket.dynamic) ? bodies(bucket.dynamic.lifecycle_rule) : [];
    expect(rules).toEqual([
      {
        for_each: "${var.object_max_age_days == null ? [] : [var.object_max_age_days]}",
        content: [{ action: [{ type: "Delete" }], condition: [{ age: "${lifecycle_rule.value}" }] }],
      },
      {
        for_each: "${var.versioning ? [var.noncurrent_version_retention_days] : []}",
        content: [{ action: [{ type: "Delete" }], condition: [{ days_since_noncurrent_time: "${lifecycle_rule.value}", with_state: "ARCHIVED" }] }],
      },
    ]);
  });

  test("dataset: in the bucket's location, default table expiration optional (days → ms)", () => {
    const dataset = resource("google_bigquery_dataset", "warehouse");
    expect(dataset).toMatchObject({
      dataset_id: "${var.dataset_id}",
      location: "${var.location}",
      default_table_expiration_ms: "${var.default_table_expiration_days == null ? null : var.default_table_expiration_days * 24 * 60 * 60 * 1000}",
      delete_contents_on_destroy: "${var.force_destroy}",
    });
    expect(only(tf.variable.default_table_expiration_days, "variable").default).toBeNull();
  });
});

describe("the service account is least-privilege", () => {
  test("one service account; every grant goes to it", () => {
    expect(resource("google_service_account", "sluice").account_id).toBe("${var.service_account_id}");
    expect(only(tf.locals, "locals").sluice_member).toBe("serviceAccount:${google_service_account.sluice.email}");
    const grants = resourcesMatching(/_iam_(member|binding|policy)$/);
    expect(grants.length).toBe(4);
    for (const [type, name, body] of grants) expect([type, name, body.member]).toEqual([type, name, SERVICE_ACCOUNT_MEMBER]);
  });

  test("storage roles are granted on the lake bucket only: objectAdmin, plus the bucket read Sluice's existence check needs", () => {
    const onBucket = resourcesMatching(/^google_storage_bucket_iam_member$/).map(([, , body]) => [body.bucket, body.role]);
    expect(onBucket.sort()).toEqual([
      ["${google_storage_bucket.lake.name}", "roles/storage.legacyBucketReader"],
      ["${google_storage_bucket.lake.name}", "roles/storage.objectAdmin"],
    ]);
  });

  test("BigQuery data access is granted on the warehouse dataset only", () => {
    const onDataset = resourcesMatching(/^google_bigquery_dataset_iam_member$/).map(([, , body]) => [body.dataset_id, body.role]);
    expect(onDataset).toEqual([["${google_bigquery_dataset.warehouse.dataset_id}", "roles/bigquery.dataEditor"]]);
  });

  test("the only project-level grant is bigquery.jobUser, added (iam_member), never authoritative", () => {
    const projectGrants = resourcesMatching(/^google_project_iam_/);
    expect(projectGrants.map(([type, , body]) => [type, body.role])).toEqual([["google_project_iam_member", "roles/bigquery.jobUser"]]);
    // An _iam_binding or _iam_policy would replace everyone else's grants of that role on the project or bucket.
    expect(resourcesMatching(/_iam_(binding|policy)$/)).toEqual([]);
    const roles = tf.expressions.filter((e) => e.startsWith("roles/"));
    for (const broad of ["roles/owner", "roles/editor", "roles/storage.admin", "roles/bigquery.admin", "roles/bigquery.user", "roles/iam.serviceAccountUser"]) {
      expect(roles).not.toContain(broad);
    }
  });

  test("the key exists only when create_service_account_key is true", () => {
    expect(resource("google_service_account_key", "sluice")).toEqual({ count: "${var.create_service_account_key ? 1 : 0}", service_account_id: "${google_service_account.sluice.name}" });
    expect(only(tf.variable.create_service_account_key, "variable").type).toBe("${bool}");
  });
});

describe("variables", () => {
  const declared = () => Object.keys(tf.variable);

  test("every variable referenced is declared, every declared one is used, each has a type and a description", () => {
    const referenced = new Set(tf.expressions.flatMap((e) => [...e.matchAll(/\bvar\.([A-Za-z0-9_]+)/g)].map((m) => m[1])));
    expect([...referenced].sort()).toEqual(declared().sort());
    for (const [name, list] of Object.entries(tf.variable)) {
      const variable = only(list, `variable ${name}`);
      expect([name, typeof variable.type, typeof variable.description]).toEqual([name, "string", "string"]);
    }
  });

  test("only project_id and bucket_name must be given; names are validated before any API call", () => {
    const required = Object.entries(tf.variable).filter(([, list]) => !("default" in only(list, "variable"))).map(([name]) => name);
    expect(required.sort()).toEqual(["bucket_name", "project_id"]);
    for (const name of ["project_id", "bucket_name", "dataset_id", "service_account_id", "object_max_age_days"]) {
      expect([name, bodies(only(tf.variable[name], name).validation).length]).toEqual([name, 1]);
    }
  });

  test("terraform.tfvars.example sets every required variable and only declared ones", () => {
    expect(Object.keys(tfvarsExample).every((name) => declared().includes(name))).toBe(true);
    expect(tfvarsExample).toMatchObject({ project_id: expect.any(String), bucket_name: expect.any(String) });
  });

  test("references to resources point at resources the module declares", () => {
    const referenced = new Set(tf.expressions.flatMap((e) => [...e.matchAll(/\b(google_[a-z_]+)\.([a-z_]+)\b/g)].map((m) => `${m[1]}.${m[2]}`)));
    for (const reference of referenced) {
      const [type, name] = reference.split(".");
      expect([reference, tf.resource[type]?.[name] !== undefined]).toEqual([reference, true]);
    }
  });
});

describe("outputs match what `sluice profile from-terraform` reads", () => {
  test("every output the generator reads exists, with a description", () => {
    for (const name of Object.values(TERRAFORM_OUTPUT)) {
      const output = only(tf.output[name], `output ${name}`);
      expect([name, typeof output.value, typeof output.description]).toEqual([name, "string", "string"]);
    }
    expect(REQUIRED_TERRAFORM_OUTPUTS.every((name) => tf.output[name] !== undefined)).toBe(true);
  });

  test("the key output is sensitive; the others are not (a sensitive value is hidden where people need to read it)", () => {
    for (const [name, list] of Object.entries(tf.output)) {
      const output = only(list, `output ${name}`);
      expect([name, output.sensitive === true]).toEqual([name, SENSITIVE_TERRAFORM_OUTPUTS.includes(name)]);
    }
    expect(only(tf.output.service_account_key_json, "key output").value).toBe("${var.create_service_account_key ? base64decode(google_service_account_key.sluice[0].private_key) : null}");
  });

  test("the outputs the generator reads come from the resources, not from echoing variables (except the project)", () => {
    const value = (name: string) => only(tf.output[name], name).value;
    expect(value(TERRAFORM_OUTPUT.bucket)).toBe("${google_storage_bucket.lake.name}");
    expect(value(TERRAFORM_OUTPUT.dataset)).toBe("${google_bigquery_dataset.warehouse.dataset_id}");
    expect(value(TERRAFORM_OUTPUT.location)).toBe("${google_bigquery_dataset.warehouse.location}");
    expect(value(TERRAFORM_OUTPUT.serviceAccountEmail)).toBe("${google_service_account.sluice.email}");
    expect(value(TERRAFORM_OUTPUT.projectId)).toBe("${var.project_id}");
  });

  test("the outputs.json the end-to-end test feeds the command has exactly the module's outputs", () => {
    expect(Object.keys(JSON.parse(terraformOutputJson()) as Record<string, unknown>).sort()).toEqual(Object.keys(tf.output).sort());
  });
});
