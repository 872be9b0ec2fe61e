/**
 * Loader: a Parquet dataset (a prefix ending in `/`), a Parquet object or a CSV(.gz) object from Amazon S3
 * (or an S3-compatible store) into Arrow. Parquet keeps the file's types; CSV types are detected from the
 * whole file (or pass `columns` in a `{ uri, columns }` target).
 * Profile (sluice.yaml):
 *   connections:
 *     raw: { kind: s3, bucket: my-bucket, region: eu-west-1, access_key_id: "{{ env_var('AWS_ACCESS_KEY_ID') }}", secret_access_key: "{{ env_var('AWS_SECRET_ACCESS_KEY') }}" }
 * Variables: `s3_uri` (s3://bucket/key, or a key in the profile's bucket).
 * @sluice expects: nothing — a loader has no upstream.
 */
import type { Table } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";

export default async function load(ctx: BlockContext): Promise<Table> {
  const uri = String(ctx.variables.s3_uri ?? "green_taxi/");
  const table = await ctx.io.s3().read(uri);
  ctx.log.info(`read ${table.numRows} rows from ${ctx.io.s3().uri(uri)}`);
  return table;
}
