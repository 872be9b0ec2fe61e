import type { Table } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";

/**
 * Loads the GCS dataset `to_gcs` lists — the whole lake, every run's dates — into BigQuery with a load job
 * (Parquet, write disposition WRITE_TRUNCATE), so the table mirrors the lake: a run, a backfill date or a
 * re-run of one date all leave it equal to the lake, and the load that starts last sees every upload that
 * finished before it. `bq_table` is `dataset.table`, or a table in the connection's `dataset`; the dataset is
 * created when missing. Needs a `bigquery` connection in sluice.yaml; off unless `load_bigquery` is true (and
 * `export_gcs`, which writes what it loads).
 */
export default async function save(objects: Table, ctx: BlockContext): Promise<void> {
  if (ctx.variables.load_bigquery !== true) {
    ctx.log.info("skipped: set load_bigquery=true (with export_gcs=true and a bigquery connection in sluice.yaml) to load BigQuery");
    return;
  }
  if (objects.numRows === 0) throw new Error("to_gcs wrote no objects: set export_gcs=true so there is a dataset to load");
  const uris = Array.from(objects.getChild("uri") ?? [], String);
  const table = String(ctx.variables.bq_table);
  const load = await ctx.io.bigquery(String(ctx.variables.bq_connection)).loadFromGcs(uris, table, { mode: "replace", format: "parquet" });
  ctx.log.info(`loaded ${load.rows.toLocaleString("en-US")} rows from ${uris.length} objects into ${load.table} (job ${load.jobId})`);
}
