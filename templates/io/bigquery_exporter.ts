/**
 * Exporter: the input into a BigQuery table with a load job (written as Parquet, uploaded with the job).
 * `replace` = WRITE_TRUNCATE (a re-run replaces the table), `append` = WRITE_APPEND, `fail` = WRITE_EMPTY.
 * The dataset is created when missing. To load a Parquet dataset already in GCS instead, call
 * `ctx.io.bigquery().loadFromGcs("gs://bucket/prefix/", table, { mode })`.
 * Profile (sluice.yaml):
 *   connections:
 *     warehouse: { kind: bigquery, project_id: my-project, dataset: zoomcamp, location: US, credentials_json: "{{ env_var('GCP_KEY_JSON') }}" }
 * Variables: `bq_table` (dataset.table, or a table in the profile's dataset), `mode`.
 * @sluice expects: table — its upstream's output arrives as `input`.
 */
import type { Table } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";

export default async function save(input: Table, ctx: BlockContext): Promise<void> {
  const table = String(ctx.variables.bq_table ?? "green_trips");
  const mode = ctx.variables.mode === "append" || ctx.variables.mode === "fail" ? ctx.variables.mode : "replace";
  const result = await ctx.io.bigquery().write(input, table, { mode });
  ctx.log.info(`loaded ${result.rows} rows into ${result.location}`);
}
