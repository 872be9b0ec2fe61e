/**
 * Builds the output store's object-store mirror (`remote-output-store.ts`) with the connectors' clients
 * (`lib/io/cloud`), configured from a `sluice.yaml` connection of kind s3 or gcs.
 */
import { z } from "zod";
import { UserError } from "../core/errors";
import { GcsConnector, type GcsProfile as GcsClientProfile } from "../io/cloud/gcs";
import { S3Connector, type S3Profile as S3ClientProfile } from "../io/cloud/s3";
import { findProfile, type GcsProfile, type Profiles, type S3Profile } from "../io/profiles";
import { RemoteOutputStore, schemeOf } from "../store/remote-output-store";

/**
 * The mirror for `SLUICE_OUTPUT_URL`, with the client of its scheme configured from a `sluice.yaml`
 * connection: the one named (`SLUICE_OUTPUT_CONNECTION`), else the `default` or only one of that kind,
 * else none (the cloud SDK's default credentials).
 *
 * @throws UserError `invalid_output_url` for another scheme; the profile lookup's errors for a bad name.
 */
export function openRemoteOutputStore(url: string, profiles: Profiles, connection?: string): RemoteOutputStore {
  const scheme = schemeOf(url);
  if (scheme === "s3") return new RemoteOutputStore(url, new S3Connector(s3ClientProfile(findProfile(profiles, "s3", connection), connection)));
  return new RemoteOutputStore(url, new GcsConnector(gcsClientProfile(findProfile(profiles, "gcs", connection), connection)));
}

/** `sluice.yaml` s3 fields → the S3 client's profile. */
export function s3ClientProfile(profile: S3Profile | undefined, name = "output store"): S3ClientProfile {
  return {
    name,
    region: profile?.region,
    endpoint: profile?.endpoint,
    forcePathStyle: profile?.force_path_style,
    accessKeyId: profile?.access_key_id,
    secretAccessKey: profile?.secret_access_key,
    sessionToken: profile?.session_token,
  };
}

/** `sluice.yaml` gcs fields → the GCS client's profile. */
export function gcsClientProfile(profile: GcsProfile | undefined, name = "output store"): GcsClientProfile {
  const credentials = profile?.credentials_json ? credentialsOf(profile.credentials_json) : undefined;
  return {
    name,
    // A project is needed only to create buckets; reads and writes of an existing bucket do not use it.
    projectId: profile?.project_id ?? "sluice",
    apiEndpoint: profile?.api_endpoint,
    credentials,
    keyFilename: profile?.credentials_file,
  };
}

const serviceAccount = z.object({ client_email: z.string(), private_key: z.string() });

function credentialsOf(json: string): { client_email: string; private_key: string } {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new UserError("invalid_credentials", "the gcs connection's credentials_json is not JSON");
  }
  const parsed = serviceAccount.safeParse(value);
  if (!parsed.success) throw new UserError("invalid_credentials", "the gcs connection's credentials_json lacks client_email or private_key");
  return parsed.data;
}

