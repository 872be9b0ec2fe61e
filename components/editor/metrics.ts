/** Records a measured moment for the benchmark (bench/editor-preview.ts reads `window.sluiceMetrics`). */
export function recordMetric(name: string, detail: Record<string, string | number>): void {
  if (typeof window === "undefined") return;
  const target: { sluiceMetrics?: { name: string; at: number; detail: Record<string, string | number> }[] } & Window = window;
  target.sluiceMetrics ??= [];
  target.sluiceMetrics.push({ name, at: Date.now(), detail });
}
