import { writeFileSync } from "node:fs";
import type { Table } from "apache-arrow";
import type { BlockContext } from "@sluice/sdk";

/** Writes every row as JSON (bigints as strings) to `variables.out_file`, with the Arrow type of each column. */
export default async function save(input: Table, ctx: BlockContext): Promise<void> {
  const out = ctx.variables.out_file;
  if (typeof out !== "string") throw new Error("variables.out_file must be a path");
  const types = Object.fromEntries(input.schema.fields.map((f) => [f.name, String(f.type)]));
  const rows = input.toArray().map((row) => row.toJSON());
  writeFileSync(out, JSON.stringify({ types, rows }, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value)));
  ctx.log.info(`saved ${rows.length} rows`);
}
