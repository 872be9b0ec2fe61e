import { Float64, Table, Utf8, vectorFromArray } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";

/**
 * The cleaned trips to GCS as a Parquet dataset partitioned hive-style like the local lake
 * (`<gcs_uri>lpep_pickup_date=2020-10-01/source_month=2020-10/part-….parquet`), replacing only the partitions
 * of the run's rows: their new files go up first, then their older objects are deleted; other dates' objects
 * stay. Returns every object of the dataset (uri, bytes), so `to_bigquery` runs after it and loads the whole
 * lake. Needs a `gcs` connection in sluice.yaml; off unless `export_gcs` is true. Its first input is green_files
 * (the slice), so the trips are decoded only when it is on (`ctx.inputs.clean_trips`).
 */
export default async function toGcs(_files: Table, ctx: BlockContext): Promise<Table> {
  if (ctx.variables.export_gcs !== true) {
    ctx.log.info("skipped: set export_gcs=true (and a gcs connection in sluice.yaml) to write the lake to GCS");
    return manifest([], []);
  }
  const gcs = ctx.io.gcs(String(ctx.variables.gcs_connection));
  const prefix = gcs.uri(String(ctx.variables.gcs_uri));
  const result = await gcs.write(ctx.inputs.clean_trips, prefix, { mode: "replace", partitionBy: ["lpep_pickup_date", "source_month"], partitionOverwrite: "partitions" });
  const { objects } = await gcs.list(result.location);
  ctx.log.info(`wrote ${result.rows.toLocaleString("en-US")} rows to ${result.location} (${objects.length} objects)`);
  return manifest(
    objects.map((o) => o.uri),
    objects.map((o) => o.size),
  );
}

function manifest(uris: string[], sizes: number[]): Table {
  return new Table({ uri: vectorFromArray(uris, new Utf8()), bytes: vectorFromArray(sizes, new Float64()) });
}
