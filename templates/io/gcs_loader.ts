/**
 * Loader: a Parquet dataset (a prefix ending in `/`: every Parquet object under it), a Parquet object or a
 * CSV(.gz) object from Google Cloud Storage into Arrow. Parquet keeps the file's types; CSV types are
 * detected from the whole file (or pass `columns` in a `{ uri, columns }` target).
 * Profile (sluice.yaml):
 *   connections:
 *     lake: { kind: gcs, bucket: my-bucket, project_id: my-project, credentials_json: "{{ env_var('GCP_KEY_JSON') }}" }
 * Variables: `gcs_uri` (gs://bucket/key, or a key in the profile's bucket).
 * @sluice expects: nothing — a loader has no upstream.
 */
import type { Table } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";

export default async function load(ctx: BlockContext): Promise<Table> {
  const uri = String(ctx.variables.gcs_uri ?? "green_taxi/");
  const table = await ctx.io.gcs().read(uri);
  ctx.log.info(`read ${table.numRows} rows from ${ctx.io.gcs().uri(uri)}`);
  return table;
}
