import { OperationalError, UserError } from "../../core/errors";
import { cloudError, statusOf } from "./cloud-errors";

describe("cloudError", () => {
  test("404 and notFound are the user's: they name the connector and the object", () => {
    const error = cloudError('gcs "lake"', "download", "gs://b/k", Object.assign(new Error('{"error":{"code":404,"message":"No such object: b/k"}}'), { code: 404 }));
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toBe('gcs "lake": cannot download gs://b/k: not found (No such object: b/k)');
    const job = cloudError('bigquery "w"', "load", "x", Object.assign(new Error("Not found: Dataset p:d"), { errors: [{ reason: "notFound" }] }));
    expect(job).toMatchObject({ code: "object_not_found", kind: "user" });
  });

  test("403 is a credentials problem, duplicate an existing destination, AWS codes are shown", () => {
    const denied = cloudError('s3 "raw"', "upload to", "s3://b/k", Object.assign(new Error("The AWS Access Key Id you provided does not exist"), { name: "InvalidAccessKeyId", $metadata: { httpStatusCode: 403 } }));
    expect(denied.message).toBe('s3 "raw": cannot upload to s3://b/k: access denied, check the profile\'s credentials (InvalidAccessKeyId: The AWS Access Key Id you provided does not exist)');
    expect(cloudError("c", "load", "t", Object.assign(new Error("Already Exists: Table p:d.t"), { errors: [{ reason: "duplicate" }] }))).toMatchObject({ code: "destination_exists" });
  });

  test("timeouts, 429 and 5xx are worth a retry", () => {
    expect(cloudError("c", "read", "u", Object.assign(new Error("backend"), { code: 503 }))).toBeInstanceOf(OperationalError);
    expect(cloudError("c", "read", "u", Object.assign(new Error("slow down"), { code: 429 }))).toBeInstanceOf(OperationalError);
    expect(cloudError("c", "read", "u", new Error("socket hang up"))).toBeInstanceOf(OperationalError);
  });

  test("statusOf reads the three clients' shapes", () => {
    expect(statusOf({ code: 404 })).toBe(404);
    expect(statusOf({ $metadata: { httpStatusCode: 403 } })).toBe(403);
    expect(statusOf({ response: { status: 500 } })).toBe(500);
    expect(statusOf("nope")).toBeUndefined();
  });
});
