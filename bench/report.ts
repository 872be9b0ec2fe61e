/** One measured line: the value beside its baseline from the same run, and the design's target. */
export interface BenchRow {
  bench: string;
  metric: string;
  value: string;
  baseline: string;
  target: string;
}

export function printTable(rows: BenchRow[]): void {
  const headers: BenchRow = { bench: "bench", metric: "metric", value: "sluice", baseline: "baseline (same run)", target: "target" };
  const keys = Object.keys(headers) as (keyof BenchRow)[];
  const widths = keys.map((k) => Math.max(headers[k].length, ...rows.map((r) => r[k].length)));
  const line = (r: BenchRow) => "| " + keys.map((k, i) => r[k].padEnd(widths[i])).join(" | ") + " |";
  console.log(line(headers));
  console.log("|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|");
  for (const r of rows) console.log(line(r));
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export const ms = (value: number) => `${value.toFixed(value < 10 ? 2 : 0)} ms`;
export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

/** Samples the process RSS (worker threads included) until stopped; returns the peak. */
export function rssSampler(intervalMs = 20): { stop(): number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss());
    },
  };
}
