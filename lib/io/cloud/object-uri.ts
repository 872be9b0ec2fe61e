import { UserError } from "../../core/errors";

/** A bucket and an object key (or key prefix) parsed from `gs://bucket/key` or `s3://bucket/key`. */
export interface ObjectLocation {
  bucket: string;
  key: string;
}

/**
 * Parses a bucket URI of the given scheme. Why strict: a typo such as `gs:/bucket` or the wrong scheme
 * for the connector would otherwise surface later as a confusing 404 from the service.
 */
export function parseObjectUri(uri: string, scheme: "gs" | "s3", connector: string): ObjectLocation {
  const match = /^([a-z0-9]+):\/\/([^/]+)(?:\/(.*))?$/.exec(uri);
  if (!match || match[1] !== scheme) {
    throw new UserError("bad_object_uri", `${connector}: "${uri}" is not a ${scheme}://bucket/key URI`);
  }
  return { bucket: match[2], key: match[3] ?? "" };
}

/** Formats a location back into its URI, for messages and results. */
export function formatObjectUri(scheme: "gs" | "s3", location: ObjectLocation): string {
  return `${scheme}://${location.bucket}/${location.key}`;
}

/** Joins a key prefix and a relative path with exactly one `/`. */
export function joinKey(prefix: string, path: string): string {
  if (prefix === "") return path;
  return prefix.endsWith("/") ? prefix + path : `${prefix}/${path}`;
}
