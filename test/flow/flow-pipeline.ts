/**
 * One pipeline exercising the control flow, for the CLI tests on both executors:
 *
 * ```
 *                      ┌──► fetch[2020-10] ─┐
 *   months(dynamic) ───┼──► fetch[2020-11] ─┼──► fetch(reduce) ──┐
 *   (3 rows, key month)└──► fetch[2020-12] ─┘                     ├──► summary ──► cleanup(all_done)
 *                      └──► per_month[…] (SQL, {{ item.x }}) ─────┘
 *
 *   is_weekend(SQL: false) ··► weekend_report ──► after_weekend              (skipped)
 *   is_weekday(TS: true)   ··► weekday_report ──┬► report_join(none_failed_min_one_success)
 *                               weekend_report ─┘
 * ```
 * `fetch[2020-11]` fails while the flag file is missing; each instance sleeps so that parallel ones overlap.
 */
import { writePipeline } from "../write-pipeline";

export function writeFlowPipeline(projectDir: string, files: { flag: string; marker: string }): void {
  writePipeline(
    projectDir,
    "flow",
    `version: 1
name: flow
variables: { flag: ${JSON.stringify(files.flag)}, marker: ${JSON.stringify(files.marker)} }
blocks:
  - { name: months, type: loader, language: sql, dynamic: true, dynamic_key: month }
  - { name: fetch, type: transformer, language: ts, upstream: [months], reduce: true }
  - { name: per_month, type: transformer, language: sql, upstream: [months], reduce: true }
  - { name: summary, type: transformer, language: ts, upstream: [fetch, per_month] }
  - { name: cleanup, type: exporter, language: ts, upstream: [summary], trigger_rule: all_done }
  - { name: is_weekend, type: condition, language: sql }
  - { name: is_weekday, type: condition, language: ts }
  - { name: weekend_report, type: loader, language: ts, conditions: [is_weekend] }
  - { name: weekday_report, type: loader, language: ts, conditions: [is_weekday] }
  - { name: after_weekend, type: transformer, language: ts, upstream: [weekend_report] }
  - { name: report_join, type: transformer, language: ts, upstream: [weekend_report, weekday_report], trigger_rule: none_failed_min_one_success }
`,
    {
      "months.sql": "SELECT * FROM (VALUES ('2020-10', 1), ('2020-11', 2), ('2020-12', 3)) AS t(month, n)",
      "fetch.ts": `import fs from "node:fs";
export default async function fetch(input, ctx) {
  const started = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  if (ctx.item.month === "2020-11" && !fs.existsSync(String(ctx.variables.flag))) throw new Error("no flag for " + ctx.item.month);
  const row = { month: ctx.item.month, n: ctx.item.n, block: ctx.block, started, ended: Date.now() };
  // The last month has a column the others lack: the reduce unifies them.
  return [ctx.item.month === "2020-12" ? { ...row, extra: "late" } : row];
}`,
      "per_month.sql": "SELECT CAST({{ item.month }} AS VARCHAR) AS month, CAST({{ item.n }} AS INTEGER) * 10 AS tens",
      "summary.ts": `export default async function summary(input, ctx) {
  const rows = input.toArray().map((row) => row.toJSON());
  const sql = ctx.inputs.per_month.toArray().map((row) => row.toJSON());
  return [{
    months: rows.map((row) => row.month).join(","),
    blocks: rows.map((row) => row.block).join(","),
    extras: rows.map((row) => String(row.extra)).join(","),
    tens: sql.map((row) => row.month + "=" + row.tens).join(","),
  }];
}`,
      "cleanup.ts": `import fs from "node:fs";
export default async function cleanup(input, ctx) {
  fs.appendFileSync(String(ctx.variables.marker), "cleanup ran with inputs [" + Object.keys(ctx.inputs).join(",") + "]\\n");
}`,
      "is_weekend.sql": "SELECT false AS weekend",
      "is_weekday.ts": "export default async function isWeekday(ctx) { return true; }",
      "weekend_report.ts": `export default async function weekend(ctx) { return [{ path: "weekend" }]; }`,
      "weekday_report.ts": `export default async function weekday(ctx) { return [{ path: "weekday" }]; }`,
      "after_weekend.ts": "export default async function after(input, ctx) { return input; }",
      "report_join.ts": `export default async function join(input, ctx) { return [{ paths: Object.keys(ctx.inputs).join(",") }]; }`,
    },
  );
}
