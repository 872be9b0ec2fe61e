/**
 * Loader: copies every object under a bucket prefix to another bucket — S3 → GCS as GCP's Storage Transfer
 * Service does it in the Zoomcamp, or GCS → S3, or within one service — object by object (streamed, a few at
 * once), retrying network errors, skipping objects already there with the same size and MD5 (a re-run copies
 * only what is new or changed). Returns one row: objects and bytes copied, skipped, kept, and how long it took.
 * Profiles (sluice.yaml):
 *   connections:
 *     raw: { kind: s3, region: us-east-1, access_key_id: "{{ env_var('AWS_ACCESS_KEY_ID') }}", secret_access_key: "{{ env_var('AWS_SECRET_ACCESS_KEY') }}" }
 *     lake: { kind: gcs, project_id: my-project, credentials_file: keys/gcs.json }
 * Variables: `transfer_from` (s3://bucket/prefix/), `transfer_to` (gs://bucket/prefix/), optional
 * `transfer_prefix` (only keys under it), `transfer_overwrite` (false keeps objects that differ).
 * @sluice expects: nothing — a loader has no upstream.
 */
import type { BlockContext, Row } from "@sluice/sdk";

export default async function load(ctx: BlockContext): Promise<Row[]> {
  const from = String(ctx.variables.transfer_from ?? "s3://raw-trips/tlc/green/");
  const to = String(ctx.variables.transfer_to ?? "gs://lake/green/");
  const prefix = ctx.variables.transfer_prefix === undefined ? undefined : String(ctx.variables.transfer_prefix);
  const summary = await ctx.io.transfer({ from, to, prefix, overwrite: ctx.variables.transfer_overwrite !== false });
  ctx.log.info(
    `${from} → ${to}: copied ${summary.objects} objects (${summary.bytes} bytes), skipped ${summary.skipped} already there` +
      `${summary.kept > 0 ? `, kept ${summary.kept} that differ` : ""} in ${(summary.durationMs / 1000).toFixed(1)} s`,
  );
  return [{ from, to, ...summary }];
}
