import { createWriteStream } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import type { Table } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";

/**
 * One month's green taxi CSV.gz file (an instance per row of `months`, `ctx.item`) as a local file: a `file://`
 * or plain path as it is, an http(s) URL downloaded into `download_dir` (streamed to a temp name with progress,
 * then renamed into place, so a concurrent run never reads half a file). Returns one row: `month`, `path`, and the
 * slice's `pickup_from`/`pickup_to`.
 *
 * With `reduce: true` the instances' rows are gathered, in month order, into the one table named green_files:
 * load_green_taxi.sql reads those files in the run's DuckDB (`read_csv({{ upstream.green_files.path }}, …)`, the
 * months in parallel; the trips never pass through here), and the exporters take it as their first input — the
 * slice they replace.
 */
export default async function monthFile(_months: Table, ctx: BlockContext): Promise<Record<string, string>[]> {
  const item = ctx.item;
  if (!item || typeof item.month !== "string" || typeof item.url !== "string") {
    throw new Error("green_files runs once per row of the dynamic block months (month, url, pickup_from, pickup_to)");
  }
  const file = await localFile(item.url, ctx);
  return [{ month: item.month, path: file, pickup_from: String(item.pickup_from ?? ""), pickup_to: String(item.pickup_to ?? "") }];
}

/** A path DuckDB can read: local paths and file:// URLs as they are, http(s) streamed into `download_dir`. */
async function localFile(url: string, ctx: BlockContext): Promise<string> {
  if (url.startsWith("file://")) return fileURLToPath(url);
  if (!/^https?:\/\//.test(url)) return path.resolve(url);
  const response = await fetch(url, { signal: ctx.signal });
  if (!response.ok || !response.body) throw new Error(`GET ${url}: HTTP ${response.status} ${response.statusText}`);
  const total = Number(response.headers.get("content-length") ?? 0) || undefined;
  const dir = path.resolve(String(ctx.variables.download_dir));
  await mkdir(dir, { recursive: true });
  const target = path.join(dir, path.basename(new URL(url).pathname));
  const temp = `${target}.${ctx.runId}.part`;
  let bytes = 0;
  let reported = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      if (bytes - reported > 1 << 20) {
        reported = bytes;
        ctx.progress({ bytes, totalBytes: total, message: path.basename(target) });
      }
      callback(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(response.body as import("node:stream/web").ReadableStream), counter, createWriteStream(temp));
    await rename(temp, target);
  } finally {
    await rm(temp, { force: true });
  }
  ctx.progress({ bytes, totalBytes: total, message: path.basename(target) });
  ctx.log.info(`downloaded ${url} (${bytes.toLocaleString("en-US")} bytes)`);
  return target;
}

export async function test(output: Table) {
  if (output.numRows !== 1) throw new Error(`expected one row for the month's file, got ${output.numRows}`);
}
