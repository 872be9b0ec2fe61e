import { memo } from "react";
import type { ColumnHistogram as Histogram } from "@/lib/core/output-types";
import { formatCount } from "../ui/format";
import { naiveReading } from "./preview-format";

const WIDTH = 120;
const HEIGHT = 22;

/**
 * An edge as people read it: a number as is (rounded to 4 significant digits); a time as ISO 8601 UTC
 * without trailing zero parts, or — for a column without a zone (`naive`) — as the same wall-clock reading
 * its cells show (`2024-01-01 08:19:57.001`), with no zone. A midnight edge shows as the date alone.
 */
function edgeText(value: number, kind: Histogram["kind"], naive: boolean): string {
  if (kind === "number") return Number.isInteger(value) ? formatCount(value) : String(Number(value.toPrecision(4)));
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  const iso = date.toISOString();
  if (iso.endsWith("T00:00:00.000Z")) return iso.slice(0, iso.indexOf("T"));
  return naive ? naiveReading(iso) : iso.replace(/\.000Z$/, "Z");
}

/** `[low, high)` for a bin, `[low, high]` for the last one (it holds its upper edge). */
export function binLabel(histogram: Histogram, bin: number, naive = false): string {
  const last = bin === histogram.counts.length - 1;
  const range = `[${edgeText(histogram.edges[bin], histogram.kind, naive)}, ${edgeText(histogram.edges[bin + 1], histogram.kind, naive)}${last ? "]" : ")"}`;
  return `${range}: ${formatCount(histogram.counts[bin])}`;
}

/**
 * A column's distribution as a small inline SVG of bars, one per bin, each with its range and count as a
 * tooltip. Heights are relative to the fullest bin; a non-empty bin keeps at least one pixel so that rare
 * values stay visible.
 */
export const ColumnHistogram = memo(function ColumnHistogram({ histogram, testId, naive = false }: { histogram: Histogram; testId: string; naive?: boolean }) {
  const { counts } = histogram;
  const peak = Math.max(1, ...counts);
  const barWidth = WIDTH / counts.length;
  return (
    <svg className="col-histogram" width={WIDTH} height={HEIGHT} viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label="histogram" data-testid={testId} style={{ display: "block", marginTop: 2 }}>
      {counts.map((count, bin) => {
        const height = count === 0 ? 0 : Math.max(1, (count / peak) * HEIGHT);
        return (
          <g key={bin}>
            {/* The full-height transparent rect makes the whole column hoverable, not only the bar. */}
            <rect x={bin * barWidth} y={0} width={barWidth} height={HEIGHT} fill="transparent">
              <title>{binLabel(histogram, bin, naive)}</title>
            </rect>
            <rect x={bin * barWidth + 0.5} y={HEIGHT - height} width={Math.max(0.5, barWidth - 1)} height={height} style={{ fill: "var(--color-text-muted)" }} pointerEvents="none" data-count={count} />
          </g>
        );
      })}
    </svg>
  );
});
