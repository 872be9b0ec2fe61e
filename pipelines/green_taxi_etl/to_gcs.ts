import { Float64, Table, Utf8, vectorFromArray } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";

/**
 * The cleaned trips to GCS as a Parquet dataset partitioned hive-style by pickup date
 * (`<gcs_uri>lpep_pickup_date=2020-10-01/part-….parquet`), replaced on every run: the new files go up first,
 * then the prefix's older objects are deleted. Returns the dataset's objects (uri, bytes), so `to_bigquery`
 * runs after it and a run's output shows what was written. Needs a `gcs` connection in sluice.yaml; off
 * unless `export_gcs` is true.
 */
export default async function toGcs(input: Table, ctx: BlockContext): Promise<Table> {
  if (ctx.variables.export_gcs !== true) {
    ctx.log.info("skipped: set export_gcs=true (and a gcs connection in sluice.yaml) to write the lake to GCS");
    return manifest([], []);
  }
  const gcs = ctx.io.gcs(String(ctx.variables.gcs_connection));
  const prefix = gcs.uri(String(ctx.variables.gcs_uri));
  const result = await gcs.write(input, prefix, { mode: "replace", partitionBy: ["lpep_pickup_date"] });
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
