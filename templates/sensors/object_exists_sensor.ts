/**
 * Sensor: true once an object exists in GCS or S3 — the exact key of `gs://bucket/key` / `s3://bucket/key`, or,
 * for a URI ending in `/`, any object under that prefix (a partition that landed). Uses the default `gcs` / `s3`
 * connection of sluice.yaml, or the one named by `sensor_connection`.
 * Variables: `sensor_uri`, optional `sensor_connection`.
 * @sluice expects: nothing — a sensor has no input.
 */
import type { BlockContext } from "@sluice/sdk";

export default async function sense(ctx: BlockContext): Promise<boolean> {
  const uri = String(ctx.variables.sensor_uri ?? "gs://lake/green/_SUCCESS");
  const connection = ctx.variables.sensor_connection === undefined ? undefined : String(ctx.variables.sensor_connection);
  const bucket = uri.startsWith("s3://") ? ctx.io.s3(connection) : ctx.io.gcs(connection);
  const listing = await bucket.list(uri);
  const found = uri.endsWith("/") ? listing.objects.length > 0 : listing.objects.some((object) => object.uri === uri);
  if (found) ctx.log.info(uri.endsWith("/") ? `${listing.objects.length} object(s) under ${uri}` : `${uri} exists`);
  return found;
}
