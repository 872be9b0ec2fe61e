import { OperationalError, UserError } from "../../core/errors";

/**
 * Turns a cloud client's error into a Sluice error that names the connector and the object,
 * and says whether a retry helps: missing buckets/objects, bad requests and refused credentials are the
 * user's to fix (UserError); timeouts, resets and 5xx/429 answers are worth retrying (OperationalError).
 */
export function cloudError(connector: string, action: string, uri: string, error: unknown): UserError | OperationalError {
  if (error instanceof UserError || error instanceof OperationalError) return error;
  const status = statusOf(error);
  const detail = shortMessage(error);
  const where = `${connector}: cannot ${action} ${uri}`;
  const reason = reasonOf(error);
  if (status === 404 || reason === "notFound") return new UserError("object_not_found", `${where}: not found (${detail})`, {}, { cause: error });
  if (status === 401 || status === 403) return new UserError("access_denied", `${where}: access denied, check the profile's credentials (${detail})`, {}, { cause: error });
  if (reason === "duplicate") return new UserError("destination_exists", `${where}: it already exists (${detail})`, {}, { cause: error });
  if (reason !== undefined && USER_REASONS.has(reason)) {
    return new UserError("bad_request", `${where}: ${reason} (${detail})`, {}, { cause: error });
  }
  if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) {
    return new UserError("bad_request", `${where}: rejected with HTTP ${status} (${detail})`, {}, { cause: error });
  }
  return new OperationalError("cloud_unavailable", `${where}: ${detail}`, {}, { cause: error });
}

/** Google API error reasons that mean the request itself is wrong: retrying cannot help. */
const USER_REASONS = new Set(["invalid", "invalidQuery", "duplicate", "notFound", "required", "accessDenied", "forbidden"]);

/** The first `errors[].reason` of a Google API error (BigQuery job failures carry no HTTP status). */
function reasonOf(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const errors = (error as Record<string, unknown>).errors;
  if (!Array.isArray(errors) || errors.length === 0) return undefined;
  const first: unknown = errors[0];
  if (typeof first !== "object" || first === null) return undefined;
  const reason = (first as Record<string, unknown>).reason;
  return typeof reason === "string" ? reason : undefined;
}

/** The HTTP status carried by GCS (`code`), AWS SDK (`$metadata.httpStatusCode`) and gaxios (`response.status`) errors. */
export function statusOf(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const record = error as Record<string, unknown>;
  if (typeof record.code === "number") return record.code;
  const metadata = record.$metadata;
  if (typeof metadata === "object" && metadata !== null) {
    const code = (metadata as Record<string, unknown>).httpStatusCode;
    if (typeof code === "number") return code;
  }
  const response = record.response;
  if (typeof response === "object" && response !== null) {
    const code = (response as Record<string, unknown>).status;
    if (typeof code === "number") return code;
  }
  return undefined;
}

/** The service's own message, without a whole JSON body or a stack. Duck-typed: errors may come from another realm. */
function shortMessage(error: unknown): string {
  if (typeof error !== "object" || error === null) return String(error);
  const record = error as Record<string, unknown>;
  const text = typeof record.message === "string" ? record.message.replace(/^Error: /, "") : String(error);
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null) {
      const inner = (parsed as Record<string, unknown>).error;
      if (typeof inner === "object" && inner !== null && typeof (inner as Record<string, unknown>).message === "string") {
        return String((inner as Record<string, unknown>).message);
      }
    }
  } catch {
    // not JSON: use the text as it is
  }
  // AWS errors carry their code as the name (NoSuchKey, InvalidAccessKeyId): worth showing.
  const name = typeof record.name === "string" && record.name !== "" && !/Error$/.test(record.name) ? `${record.name}: ` : "";
  return (name + text).slice(0, 300);
}
